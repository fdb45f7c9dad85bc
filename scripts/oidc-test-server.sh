#!/usr/bin/env bash
# Start a real OpenID Provider (npm oidc-provider, scripts/oidc-test-server/) on a free
# 127.0.0.1 port for the OIDC login tests.
#
#   eval "$(scripts/oidc-test-server.sh)"        # start; exports OIDC_ISSUER, OIDC_SIGNING_KEY_FILE
#   scripts/oidc-test-server.sh stop             # stop the server started above
#
# Installs the pinned packages with `npm ci` (package-lock.json) on first use. State (pid,
# port, log, the generated signing key) lives in ${OIDC_TEST_DIR:-/tmp/nxauth-oidc-test}.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)/oidc-test-server"
STATE_DIR="${OIDC_TEST_DIR:-/tmp/nxauth-oidc-test}"
PIDFILE="$STATE_DIR/oidc.pid"
PORTFILE="$STATE_DIR/oidc.port"

log() { echo "$*" >&2; }

stop_server() {
    if [[ -f "$PIDFILE" ]]; then
        local pid
        pid="$(cat "$PIDFILE")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            log "stopped oidc-provider (pid $pid)"
        fi
        rm -f "$PIDFILE" "$PORTFILE"
    else
        log "no oidc-provider started by this script"
    fi
}

emit() {
    echo "export OIDC_ISSUER=http://127.0.0.1:$1"
    echo "export OIDC_SIGNING_KEY_FILE=$STATE_DIR/signing-key.json"
}

start_server() {
    command -v node >/dev/null 2>&1 || { log "node is not installed"; exit 1; }
    command -v npm >/dev/null 2>&1 || { log "npm is not installed"; exit 1; }
    mkdir -p "$STATE_DIR"
    if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && [[ -f "$PORTFILE" ]]; then
        log "oidc-provider already running on port $(cat "$PORTFILE")"
        emit "$(cat "$PORTFILE")"
        return
    fi
    if [[ ! -d "$HERE/node_modules/oidc-provider" ]]; then
        log "installing oidc-provider (npm ci)"
        (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >&2
    fi
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    rm -f "$STATE_DIR/signing-key.json"
    nohup node "$HERE/server.mjs" "$port" "$STATE_DIR" >"$STATE_DIR/oidc.log" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 150); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/.well-known/openid-configuration', timeout=1)" 2>/dev/null; then
            echo "$port" >"$PORTFILE"
            log "oidc-provider listening on 127.0.0.1:$port"
            emit "$port"
            return
        fi
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
        sleep 0.1
    done
    log "oidc-provider did not start on port $port; see $STATE_DIR/oidc.log"
    cat "$STATE_DIR/oidc.log" >&2 || true
    exit 1
}

case "${1:-start}" in
    start) start_server ;;
    stop) stop_server ;;
    *) log "usage: $0 [start|stop]"; exit 2 ;;
esac
