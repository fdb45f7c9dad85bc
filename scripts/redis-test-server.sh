#!/usr/bin/env bash
# Start a throwaway redis-server on a free 127.0.0.1 port for the Redis store tests.
#
#   eval "$(scripts/redis-test-server.sh)"        # start; exports REDIS_URL
#   scripts/redis-test-server.sh stop             # stop the server started above
#
# No persistence (--save "" --appendonly no): the data is test data. State (pid file,
# port) lives in ${REDIS_TEST_DIR:-/tmp/nxauth-redis-test}.
set -euo pipefail

STATE_DIR="${REDIS_TEST_DIR:-/tmp/nxauth-redis-test}"
PIDFILE="$STATE_DIR/redis.pid"
PORTFILE="$STATE_DIR/redis.port"

log() { echo "$*" >&2; }

stop_server() {
    if [[ -f "$PIDFILE" ]]; then
        local pid
        pid="$(cat "$PIDFILE")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            log "stopped redis-server (pid $pid)"
        fi
        rm -f "$PIDFILE" "$PORTFILE"
    else
        log "no redis-server started by this script"
    fi
}

ensure_installed() {
    if ! command -v redis-server >/dev/null 2>&1; then
        log "redis-server not found; installing it with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq redis-server >&2
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
    ensure_installed
    mkdir -p "$STATE_DIR"
    if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && [[ -f "$PORTFILE" ]]; then
        local port
        port="$(cat "$PORTFILE")"
        log "redis-server already running on port $port"
        echo "export REDIS_URL=redis://127.0.0.1:$port/0"
        return
    fi
    local port
    port="$(free_port)"
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --daemonize yes --pidfile "$PIDFILE" --dir "$STATE_DIR" \
        --logfile "$STATE_DIR/redis.log" >&2
    for _ in $(seq 100); do
        if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" == "PONG" ]]; then
            echo "$port" >"$PORTFILE"
            log "redis-server listening on 127.0.0.1:$port"
            echo "export REDIS_URL=redis://127.0.0.1:$port/0"
            return
        fi
        sleep 0.1
    done
    log "redis-server did not answer PING on port $port; see $STATE_DIR/redis.log"
    exit 1
}

case "${1:-start}" in
    start) start_server ;;
    stop) stop_server ;;
    *) log "usage: $0 [start|stop]"; exit 2 ;;
esac
