#!/usr/bin/env bash
# The whole test suite: installs what it needs (the reference RabbitMQ included), builds,
# runs the unit tests, then starts RabbitMQ 3.10.8 and runs the conformance suite live against
# it and against the recorded goldens, and the examples against it. Any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --live
scripts/build.sh

echo "== unit tests, examples on the emulator, packaging"
(cd build && ctest --output-on-failure -j "$(nproc)")

echo "== conformance against the goldens recorded from RabbitMQ 3.10.8"
build/conformance/warren-conformance --target inproc --golden conformance/golden

echo "== starting RabbitMQ"
export WARREN_RABBITMQ_DIR=${WARREN_RABBITMQ_DIR:-$(mktemp -d /tmp/warren-rabbitmq.XXXXXX)}
export WARREN_RABBITMQ_PORT=${WARREN_RABBITMQ_PORT:-5673}
export WARREN_RABBITMQ_DIST_PORT=${WARREN_RABBITMQ_DIST_PORT:-25673}
export WARREN_RABBITMQ_MGMT_PORT=${WARREN_RABBITMQ_MGMT_PORT:-15673}
url=$(scripts/rabbitmq.sh start)
trap 'scripts/rabbitmq.sh stop' EXIT

echo "== rabbitmq-c backend against $url"
WARREN_TEST_AMQP_URL=$url build/tests/warren-tests-amqp

echo "== conformance: emulator vs RabbitMQ, live"
build/conformance/warren-conformance --target inproc --target "$url"
echo "== conformance: RabbitMQ vs the goldens"
build/conformance/warren-conformance --target "$url" --golden conformance/golden

echo "== examples against RabbitMQ: same output as on the emulator"
for expected in examples/expected/*.txt; do
  name=$(basename "$expected" .txt)
  if ! diff -u "$expected" <(build/examples/warren-example-"$name" --url "$url"); then
    echo "example $name differs on RabbitMQ" >&2
    exit 1
  fi
done
echo "== all passed"
