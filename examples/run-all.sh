#!/usr/bin/env bash
# The tour of the examples: runs every example program from a build directory, in the order
# of the tutorials, on the in-process emulator or, given a URL, against a real broker.
# Builds nothing.
#
#   examples/run-all.sh BUILD_DIR [amqp://guest:guest@localhost:5672/%2f]
#
# Exits non-zero when an example is missing or fails; the others still run.
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BUILD_DIR [AMQP_URL]" >&2
  exit 2
fi
build_dir=$1
url=${2:-}
examples=(hello_world sensors work_queue exchange_types reliability microservices event_log retry)

if [ -n "$url" ]; then
  printf 'warren examples against %s\n\n' "$url"
else
  printf 'warren examples on the in-process emulator\n\n'
fi

failed=()
for name in "${examples[@]}"; do
  program=$build_dir/examples/warren-example-$name
  echo "=== $name ==="
  if [ ! -x "$program" ]; then
    echo "$program: not built (cmake --build $build_dir)" >&2
    failed+=("$name")
  elif ! "$program" ${url:+--url "$url"}; then
    failed+=("$name")
  fi
  echo
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
