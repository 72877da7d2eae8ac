#!/usr/bin/env bash
# Requests/s of a guarded request from Node, old shape (BEGIN, set_context, require_module, query,
# COMMIT) against new (BEGIN, begin_request, query, COMMIT), directly and through pgbouncer in
# transaction mode. Figures only. Run inside a throw-away cluster (PGHOST/PGPORT set), e.g.
#   pg_virtualenv -v 15 bash test/bench/node_requests.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
pkg=$PWD/clients/node db=clinres_node_bench app=clinres_node_bench app_pw=node-bench-pw
clients=${CLIENTS:-20} seconds=${SECONDS_PER_RUN:-2} pairs=${PAIRS:-5}
dir=$(mktemp -d /tmp/clinres-node-bench.XXXXXX)
chmod 755 "$dir"
cleanup() {
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    sleep 0.3
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS $app" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
export NPM_CONFIG_LOGLEVEL=error
if [ ! -f "$pkg/dist/bench/requests.js" ]; then
    (cd "$pkg" && npm ci --ignore-scripts >/dev/null && PRISMA_SCHEMA_ENGINE_BINARY=/bin/false PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1 \
        CHECKPOINT_DISABLE=1 npx --no-install prisma generate >/dev/null && npx --no-install tsc -p tsconfig.json)
fi
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" -c "DROP ROLE IF EXISTS $app" \
    -c "CREATE ROLE $app LOGIN PASSWORD '$app_pw'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v app=$app -d "$db" -f test/fixtures/node_app.sql >/dev/null
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $(psql -X -At -c 'SHOW server_version'), pgbouncer $(pgbouncer --version | awk 'NR==1 {print $NF}'), node $(node --version)"
export CLINRES_TEST_DB=$db CLINRES_APP_USER=$app CLINRES_APP_PASSWORD=$app_pw CLINRES_APP_HOST=127.0.0.1
CLINRES_APP_PORT=$PGPORT node "$pkg/dist/bench/requests.js" --clients "$clients" --seconds "$seconds" --pairs "$pairs" --via "directly (TCP loopback)"
port=$(free_port 56550)
start_pgbouncer "$dir" "$port" "$db" "$app" "$app_pw"
CLINRES_APP_PORT=$port node "$pkg/dist/bench/requests.js" --clients "$clients" --seconds "$seconds" --pairs "$pairs" \
    --via "pgbouncer (transaction mode, pool ${PGBOUNCER_POOL_SIZE:-6})"
