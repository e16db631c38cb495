#!/usr/bin/env bash
# The main job: installs what warren needs, builds it, and runs the tour of tutorial examples
# on the in-process emulator. With --url amqp://..., runs the same tour against that broker.
set -euo pipefail
cd "$(dirname "$0")/.."
url=()
case "${1:-}" in
  --url) url=("$2") ;;
  --url=*) url=("${1#--url=}") ;;
  "") ;;
  *) echo "usage: $0 [--url amqp://user:pass@host:port/vhost]" >&2; exit 2 ;;
esac
scripts/install-deps.sh
scripts/build.sh
exec examples/run-all.sh build "${url[@]}"
