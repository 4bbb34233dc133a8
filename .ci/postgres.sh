# A throwaway PostgreSQL (Debian's packages) for the search-worker tests: a cluster in a temporary folder, on
# localhost only, trusted, stopped and deleted at exit. Sourced by .ci/run; needs root (CI runs as root).
PG_PORT="${PG_PORT:-54329}"

start_postgres() {
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    PG_BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
    PG_DIR="$(mktemp -d)"
    chown postgres "$PG_DIR"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
    runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres medtransfer
    export MEDTRANSFER_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$PG_PORT/medtransfer"
    echo "PostgreSQL for the worker tests: $MEDTRANSFER_TEST_POSTGRES"
}

stop_postgres() {
    if [ -n "${PG_DIR:-}" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
        rm -rf "$PG_DIR"
    fi
}
