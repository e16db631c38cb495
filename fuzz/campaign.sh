#!/usr/bin/env bash
# A long fuzz campaign, run by hand outside CI (see docs/fuzzing.md). Builds warren's libFuzzer
# targets with Clang (address and undefined-behaviour sanitizers) in BUILD_DIR exactly as
# fuzz/run.sh does, then runs each target, one after another in one process, for exactly RUNS
# executions (libFuzzer's -runs; default 10000000). MAX_SECONDS (default 0, no limit) caps each
# target's wall time for targets too slow to reach RUNS; the executions really done are reported.
# TARGET... limits the campaign to the targets named (default: all of them).
#
# Each target fuzzes from a working corpus BUILD_DIR/campaign-corpus/<target>, seeded by the
# committed fuzz/corpus/<target> (read, never written). A crash, leak, timeout, out-of-memory or
# sanitizer report leaves its reproducer in BUILD_DIR/campaign-artifacts/<target>/ and makes the
# script exit non-zero after the remaining targets have run. Logs: BUILD_DIR/campaign-<target>.log.
# One line per target is printed and appended to BUILD_DIR/campaign-summary.txt.
#
# management_request runs with -detect_leaks=0: its Broker lives across 500 inputs, so most
# inputs allocate more than they free, and libFuzzer then runs each of them again under a full
# LeakSanitizer scan of a heap that grows to 500 MB; that cut its rate from about 1,600 to 200
# executions a second. LeakSanitizer still checks the whole process when it exits, and the
# 10-second runs of fuzz/run.sh (in the test command) keep the per-input check. Its RSS limit is
# 8 GiB, not 2: AddressSanitizer's quarantine of freed memory (256 MB) and its allocator's size
# classes took it to 0.9 GB in 300,000 executions, still rising (docs/fuzzing.md).
#
# AddressSanitizer runs with malloc_context_size=0 unless ASAN_OPTIONS says otherwise: it then
# keeps no stack for each allocation and free, which is where management_request spent 45% of
# its time (StackDepot::Put) after ten minutes. What ASan detects is the same; run a reproducer
# again without it for a report with the allocation and free stacks.
#
# A fuzzer stopped with SIGINT (kill -INT on its pid, to end a campaign early) reports "ok
# (interrupted: SIGINT)" with the executions it did, not a crash: libFuzzer then exits 72 having
# written no reproducer.
#
# Runs at the lowest CPU priority (re-executes itself under nice -n 19).
#
#   fuzz/campaign.sh BUILD_DIR [RUNS [MAX_SECONDS [TARGET...]]]
set -euo pipefail

if [ "$(nice)" -lt 19 ]; then
  exec nice -n 19 "$0" "$@"
fi

usage="usage: fuzz/campaign.sh BUILD_DIR [RUNS [MAX_SECONDS [TARGET...]]]"
build=${1:?$usage}
runs=${2:-10000000}
max_seconds=${3:-0}
shift $(($# < 3 ? $# : 3))
all_targets=(frame method content_header field_table server_connection management_request journal)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
for target in "${targets[@]}"; do
  case " ${all_targets[*]} " in
    *" $target "*) ;;
    *) echo "unknown target: $target (targets: ${all_targets[*]})" >&2; exit 2 ;;
  esac
done
case "$runs$max_seconds" in *[!0-9]*) echo "$usage" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0}
mkdir -p "$build"
build=$(cd "$build" && pwd)

# The same build as fuzz/run.sh.
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build"

summary=$build/campaign-summary.txt
commit=$(git -C "$here" describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') commit $commit runs=$runs max_seconds=$max_seconds ASAN_OPTIONS=$ASAN_OPTIONS" \
       "cpu='$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)' nproc=$(nproc)"
  printf '%-20s %12s %10s %10s %12s  %s\n' target executions wall_s exec_per_s peak_rss_mb result
} | tee -a "$summary"

status=0
for target in "${targets[@]}"; do
  corpus=$build/campaign-corpus/$target
  artifacts=$build/campaign-artifacts/$target
  log=$build/campaign-$target.log
  mkdir -p "$corpus" "$artifacts"
  limit=()
  if [ "$max_seconds" -gt 0 ]; then limit=(-max_total_time="$max_seconds"); fi
  rss_limit=2048
  if [ "$target" = management_request ]; then limit+=(-detect_leaks=0); rss_limit=8192; fi
  start=$(date +%s.%N)
  rc=0
  "$build/warren-fuzz-$target" "$corpus" "$here/corpus/$target" \
      -runs="$runs" "${limit[@]}" -max_len=16384 -timeout=10 -rss_limit_mb="$rss_limit" \
      -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  end=$(date +%s.%N)

  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  peak_rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)
  wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }')
  rate=$(awk -v n="${executions:-0}" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
  if [ "$rc" -eq 0 ]; then
    result=ok
    if [ "${executions:-0}" -lt "$runs" ]; then result="ok (stopped by MAX_SECONDS)"; fi
  elif grep -q '^==[0-9]*== libFuzzer: run interrupted; exiting$' "$log" \
       && ! grep -q 'Test unit written to' "$log"; then
    # SIGINT to the fuzzer (a campaign stopped by hand): libFuzzer exits 72 without a finding.
    result="ok (interrupted: SIGINT)"
  else
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
    result="crash (exit $rc): ${artifact:-no artifact, see $log}"
    status=1
  fi
  printf '%-20s %12s %10s %10s %12s  %s\n' "$target" "${executions:-?}" "$wall" "$rate" \
    "${peak_rss:-?}" "$result" | tee -a "$summary"
done
exit $status
