#!/usr/bin/env bash
# Start a throwaway 3-master Redis Cluster on 127.0.0.1 for the Redis Cluster tests.
#
#   eval "$(scripts/redis-cluster-test-server.sh)"   # start; exports REDIS_CLUSTER_URL
#   scripts/redis-cluster-test-server.sh stop        # stop the three nodes started above
#   scripts/redis-cluster-test-server.sh start-node PORT   # restart one node (after a kill)
#
# No persistence, no replicas: the data is test data. State (pid files, node configs,
# ports) lives in ${REDIS_CLUSTER_TEST_DIR:-/tmp/nxauth-redis-cluster-test}.
# ${REDIS_CLUSTER_NODE_TIMEOUT:-5000} ms is the cluster-node-timeout (tests that kill a
# node use less, so the cluster notices sooner).
set -euo pipefail

STATE_DIR="${REDIS_CLUSTER_TEST_DIR:-/tmp/nxauth-redis-cluster-test}"
NODE_TIMEOUT="${REDIS_CLUSTER_NODE_TIMEOUT:-5000}"
PORTFILE="$STATE_DIR/ports"

log() { echo "$*" >&2; }

url_for() { echo "redis+cluster://127.0.0.1:$1/0"; }

stop_cluster() {
    local stopped=0
    for pidfile in "$STATE_DIR"/node-*.pid; do
        [[ -f "$pidfile" ]] || continue
        local pid
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            stopped=$((stopped + 1))
        fi
        rm -f "$pidfile"
    done
    rm -f "$PORTFILE" "$STATE_DIR"/nodes-*.conf
    log "stopped $stopped redis cluster node(s)"
}

# A free port P with P + 10000 free too (the cluster bus), so P <= 55535.
free_port() {
    python3 -c '
import random, socket
for _ in range(200):
    port = random.randint(20000, 45000)
    try:
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", port)); b.bind(("127.0.0.1", port + 10000))
    except OSError:
        continue
    print(port); break
'
}

running() {
    [[ -f "$PORTFILE" ]] || return 1
    for pidfile in "$STATE_DIR"/node-*.pid; do
        [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null || return 1
    done
}

# One node (its cluster config file survives a kill, so a restarted node rejoins).
start_node() {
    local port="$1"
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --cluster-enabled yes --cluster-config-file "$STATE_DIR/nodes-$port.conf" \
        --cluster-node-timeout "$NODE_TIMEOUT" \
        --daemonize yes --pidfile "$STATE_DIR/node-$port.pid" --dir "$STATE_DIR" \
        --logfile "$STATE_DIR/node-$port.log" >&2
    for _ in $(seq 100); do
        [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" == "PONG" ]] && return
        sleep 0.1
    done
    log "redis cluster node $port did not answer PING; see $STATE_DIR/node-$port.log"
    exit 1
}

start_cluster() {
    command -v redis-server >/dev/null 2>&1 || { log "redis-server is not installed"; exit 1; }
    mkdir -p "$STATE_DIR"
    if running; then
        log "redis cluster already running on ports $(cat "$PORTFILE")"
        echo "export REDIS_CLUSTER_URL=$(url_for "$(cut -d' ' -f1 "$PORTFILE")")"
        return
    fi
    stop_cluster 2>/dev/null || true
    local ports=() nodes=()
    for _ in 1 2 3; do
        local port
        port="$(free_port)"
        ports+=("$port")
        nodes+=("127.0.0.1:$port")
        start_node "$port"
    done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >&2
    for _ in $(seq 200); do
        local ok=0
        for port in "${ports[@]}"; do
            redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null \
                | grep -q '^cluster_state:ok' && ok=$((ok + 1))
        done
        if [[ $ok -eq 3 ]]; then
            echo "${ports[*]}" >"$PORTFILE"
            log "redis cluster ok on 127.0.0.1 ports ${ports[*]}"
            echo "export REDIS_CLUSTER_URL=$(url_for "${ports[0]}")"
            return
        fi
        sleep 0.1
    done
    log "redis cluster did not reach cluster_state:ok; see $STATE_DIR/node-*.log"
    exit 1
}

case "${1:-start}" in
    start) start_cluster ;;
    stop) stop_cluster ;;
    start-node) start_node "${2:?usage: $0 start-node PORT}" ;;
    *) log "usage: $0 [start|stop|start-node PORT]"; exit 2 ;;
esac
