#!/usr/bin/env bash
# Builds warren's libFuzzer targets with Clang (address and undefined-behaviour sanitizers) in
# BUILD_DIR and runs each for SECONDS (default 20) from its seed corpus in fuzz/corpus/<target>.
# New inputs go to BUILD_DIR/corpus/<target>, never into the committed seeds. A crash, leak or
# sanitizer report fails the script and leaves the reproducer in BUILD_DIR/artifacts/<target>/.
#
#   fuzz/run.sh build-fuzz [SECONDS]
set -euo pipefail

build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
seconds=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build"

status=0
for target in frame method content_header field_table server_connection management_request journal; do
  corpus=$build/corpus/$target
  artifacts=$build/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  echo "== warren-fuzz-$target: ${seconds}s"
  if ! "$build/warren-fuzz-$target" "$corpus" "$here/corpus/$target" \
        -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$build/$target.log" 2>&1; then
    echo "warren-fuzz-$target FAILED; see $build/$target.log and $artifacts/" >&2
    tail -n 40 "$build/$target.log" >&2
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/$target.log" | sed 's/^/   /' || true
done
exit $status
