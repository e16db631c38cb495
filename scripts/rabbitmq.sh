#!/usr/bin/env bash
# Start or stop a throwaway RabbitMQ for the conformance suite and the live tests.
#
#   scripts/rabbitmq.sh start [DIR]   prints the AMQP URI on stdout once the broker is ready
#   scripts/rabbitmq.sh stop  [DIR]
#
# Docker's `rabbitmq:3.10` image is used where a Docker engine answers; otherwise Debian's
# rabbitmq-server package (installed when missing), run as the current user on loopback with
# all its state in DIR (default: /tmp/warren-rabbitmq). Ports: WARREN_RABBITMQ_PORT (5672),
# WARREN_RABBITMQ_MGMT_PORT (15672), WARREN_RABBITMQ_DIST_PORT (25672).
set -euo pipefail

action=${1:-start}
dir=${2:-${WARREN_RABBITMQ_DIR:-/tmp/warren-rabbitmq}}
port=${WARREN_RABBITMQ_PORT:-5672}
mgmt_port=${WARREN_RABBITMQ_MGMT_PORT:-15672}
dist_port=${WARREN_RABBITMQ_DIST_PORT:-25672}
image=${WARREN_RABBITMQ_IMAGE:-rabbitmq:3.10-management}
container=warren-rabbitmq-$port

log() { printf 'rabbitmq.sh: %s\n' "$*" >&2; }

docker_answers() {
  [ "${WARREN_RABBITMQ_NO_DOCKER:-}" = "" ] && command -v docker >/dev/null 2>&1 \
    && timeout 5 docker info >/dev/null 2>&1
}

wait_for_port() {
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

debian_env() {
  export HOME="$dir"
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_PID_FILE="$dir/rabbit.pid"
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_NODENAME="warren$port@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$port"
  export RABBITMQ_DIST_PORT="$dist_port"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export ERL_CRASH_DUMP="$dir/erl_crash.dump"   # not in the caller's directory
}

start_debian() {
  if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    log "installing Debian's rabbitmq-server"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  mkdir -p "$dir/mnesia" "$dir/log"
  # What `stop` needs to reach this node (its name comes from the port), whatever its caller's
  # environment says.
  printf 'port=%s\ndist_port=%s\n' "$port" "$dist_port" >"$dir/ports"
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$port
loopback_users = none
management.tcp.port = $mgmt_port
management.tcp.ip = 127.0.0.1
CONF
  echo "[${WARREN_RABBITMQ_PLUGINS:-}]." >"$dir/enabled_plugins"
  debian_env
  if [ -f "$RABBITMQ_PID_FILE" ] && /usr/lib/rabbitmq/bin/rabbitmqctl -q status >/dev/null 2>&1; then
    log "already running in $dir"
    return 0
  fi
  log "starting Debian's RabbitMQ in $dir on 127.0.0.1:$port"
  nohup /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/server.out" 2>&1 &
  local server=$!
  /usr/lib/rabbitmq/bin/rabbitmqctl wait --timeout 120 "$RABBITMQ_PID_FILE" >/dev/null &
  local waiter=$!
  # A node that fails at boot (a port in use) never writes its pid file, and rabbitmqctl would
  # wait on: stop waiting when the node is gone.
  while kill -0 "$waiter" 2>/dev/null; do
    if ! kill -0 "$server" 2>/dev/null; then
      kill "$waiter" 2>/dev/null || true
      log "RabbitMQ exited while starting; the end of $dir/server.out:"
      tail -n 3 "$dir/server.out" >&2
      return 1
    fi
    sleep 0.2
  done
  wait "$waiter"
  wait_for_port
}

start_docker() {
  log "starting Docker image $image on 127.0.0.1:$port"
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker run -d --name "$container" -p "127.0.0.1:$port:5672" -p "127.0.0.1:$mgmt_port:15672" "$image" >/dev/null
  wait_for_port
  # The port opens before the broker accepts logins; wait until it answers the protocol.
  for _ in $(seq 1 300); do
    docker exec "$container" rabbitmq-diagnostics -q check_port_connectivity >/dev/null 2>&1 && return 0
    sleep 0.2
  done
}

case "$action" in
  start)
    if docker_answers; then start_docker; else start_debian; fi
    echo "amqp://guest:guest@127.0.0.1:$port/%2f"
    ;;
  stop)
    if docker_answers && docker inspect "$container" >/dev/null 2>&1; then
      docker rm -f "$container" >/dev/null
    elif [ -f "$dir/rabbit.pid" ]; then
      # shellcheck disable=SC1091
      if [ -f "$dir/ports" ]; then . "$dir/ports"; fi
      debian_env
      # rabbitmqctl waits for the pid to exit; if it cannot reach the node, the node is killed.
      if ! timeout 120 /usr/lib/rabbitmq/bin/rabbitmqctl stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1; then
        pid=$(cat "$RABBITMQ_PID_FILE" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
          log "rabbitmqctl could not stop the node; killing $pid"
          kill -9 "$pid" 2>/dev/null || true
        fi
      fi
      rm -rf "$dir"
    fi
    ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
