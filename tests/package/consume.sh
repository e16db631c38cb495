#!/usr/bin/env bash
# Builds the consumer project against warren both ways a user would, and runs it:
#   consume.sh SOURCE_DIR BUILD_DIR WORK_DIR add_subdirectory|find_package
set -euo pipefail
src=$1 build=$2 work=$3 mode=$4
rm -rf "$work" && mkdir -p "$work"
if [ "$mode" = find_package ]; then
  cmake --install "$build" --prefix "$work/prefix" >/dev/null
  # A build with warren-server installs it too, and the installed copy runs.
  if [ -x "$build/server/warren-server" ]; then
    "$work/prefix/bin/warren-server" --version | grep -q '^warren-server ' ||
      { echo "the installed warren-server does not run" >&2; exit 1; }
  fi
  cmake -S "$src/tests/package/consumer" -B "$work/build" -G Ninja \
    -DWARREN_CONSUME=find_package -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
else
  cmake -S "$src/tests/package/consumer" -B "$work/build" -G Ninja \
    -DWARREN_CONSUME=add_subdirectory -DWARREN_SOURCE_DIR="$src" >/dev/null
fi
cmake --build "$work/build" >/dev/null
out=$("$work/build/consumer")
[ "$out" = "received Hello World!" ] || { echo "unexpected output: $out" >&2; exit 1; }
echo "consumer via $mode: $out"
