#!/usr/bin/env bash
# Installs the Debian packages warren builds and tests with. Idempotent: installs only what is
# missing, so a second run costs no network. Works as root or through sudo on Debian 12.
#
#   scripts/install-deps.sh          build and unit-test dependencies
#   scripts/install-deps.sh --live   also the reference broker and the clients used to check
#                                    against it (rabbitmq-server, python3-pika, amqp-tools,
#                                    Node.js and npm for amqplib, which interop/run.sh fetches
#                                    from npm), and Clang with libFuzzer for the short fuzz run
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config libfmt-dev catch2 librabbitmq-dev libboost1.81-dev libboost-json1.81-dev)
if [ "${1:-}" = "--live" ]; then
  packages+=(rabbitmq-server python3-pika amqp-tools clang libclang-rt-14-dev chromium)
  # Debian's nodejs and npm, unless a Node.js with its own npm is installed already.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
# The package's init script cannot start a service here (no init system); that is expected,
# scripts/rabbitmq.sh starts the broker itself.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
