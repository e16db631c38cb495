#!/usr/bin/env bash
# Runs every interop program -- the pika tutorial exercises (interop/pika/*.py), the amqplib
# programs (interop/amqplib/*.js, Node.js; amqplib is fetched from npm into
# interop/amqplib/node_modules on first use, at the version package.json pins) and the
# amqp-tools script -- against two brokers and diffs what each prints. One line per program; the diffs, if
# any, follow. Exits non-zero when any program's output differs, or when one fails on both.
#
#   interop/run.sh URL_A URL_B
#   interop/run.sh amqp://guest:guest@127.0.0.1:5672/%2f amqp://guest:guest@127.0.0.1:5699/%2f
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: interop/run.sh URL_A URL_B" >&2
  exit 64
fi
url_a=$1 url_b=$2
here=$(cd "$(dirname "$0")" && pwd)
python=${WARREN_INTEROP_PYTHON:-/usr/bin/python3}
out=$(mktemp -d /tmp/warren-interop.XXXXXX)

programs=()
for f in "$here"/pika/*.py; do
  case $(basename "$f") in _*) ;; *) programs+=("$f") ;; esac
done
for f in "$here"/amqplib/*.js; do
  case $(basename "$f") in _*) ;; *) programs+=("$f") ;; esac
done
programs+=("$here/amqp_tools.sh")

if [ ! -d "$here/amqplib/node_modules/amqplib" ]; then
  echo "interop: fetching amqplib from npm (interop/amqplib/package.json)"
  (cd "$here/amqplib" && npm install --no-audit --no-fund --no-package-lock --silent) || {
    echo "interop: npm install of amqplib failed" >&2
    exit 1
  }
fi

# Output and exit status of one program against one broker, bounded in time.
run_one() {
  local program=$1 url=$2 rc
  case $program in
    *.py) (cd "$here/pika" && timeout 60 "$python" "$program" "$url") ;;
    *.js) (cd "$here/amqplib" && timeout 60 node "$program" "$url") ;;
    *) timeout 60 bash "$program" "$url" ;;
  esac 2>&1
  rc=$?
  echo "[exit $rc]"
}

failed=0 diffs=()
for program in "${programs[@]}"; do
  name=$(basename "$program"); name=${name%.*}
  run_one "$program" "$url_a" >"$out/$name.a"
  run_one "$program" "$url_b" >"$out/$name.b"
  status_a=$(tail -n1 "$out/$name.a") lines=$(($(wc -l <"$out/$name.a") - 1))
  if ! diff -u --label "$name @ A" --label "$name @ B" "$out/$name.a" "$out/$name.b" >"$out/$name.diff"; then
    printf 'DIFFERS    %-20s %s vs %s\n' "$name" "$status_a" "$(tail -n1 "$out/$name.b")"
    failed=1 diffs+=("$name")
  elif [ "$status_a" != "[exit 0]" ]; then
    printf 'FAILED     %-20s same output, %s on both\n' "$name" "$status_a"
    failed=1 diffs+=("$name")
  else
    printf 'identical  %-20s %d lines\n' "$name" "$lines"
  fi
done

for name in "${diffs[@]}"; do
  echo "---- $name (A: $url_a, B: $url_b)"
  if [ -s "$out/$name.diff" ]; then cat "$out/$name.diff"; else cat "$out/$name.a"; fi
done
if [ $failed = 0 ]; then
  rm -rf "$out"
  echo "interop: ${#programs[@]} programs, identical on both brokers"
else
  echo "interop: ${#diffs[@]} of ${#programs[@]} programs differ or fail; outputs in $out"
fi
exit $failed
