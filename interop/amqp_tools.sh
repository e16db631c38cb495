#!/usr/bin/env bash
# rabbitmq-c's command-line tools (Debian's amqp-tools) against a broker: declare a queue,
# publish to it, get and consume from it, delete it. Prints what the tools print, with this run's
# id replaced by <run>, and each tool's exit status.
#
#   interop/amqp_tools.sh amqp://guest:guest@127.0.0.1:5672/%2f
set -uo pipefail
url=${1:?usage: amqp_tools.sh AMQP_URL}
run=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
queue=interop-tools-$run
other=interop-tools-durable-$run
# Whatever a failed step leaves behind is deleted on the way out.
trap 'for q in "$queue" "$other"; do amqp-delete-queue -u "$url" -q "$q" >/dev/null 2>&1; done' EXIT

# Runs a tool; its stdout and stderr (joined, then a newline if it printed none), then its status.
step() {
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  out=${out//$run/<run>}
  printf '$ %s\n' "$(printf '%s ' "${@:1:1}" "${@:4}" | sed "s/$run/<run>/g")"
  [ -n "$out" ] && printf '%s\n' "$out"
  printf '[exit %d]\n' "$rc"
}

step amqp-declare-queue -u "$url" -q "$queue"
step amqp-declare-queue -u "$url" -q "$other" -d
# Redeclaring with another durability is refused: 406 PRECONDITION_FAILED.
step amqp-declare-queue -u "$url" -q "$other"

for i in 1 2 3 4 5 6; do
  step amqp-publish -u "$url" -r "$queue" -b "message $i"
done
step amqp-publish -u "$url" -r "$queue" -p -C text/plain -E identity -H "x-kind: persisted" -b "message 7"
printf 'line one\nline two\n' | step amqp-publish -u "$url" -r "$queue" -l

step amqp-get -u "$url" -q "$queue"
# amqp-consume pipes each body to a fresh command's standard input.
step amqp-consume -u "$url" -q "$queue" -c 3 -- sh -c 'printf "consumed: %s\n" "$(cat)"'
step amqp-consume -u "$url" -q "$queue" -c 2 -p 1 -- sh -c 'printf "consumed one at a time: %s\n" "$(cat)"'
step amqp-get -u "$url" -q "$queue"
step amqp-consume -u "$url" -q "$queue" -c 1 -- sh -c 'printf "consumed: %s\n" "$(cat)"'
# One message left: a no-ack consumer takes it.
step amqp-consume -u "$url" -q "$queue" -c 1 -A -- sh -c 'printf "consumed without ack: %s\n" "$(cat)"'
# Now empty: amqp-get says nothing and exits 2.
step amqp-get -u "$url" -q "$queue"

# Through an exchange: the default exchange by name, and amq.direct with no binding (dropped).
step amqp-publish -u "$url" -e "" -r "$other" -b "via the default exchange"
step amqp-publish -u "$url" -e amq.direct -r "$other" -b "unbound: dropped"
step amqp-get -u "$url" -q "$other"
step amqp-get -u "$url" -q "$other"
step amqp-publish -u "$url" -e no-such-exchange-$run -r x -b "to nowhere"
step amqp-get -u "$url" -q "no-such-queue-$run"

step amqp-publish -u "$url" -r "$other" -b "left behind"
step amqp-delete-queue -u "$url" -q "$other" -e
step amqp-delete-queue -u "$url" -q "$other"
step amqp-delete-queue -u "$url" -q "$queue"
# RabbitMQ 3.10: deleting a queue that does not exist succeeds.
step amqp-delete-queue -u "$url" -q "$queue"
