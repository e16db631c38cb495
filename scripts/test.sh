#!/usr/bin/env bash
# The whole test suite: installs what it needs (the reference RabbitMQ included), builds,
# starts a throwaway RabbitMQ 3.10.8 on loopback, and runs
#   - every CTest test: unit tests, packaging, examples on the emulator, and the live tests
#     (the rabbitmq-c backend, the examples against RabbitMQ) through WARREN_TEST_AMQP_URL;
#   - the conformance suite against the goldens recorded from RabbitMQ 3.10.8, the emulator
#     against the live broker, and the live broker against the goldens; the management API's
#     request sequence against the live broker's management plugin and its goldens;
#   - warren-server built with AddressSanitizer and UBSan: its socket tests, then (keeping a
#     data directory) the conformance suite, the management API's request sequence against its
#     goldens, and the pika / amqplib / amqp-tools interop programs and rabbitmqadmin through
#     it, a clean exit on SIGTERM with no leak, the web console's pages in headless Chromium,
#     and the crash test: SIGKILL at random points under confirmed publishes and acknowledged
#     consumes, nothing confirmed lost, nothing acknowledged back, damaged journals survived.
# Any failure fails the run; RabbitMQ is stopped on the way out.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --live

# A port of its own, so a broker a developer runs on 5672 is left alone.
export WARREN_RABBITMQ_DIR=${WARREN_RABBITMQ_DIR:-$(mktemp -d /tmp/warren-rabbitmq.XXXXXX)}
export WARREN_RABBITMQ_PORT=${WARREN_RABBITMQ_PORT:-5673}
export WARREN_RABBITMQ_DIST_PORT=${WARREN_RABBITMQ_DIST_PORT:-25673}
export WARREN_RABBITMQ_MGMT_PORT=${WARREN_RABBITMQ_MGMT_PORT:-15673}
# The management plugin, for the management API's conformance check.
export WARREN_RABBITMQ_PLUGINS=${WARREN_RABBITMQ_PLUGINS:-rabbitmq_management}
trap 'scripts/rabbitmq.sh stop' EXIT
# The broker boots while warren builds.
scripts/rabbitmq.sh start >"$WARREN_RABBITMQ_DIR.url" &
broker_start=$!

scripts/build.sh

wait "$broker_start" || { echo "test.sh: RabbitMQ did not start" >&2; exit 1; }
url=$(cat "$WARREN_RABBITMQ_DIR.url")
export WARREN_TEST_AMQP_URL=$url
# The retry example waits out its delay queue for real against RabbitMQ; half a second will do.
export WARREN_EXAMPLE_RETRY_DELAY_MS=500
echo "== RabbitMQ at $url"

echo "== CTest: unit, packaging, examples, live backend and examples"
(cd build && ctest --output-on-failure -j "$(nproc)")

echo "== a short fuzz run of every decoder, the connection input path and the management API's request path and the data directory's journal (Clang, libFuzzer)"
fuzz/run.sh build-fuzz "${WARREN_FUZZ_SECONDS:-10}"

conformance=build/conformance/warren-conformance
echo "== conformance: the emulator against the goldens recorded from RabbitMQ 3.10.8"
$conformance --target inproc --golden conformance/golden
echo "== conformance: the emulator against RabbitMQ, live"
$conformance --target inproc --target "$url"
echo "== conformance: RabbitMQ against the goldens"
$conformance --target "$url" --golden conformance/golden
echo "== management API conformance: RabbitMQ against the goldens recorded from 3.10.8"
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$WARREN_RABBITMQ_MGMT_PORT") 2>/dev/null && break; sleep 0.1; done
/usr/bin/python3 conformance/management/mgmt_conformance.py --url "http://127.0.0.1:$WARREN_RABBITMQ_MGMT_PORT" \
  --amqp-port "$WARREN_RABBITMQ_PORT" --golden conformance/management/golden.json

echo "== warren-server with AddressSanitizer (leaks included) and UBSan: its socket tests"
# The same sanitized binary then serves the conformance suite and the interop programs below, and
# must exit cleanly on SIGTERM: a leak, an overflow or undefined behaviour anywhere fails the run.
cmake -S . -B build-asan -G Ninja -DWARREN_SANITIZE=ON -DWARREN_BUILD_EXAMPLES=OFF \
  -DWARREN_BUILD_BENCH=OFF -DWARREN_BUILD_CONFORMANCE=OFF -DWARREN_INSTALL=OFF >/dev/null
cmake --build build-asan -j "$(nproc)" --target warren-server warren-tests-server
build-asan/tests/warren-tests-server

echo "== warren-server (sanitized) on a free port, keeping its state in a data directory"
# With --data-dir every confirm and reply waits for the journal's fsync: the suites below then
# also prove that durability changes nothing a client observes.
rm -rf "$WARREN_RABBITMQ_DIR.data"
build-asan/server/warren-server --port 0 --management-port 0 --log-level warning \
  --data-dir "$WARREN_RABBITMQ_DIR.data" >"$WARREN_RABBITMQ_DIR.server" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; scripts/rabbitmq.sh stop' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$WARREN_RABBITMQ_DIR.server" && break; sleep 0.1; done
port=$(sed -n '/listening on/{s/.*listening on [^ ]*:\([0-9]*\).*/\1/p;q}' "$WARREN_RABBITMQ_DIR.server")
server_url="amqp://guest:guest@127.0.0.1:${port:?warren-server did not start}/%2f"
mgmt_port=$(sed -n 's|.*management API and console on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$WARREN_RABBITMQ_DIR.server")
echo "== management API conformance: warren-server against the goldens recorded from RabbitMQ 3.10.8"
/usr/bin/python3 conformance/management/mgmt_conformance.py --url "http://127.0.0.1:${mgmt_port:?no management port}" \
  --amqp-port "$port" --golden conformance/management/golden.json --wait-timeout 2
echo "== conformance: warren-server against the goldens recorded from RabbitMQ 3.10.8"
$conformance --target "$server_url" --golden conformance/golden
echo "== interop: pika, amqplib and amqp-tools programs, RabbitMQ against warren-server"
interop/run.sh "$url" "$server_url"
echo "== interop: rabbitmqadmin, RabbitMQ's management plugin against warren-server's management API"
interop/rabbitmqadmin.sh "127.0.0.1:$WARREN_RABBITMQ_MGMT_PORT" "127.0.0.1:$mgmt_port"
echo "== warren-server exits cleanly on SIGTERM"
kill "$server"
wait "$server" || {
  cat "$WARREN_RABBITMQ_DIR.server" >&2
  echo "test.sh: warren-server did not exit cleanly on SIGTERM (its output is above)" >&2
  exit 1
}
trap 'scripts/rabbitmq.sh stop' EXIT
echo "== web console: every page in headless Chromium against warren-server (sanitized)"
tests/console/run.sh build-asan/server/warren-server
echo "== warren-server --data-dir (sanitized) killed with SIGKILL at random points: nothing confirmed lost, nothing acknowledged back"
/usr/bin/python3 tests/crash/crash_test.py build-asan/server/warren-server --rounds "${WARREN_CRASH_ROUNDS:-8}"
echo "== all passed"
