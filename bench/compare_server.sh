#!/usr/bin/env bash
# warren-server against RabbitMQ 3.10.8, in the same run on the same machine: starts a RabbitMQ
# of its own (scripts/rabbitmq.sh, port 5681, state in /tmp/rmq-bench) and warren-server on a
# free port, runs bench/amqp_throughput.cpp (warren-amqp-bench, rabbitmq-c) against each, prints
# both sets of figures and their ratios as a Markdown table, and stops both brokers.
#
#   bench/compare_server.sh [warren-amqp-bench options, e.g. --seconds 1 --idle 500]
#
# Builds warren-server and warren-amqp-bench in $WARREN_BUILD_DIR (default build/) when needed;
# WARREN_SERVER and WARREN_AMQP_BENCH name other binaries. Under three minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${WARREN_BUILD_DIR:-build}
server=${WARREN_SERVER:-$build/server/warren-server}
bench=${WARREN_AMQP_BENCH:-$build/bench/warren-amqp-bench}
if [ -z "${WARREN_SERVER:-}" ] || [ -z "${WARREN_AMQP_BENCH:-}" ]; then
  [ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -G Ninja >/dev/null
  cmake --build "$build" --target warren-server warren-amqp-bench >/dev/null
fi

export WARREN_RABBITMQ_PORT=${WARREN_RABBITMQ_PORT:-5681}
export WARREN_RABBITMQ_DIST_PORT=${WARREN_RABBITMQ_DIST_PORT:-25681}
export WARREN_RABBITMQ_MGMT_PORT=${WARREN_RABBITMQ_MGMT_PORT:-15681}
export WARREN_RABBITMQ_DIR=${WARREN_RABBITMQ_DIR:-/tmp/rmq-bench}
# Debian's broker, run here, so that its resident memory can be read from /proc.
export WARREN_RABBITMQ_NO_DOCKER=1

load=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/warren-compare.XXXXXX)
server_pid="" rabbit_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  scripts/rabbitmq.sh stop >/dev/null || true
  # Should rabbitmqctl not have stopped it, the broker this script started goes all the same.
  if [ -n "$rabbit_pid" ] && kill -0 "$rabbit_pid" 2>/dev/null; then
    echo "compare_server.sh: rabbitmqctl did not stop RabbitMQ (pid $rabbit_pid); terminating it" >&2
    kill "$rabbit_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$rabbit_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$rabbit_pid" 2>/dev/null
  fi
  rm -rf "$work"
  return 0
}
trap cleanup EXIT

# Both can have many connections open at once.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Should the broker fail to boot, its crash dump goes here rather than into the work tree.
export ERL_CRASH_DUMP="$work/erl_crash.dump"
echo "== starting RabbitMQ on port $WARREN_RABBITMQ_PORT and warren-server" >&2
scripts/rabbitmq.sh start >"$work/rabbitmq.url" 2>"$work/rabbitmq.log" &
rabbit_start=$!

: >"$work/server.out"
# With a data directory, as RabbitMQ has one: "--modes persistent" then compares confirms that
# wait for the disk on both (the other modes use transient queues, which write nothing).
"$server" --bind 127.0.0.1 --port 0 --user guest:guest --vhost / --log-level warning \
  --data-dir "$work/warren-data" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
server_port=""
for _ in $(seq 1 100); do
  server_port=$(sed -n '/listening on/{s/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p;q}' "$work/server.out")
  [ -n "$server_port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "warren-server exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$server_port" ] || { echo "warren-server printed no port" >&2; exit 1; }
warren_url="amqp://guest:guest@127.0.0.1:$server_port/%2f"

if ! wait "$rabbit_start"; then
  cat "$work/rabbitmq.log" >&2
  grep -s '^Slogan' "$work/erl_crash.dump" >&2 || true
  echo "RabbitMQ did not start" >&2
  exit 1
fi
rabbit_url=$(cat "$work/rabbitmq.url")
rabbit_pid=$(cat "$WARREN_RABBITMQ_DIR/rabbit.pid")

# Two passes against each: one publisher and one consumer, then four of each (enough to keep a
# broker busy: one rabbitmq-c client is bound by its own system calls long before warren-server
# is); all of it twice (WARREN_COMPARE_ROUNDS), the brokers taking turns, and each broker's best
# throughput figure kept, so that a burst of load on the machine does not decide a ratio.
many=(--publishers 4 --consumers 4 --connects 0 --idle 0)
for round in $(seq 1 "${WARREN_COMPARE_ROUNDS:-2}"); do
  once=()
  [ "$round" = 1 ] || once=(--connects 0 --idle 0)
  echo "== round $round: RabbitMQ 3.10.8 at $rabbit_url (pid $rabbit_pid)" >&2
  "$bench" --url "$rabbit_url" --server-pid "$rabbit_pid" "$@" "${once[@]}" | tee -a "$work/rabbitmq.txt" >&2
  echo "== round $round: warren-server at $warren_url (pid $server_pid)" >&2
  "$bench" --url "$warren_url" --server-pid "$server_pid" "$@" "${once[@]}" | tee -a "$work/warren.txt" >&2
  echo "== round $round: RabbitMQ, four publishers and consumers" >&2
  "$bench" --url "$rabbit_url" --server-pid "$rabbit_pid" "$@" "${many[@]}" | tee -a "$work/rabbitmq-4.txt" >&2
  echo "== round $round: warren-server, four publishers and consumers" >&2
  "$bench" --url "$warren_url" --server-pid "$server_pid" "$@" "${many[@]}" | tee -a "$work/warren-4.txt" >&2
done

# key=value of a figure's line: value FILE FIGURE KEY [SIZE MODE]. With several rounds, KEY's
# value on the line with the best rate (so KEY=rate gives the best rate), or on the first line
# for figures without a rate.
value() {
  awk -v fig="$2" -v key="$3" -v size="${4:-}" -v mode="${5:-}" '
    $1 == fig {
      delete kv
      for (i = 2; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
      if ((size != "" && kv["size"] != size) || (mode != "" && kv["mode"] != mode)) next
      if (!found || ("rate" in kv && kv["rate"] + 0 > best + 0)) { best = kv["rate"]; out = kv[key] }
      found = 1
    }
    END { if (found) print out }' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

# The throughput rows of one pass: rows RABBITMQ_FILE WARREN_FILE N
cpu() { [ -n "$1" ] && echo "$1" || echo "-"; }
rows() {
  local s=""; [ "$3" = 1 ] || s=s
  grep '^publish' "$1" | awk '!seen[$2 " " $3]++' | while read -r _ rest; do
    size=${rest#size=}; size=${size%% *}
    mode=${rest#*mode=}; mode=${mode%% *}
    for fig in publish consume; do
      r=$(value "$1" "$fig" rate "$size" "$mode")
      w=$(value "$2" "$fig" rate "$size" "$mode")
      case $fig-$mode in
        publish-plain) how="$3 publisher$s, no confirms" ;;
        publish-*) how="$3 publisher$s, confirms" ;;
        consume-plain) how="$3 consumer$s, no-ack" ;;
        *) how="$3 consumer$s, manual acks" ;;
      esac
      echo "| $fig $size B, $how (msgs/s) | $r | $w | $(ratio "$w" "$r") |" \
        "$(cpu "$(value "$1" "$fig" server_cpu "$size" "$mode")") / $(cpu "$(value "$1" "$fig" client_cpu "$size" "$mode")") |" \
        "$(cpu "$(value "$2" "$fig" server_cpu "$size" "$mode")") / $(cpu "$(value "$2" "$fig" client_cpu "$size" "$mode")") |"
    done
  done
}

echo
echo "| figure | RabbitMQ 3.10.8 | warren-server | warren-server / RabbitMQ | cores used, RabbitMQ / clients | cores used, warren-server / clients |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
rows "$work/rabbitmq.txt" "$work/warren.txt" 1
rows "$work/rabbitmq-4.txt" "$work/warren-4.txt" 4
for key in median_ms p99_ms; do
  r=$(value "$work/rabbitmq.txt" connect "$key")
  w=$(value "$work/warren.txt" connect "$key")
  [ -n "$r$w" ] && echo "| connection set-up, ${key%_ms} (ms, lower is better) | $r | $w | $(ratio "$w" "$r") | | |"
done
n=$(value "$work/warren.txt" idle connections)
if [ -n "$n" ]; then
  for key in open_seconds server_rss_before_mb server_rss_mb; do
    r=$(value "$work/rabbitmq.txt" idle "$key")
    w=$(value "$work/warren.txt" idle "$key")
    case $key in
      open_seconds) label="$n connections opened one after another (s, lower is better)" ;;
      server_rss_before_mb) label="server memory before (RSS, MB, lower is better)" ;;
      *) label="server memory with $n idle connections (RSS, MB, lower is better)" ;;
    esac
    echo "| $label | $r | $w | $(ratio "$w" "$r") | | |"
  done
fi
echo
echo "$(nproc) cores; load average when the run started: $load"
