#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on a free 127.0.0.1 port for the SQLAlchemy store tests.
#
#   eval "$(scripts/postgres-test-server.sh)"     # start; exports DATABASE_URL
#   scripts/postgres-test-server.sh stop          # stop the cluster started above
#
# Debian's binaries (apt package `postgresql`), `initdb` + `pg_ctl` in
# ${POSTGRES_TEST_DIR:-/tmp/nxauth-pg-test}: trust authentication, TCP on 127.0.0.1 only,
# no Unix socket, fsync off (the data is test data). initdb refuses to run as root, so as
# root the cluster runs as the `postgres` user.
set -euo pipefail

STATE_DIR="${POSTGRES_TEST_DIR:-/tmp/nxauth-pg-test}"
DATA_DIR="$STATE_DIR/data"
PORTFILE="$STATE_DIR/pg.port"
DB_NAME="nxauth"

log() { echo "$*" >&2; }

bindir() {
    local dir
    for dir in "${POSTGRES_BIN:-}" /usr/lib/postgresql/*/bin; do
        if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return
        fi
    done
    return 1
}

ensure_installed() {
    if ! bindir >/dev/null; then
        log "PostgreSQL not found; installing it with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
}

# as_owner CMD...: run as the cluster's owner (postgres when we are root)
as_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

url_for() { echo "postgresql+asyncpg://postgres@127.0.0.1:$1/$DB_NAME"; }

running() { [[ -f "$DATA_DIR/postmaster.pid" ]] && as_owner "$BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1; }

stop_server() {
    BIN="$(bindir)" || { log "PostgreSQL is not installed"; return 0; }
    if [[ -d "$DATA_DIR" ]] && running; then
        as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w stop >&2
        log "stopped PostgreSQL in $DATA_DIR"
    else
        log "no PostgreSQL started by this script"
    fi
    rm -rf "$STATE_DIR"
}

start_server() {
    ensure_installed
    BIN="$(bindir)"
    if [[ -f "$PORTFILE" ]] && running; then
        local port
        port="$(cat "$PORTFILE")"
        log "PostgreSQL already running on port $port"
        echo "export DATABASE_URL=$(url_for "$port")"
        return
    fi
    rm -rf "$STATE_DIR"
    mkdir -p "$STATE_DIR"
    [[ "$(id -u)" == "0" ]] && chown postgres: "$STATE_DIR"
    as_owner "$BIN/initdb" -D "$DATA_DIR" -U postgres -A trust -E UTF8 --no-sync >"$STATE_DIR/initdb.log" 2>&1 \
        || { log "initdb failed; see $STATE_DIR/initdb.log"; exit 1; }
    local port
    port="$(free_port)"
    as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -l "$STATE_DIR/postgres.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >&2 || { log "PostgreSQL did not start; see $STATE_DIR/postgres.log"; exit 1; }
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME" >&2
    echo "$port" >"$PORTFILE"
    log "PostgreSQL listening on 127.0.0.1:$port (database $DB_NAME)"
    echo "export DATABASE_URL=$(url_for "$port")"
}

case "${1:-start}" in
    start) start_server ;;
    stop) stop_server ;;
    *) log "usage: $0 [start|stop]"; exit 2 ;;
esac
