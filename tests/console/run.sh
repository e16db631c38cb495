#!/usr/bin/env bash
# Runs the web console's headless-Chromium test against a warren-server binary of your choice.
#
#   tests/console/run.sh WARREN_SERVER [SCREENSHOT_DIR]
#
# Starts WARREN_SERVER on free ports (AMQP and management), waits for its "listening on" and
# "management API and console on" lines, runs console_test.py against it (with --warren: the
# route-trace endpoint must answer), saves one PNG per page into SCREENSHOT_DIR when given, then
# stops the server with SIGTERM and requires a clean exit (status 0). Builds nothing. Needs
# chromium (apt-get install chromium) and /usr/bin/python3. Exits non-zero on any failure.
set -euo pipefail

server_bin=${1:?usage: tests/console/run.sh WARREN_SERVER [SCREENSHOT_DIR]}
shots=${2:-}
[ -x "$server_bin" ] || { echo "console/run.sh: $server_bin is not an executable" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)

log=$(mktemp /tmp/warren-console.XXXXXX)
server=""
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
trap 'stop_server; rm -f "$log"' EXIT

"$server_bin" --port 0 --management-port 0 --log-level warning >"$log" 2>&1 &
server=$!

mgmt=""
for _ in $(seq 1 300); do
  mgmt=$(sed -n 's|^warren-server: management API and console on \(http://[^ ]*\)/$|\1|p' "$log")
  amqp=$(sed -n 's|^warren-server: listening on [^ ]*:\([0-9]*\)$|\1|p' "$log")
  [ -n "$mgmt" ] && [ -n "$amqp" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$mgmt" ] || [ -z "$amqp" ]; then
  cat "$log" >&2
  echo "console/run.sh: $server_bin did not report its AMQP and management ports (its output is above)" >&2
  exit 1
fi
echo "console/run.sh: $server_bin on amqp port $amqp, console at $mgmt/"

args=(--url "$mgmt" --amqp-port "$amqp" --warren)
[ -n "$shots" ] && args+=(--screenshots "$shots")
status=0
/usr/bin/python3 "$here/console_test.py" "${args[@]}" || status=$?

# The server must still be up and must exit cleanly on SIGTERM.
pid=$server
server=""
if ! kill "$pid" 2>/dev/null; then
  cat "$log" >&2
  echo "console/run.sh: warren-server died during the test (its output is above)" >&2
  exit 1
fi
if ! wait "$pid"; then
  cat "$log" >&2
  echo "console/run.sh: warren-server did not exit cleanly on SIGTERM (its output is above)" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "console/run.sh: the console test failed" >&2
  exit "$status"
fi
