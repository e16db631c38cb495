#!/usr/bin/env bash
# The main job: installs what warren needs, builds it, and runs the tour of tutorial examples
# on the in-process emulator. With --url amqp://..., runs the same tour against that broker.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec examples/run-all.sh build "$@"
