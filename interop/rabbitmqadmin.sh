#!/usr/bin/env bash
# rabbitmqadmin, the command-line tool shipped with RabbitMQ's management plugin, against the
# management HTTP API of two brokers: one fixed sequence of commands (declare a vhost, its
# exchanges, queues and bindings; list them; publish; get with each ackmode; purge; delete; and
# a few refusals) is run against each, and the two transcripts -- every command's stdout, stderr
# and exit status -- are diffed. Exits non-zero, printing the diff, when they differ.
#
#   interop/rabbitmqadmin.sh [USER:PASS@]HOST:PORT_A [USER:PASS@]HOST:PORT_B
#   interop/rabbitmqadmin.sh 127.0.0.1:15672 127.0.0.1:15693
#
# The ports are the management API's (an http:// prefix is accepted); the user defaults to
# guest/guest and must be an administrator. Everything happens in a vhost of the run's own on
# each broker, rabbitmqadmin-check-<run>, deleted on the way out (A and B may be one broker).
# rabbitmqadmin is the one the installed rabbitmq-server package ships (WARREN_RABBITMQADMIN
# overrides), run with WARREN_INTEROP_PYTHON (default /usr/bin/python3).
#
# Nothing is normalised but the run's id (<run>), the time stamp of an x-death header and the
# digest of a binding's arguments in its properties_key (<args-digest>; see below). Queue
# message counts are read through `get`, never through `list`, whose numbers RabbitMQ's
# statistics report seconds late.
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: interop/rabbitmqadmin.sh [USER:PASS@]HOST:MGMT_PORT_A [USER:PASS@]HOST:MGMT_PORT_B" >&2
  exit 64
fi
python=${WARREN_INTEROP_PYTHON:-/usr/bin/python3}

find_admin() {
  local f
  if [ -n "${WARREN_RABBITMQADMIN:-}" ]; then
    echo "$WARREN_RABBITMQADMIN"
    return
  fi
  for f in $(dpkg -L rabbitmq-server 2>/dev/null | grep '/rabbitmqadmin$') \
           /usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/rabbitmq_management-*/priv/www/cli/rabbitmqadmin; do
    if [ -f "$f" ]; then
      echo "$f"
      return
    fi
  done
}
admin=$(find_admin)
if [ -z "$admin" ] || [ ! -f "$admin" ]; then
  echo "rabbitmqadmin.sh: rabbitmqadmin not found: it ships in Debian's rabbitmq-server package" \
       "(scripts/install-deps.sh --live installs it), or set WARREN_RABBITMQADMIN" >&2
  exit 1
fi
if [ ! -x "$python" ]; then
  echo "rabbitmqadmin.sh: $python not found: rabbitmqadmin needs Python 3 (set WARREN_INTEROP_PYTHON)" >&2
  exit 1
fi

# Each side has an id of its own, so that A and B may even be the same broker.
new_id() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }
run_a=$(new_id) run_b=$(new_id)
out=$(mktemp -d /tmp/warren-rabbitmqadmin.XXXXXX)
# A home of its own, so that no ~/.rabbitmqadmin.conf changes a default.
mkdir -p "$out/home"

# "[http://][USER:PASS@]HOST:PORT[/]" -> the connection options of rabbitmqadmin.
connection() {
  local t=${1#http://} user=guest pass=guest
  t=${t%/}
  if [[ $t == *@* ]]; then
    user=${t%%@*} t=${t#*@}
    pass=${user#*:} user=${user%%:*}
  fi
  printf '%s\n' -H "${t%:*}" -P "${t##*:}" -u "$user" -p "$pass" -t 10
}

# rabbitmqadmin against the current target, its output unchanged.
admin_raw() {
  HOME=$out/home timeout 30 "$python" "$admin" "${conn[@]}" "$@"
}

# One command: the command line, its stdout, its stderr (after a "[stderr]" line, if any), its
# exit status. Standard input is the step's if it is given one (step_in), else empty. With
# only=REGEX, stdout keeps just the lines that match it. This run's id reads <run>, and the
# digest of a binding's arguments in its properties_key <args-digest> once `digest` holds it.
step_in() {
  local input=$1 rc
  shift
  {
    printf '$ rabbitmqadmin %s\n' "$*"
    printf '%s' "$input" | admin_raw "$@" >"$side.stdout" 2>"$side.stderr"
    rc=$?
    if [ -n "${only:-}" ]; then grep -E "$only" "$side.stdout"; else cat "$side.stdout"; fi
    if [ -s "$side.stderr" ]; then
      echo "[stderr]"
      cat "$side.stderr"
    fi
    echo "[exit $rc]"
  } | sed -e "s/$run/<run>/g" ${digest:+-e "s/~$digest/~<args-digest>/g"}
}
step() { step_in "" "$@"; }

# The fixed sequence against one broker.
sequence() {
  local V=(-V "$vhost")
  step declare vhost name="$vhost"
  step declare permission vhost="$vhost" user="${conn[5]}" configure='.*' write='.*' read='.*'
  # Only this run's vhost and permissions: the broker may have others.
  only="^name|$vhost" step -f tsv list vhosts name tracing
  only="^vhost|$vhost" step -f tsv list permissions vhost user configure write read
  step -f tsv show overview rabbitmq_version management_version

  step "${V[@]}" declare exchange name=events type=topic
  step "${V[@]}" declare exchange name=broadcast type=fanout durable=false
  step "${V[@]}" declare exchange name=hidden type=direct internal=true auto_delete=false
  step "${V[@]}" declare exchange name=fallback type=direct arguments='{"alternate-exchange":"broadcast"}'
  step "${V[@]}" declare queue name=orders \
    arguments='{"x-max-length":3,"x-message-ttl":60000,"x-dead-letter-exchange":"broadcast"}'
  step "${V[@]}" declare queue name=ledger queue_type=quorum
  step "${V[@]}" declare queue name=audit durable=false
  step "${V[@]}" declare queue name=scratch auto_delete=false arguments='{"x-max-priority":5}'
  step "${V[@]}" declare binding source=events destination=orders routing_key='order.*'
  step "${V[@]}" declare binding source=events destination=ledger routing_key='#.paid'
  step "${V[@]}" declare binding source=events destination=broadcast destination_type=exchange \
    routing_key='order.#'
  step "${V[@]}" declare binding source=broadcast destination=audit
  step "${V[@]}" declare binding source=events destination=scratch routing_key=scratch \
    arguments='{"x-note":"with arguments"}'
  # The properties_key of a binding with arguments ends in a digest of them: RabbitMQ's is
  # erlang:phash2 of the table, warren's its own (server/src/management_api.cpp). A client only
  # reads it back from a listing, as here.
  digest=$(admin_raw "${V[@]}" -f tsv list bindings destination properties_key |
           sed -n 's/^scratch\tscratch~\([A-Za-z0-9_-]*\)$/\1/p')

  step "${V[@]}" -f tsv list exchanges name type durable auto_delete internal arguments
  step "${V[@]}" list exchanges
  step "${V[@]}" -f tsv list queues name durable auto_delete arguments type
  step "${V[@]}" -f tsv list queues name arguments.x-max-length arguments.x-queue-type
  step "${V[@]}" -f raw_json list queues name durable auto_delete exclusive arguments
  step "${V[@]}" -f tsv list bindings source destination destination_type routing_key arguments properties_key
  step "${V[@]}" list bindings
  step "${V[@]}" -f tsv -S name -R list queues name type
  step "${V[@]}" list consumers

  step "${V[@]}" publish exchange=events routing_key=order.created payload='{"id":1}' \
    properties='{"content_type":"application/json","delivery_mode":2,"message_id":"m-1","correlation_id":"c-1","headers":{"x-tenant":"acme","x-attempt":1,"x-flag":true}}'
  step "${V[@]}" publish exchange=events routing_key=order.paid payload='{"id":1,"paid":true}' \
    properties='{"content_type":"application/json","priority":3,"app_id":"shop","type":"paid","timestamp":1700000000,"reply_to":"replies","expiration":"50000"}'
  step "${V[@]}" publish exchange=events routing_key=nowhere payload='routed nowhere'
  step "${V[@]}" publish exchange=fallback routing_key=anything payload='to the alternate exchange'
  step "${V[@]}" publish exchange=hidden routing_key=anything payload='internal: refused'
  step "${V[@]}" publish routing_key=scratch payload=aGVsbG8sIGJhc2U2NA== payload_encoding=base64 \
    properties="{\"priority\":4,\"user_id\":\"${conn[5]}\"}"
  step_in $'from standard input\nsecond line\n' "${V[@]}" publish routing_key=scratch
  step "${V[@]}" publish routing_key=scratch payload=/w== payload_encoding=base64

  # ack_requeue_true, the default, leaves the message where it was, redelivered.
  step "${V[@]}" -f pretty_json get queue=orders
  step "${V[@]}" -f pretty_json get queue=orders count=5 ackmode=ack_requeue_true
  step "${V[@]}" -f pretty_json get queue=ledger ackmode=reject_requeue_true
  step "${V[@]}" -f pretty_json get queue=ledger ackmode=ack_requeue_false
  step "${V[@]}" -f pretty_json get queue=ledger
  step "${V[@]}" -f tsv get queue=audit count=10 ackmode=ack_requeue_false
  step "${V[@]}" -f pretty_json get queue=scratch count=2 ackmode=ack_requeue_true encoding=base64
  step "${V[@]}" -d 3 get queue=scratch count=10 ackmode=ack_requeue_false
  step "${V[@]}" get queue=scratch

  # x-max-length 3 drops the oldest, which is dead-lettered to broadcast and so to audit.
  for n in 1 2 3 4; do
    step "${V[@]}" publish exchange=events routing_key=order.bulk payload="bulk $n"
  done
  step "${V[@]}" -f tsv get queue=orders count=10 ackmode=reject_requeue_true
  step "${V[@]}" -f tsv get queue=orders ackmode=reject_requeue_false
  step "${V[@]}" -f pretty_json get queue=audit count=10 ackmode=ack_requeue_false |
    sed -E 's/^( *"time": )[0-9]+/\1<time>/'
  step "${V[@]}" purge queue name=orders
  step "${V[@]}" get queue=orders
  step "${V[@]}" -f tsv get queue=audit count=10 ackmode=ack_requeue_false
  step "${V[@]}" purge queue name=ledger
  step "${V[@]}" get queue=ledger

  # Refusals.
  step "${V[@]}" declare queue name=orders durable=false
  step "${V[@]}" declare queue name=ledger queue_type=classic
  step "${V[@]}" declare exchange name=events type=direct
  step "${V[@]}" declare exchange name=odd type=no-such-type
  step "${V[@]}" declare queue name=typo arguments='{"x-max-length":"three"}'
  step "${V[@]}" declare binding source=events destination=no-such-queue
  step "${V[@]}" declare binding source=no-such-exchange destination=orders
  step "${V[@]}" delete queue name=no-such-queue
  step "${V[@]}" delete exchange name=no-such-exchange
  step "${V[@]}" get queue=no-such-queue
  step "${V[@]}" purge queue name=no-such-queue
  step "${V[@]}" publish exchange=no-such-exchange routing_key=x payload=x
  step -V no-such-vhost-"$run" declare queue name=q
  step -V no-such-vhost-"$run" list queues
  step "${V[@]}" declare queue name=orders arguments='not json'
  step "${V[@]}" declare queue durable=true
  step "${V[@]}" delete binding source=events destination_type=queue destination=orders properties_key=no-such-key
  step "${V[@]}" declare exchange name=amq.custom type=direct
  step "${V[@]}" delete exchange name=amq.direct
  step "${V[@]}" declare queue name=transient-quorum queue_type=quorum durable=false
  step "${V[@]}" publish routing_key=audit payload=x properties='{"delivery_mode":"x"}'
  step "${V[@]}" publish routing_key=audit payload='not base64!' payload_encoding=base64
  step "${V[@]}" get queue=audit count=x
  step -p wrong-password list vhosts name

  # Deletions.
  step "${V[@]}" delete binding source=events destination_type=queue destination=orders properties_key='order.%2A'
  step "${V[@]}" delete binding source=events destination_type=queue destination=scratch properties_key=scratch
  step "${V[@]}" delete binding source=events destination_type=queue destination=scratch \
    properties_key="scratch~$digest"
  step "${V[@]}" -f tsv list bindings source destination destination_type routing_key properties_key
  step "${V[@]}" delete queue name=orders
  step "${V[@]}" delete queue name=ledger
  step "${V[@]}" delete exchange name=events
  step "${V[@]}" -f tsv list exchanges name type
  step "${V[@]}" -f tsv list bindings source destination destination_type routing_key
  step "${V[@]}" -f tsv list queues name
  step delete vhost name="$vhost"
  step delete vhost name="$vhost"
  only="^name|$vhost" step -f tsv list vhosts name
}

# The transcript of one broker ($1) in $out/$2, in vhost rabbitmqadmin-check-$3.
transcript() {
  local conn side=$out/$2 run=$3 vhost=rabbitmqadmin-check-$3 digest=
  mapfile -t conn < <(connection "$1")
  # A broker that does not answer would give the same transcript as another that does not.
  if ! admin_raw -f tsv show overview management_version >"$side.stdout" 2>"$side.stderr"; then
    echo "rabbitmqadmin.sh: no management API answers at $1 (or $1 refuses its user):" >&2
    cat "$side.stdout" "$side.stderr" >&2
    return 1
  fi
  sequence >"$side" 2>&1
  # Whatever a failed step left behind.
  admin_raw delete vhost name="$vhost" >/dev/null 2>&1
  return 0
}

cleanup() {
  local conn
  mapfile -t conn < <(connection "$1")
  admin_raw delete vhost name="rabbitmqadmin-check-$2" >/dev/null 2>&1
}
pid_a= pid_b=
trap 'kill $pid_a $pid_b 2>/dev/null; wait; cleanup "$1" "$run_a"; cleanup "$2" "$run_b"; exit 130' INT TERM

started=$SECONDS
# Both at once: they share nothing.
transcript "$1" a "$run_a" &
pid_a=$!
transcript "$2" b "$run_b" &
pid_b=$!
failed=0
wait "$pid_a" || failed=1
wait "$pid_b" || failed=1
trap - INT TERM
if [ $failed = 1 ]; then
  rm -rf "$out"
  exit 1
fi
steps=$(grep -c '^\$ rabbitmqadmin' "$out/a")
if diff -u --label "rabbitmqadmin @ $1" --label "rabbitmqadmin @ $2" "$out/a" "$out/b" >"$out/diff"; then
  echo "rabbitmqadmin: $steps commands, identical on $1 and $2 ($((SECONDS - started)) s)"
  rm -rf "$out"
  exit 0
fi
# Each hunk's header names the command whose output it changes first, as diff -F would but
# in full (diff cuts it to 40 characters).
awk -v a="$out/a" '
  BEGIN { while ((getline line < a) > 0) { n++; if (line ~ /^\$ rabbitmqadmin/) last = line; command[n] = last } }
  function flush() {
    if (header != "") print header (at ? " " command[at] : "")
    printf "%s", body
    header = body = ""
  }
  /^@@ -/ { flush(); header = $0; split($2, from, ","); pos = -from[1] - 1; if (from[2] == "0") pos++; at = 0; next }
  header != "" && /^[-+]/ && !at { at = pos < 0 ? 1 : pos + (/^-/ ? 1 : 0) }
  header != "" && /^[ -]/ { pos++ }
  { body = body $0 "\n" }
  END { flush() }' "$out/diff"
echo "rabbitmqadmin: $(grep -c '^@@ -' "$out/diff") hunks differ between $1 and $2 ($steps commands);" \
     "transcripts in $out"
exit 1
