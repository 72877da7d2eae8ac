#!/usr/bin/env bash
# Requests/s over HTTP: the reference service (clinres, pg) against the same endpoints with Prisma
# and the rules in TypeScript, on 100,000 users in 200 tenants (one of 10,000 members), in
# interleaved rounds; then the driver alone. Figures only, never a test. Run inside a throw-away
# cluster (PGHOST/PGPORT/PGUSER/PGPASSWORD set), e.g.
#   scripts/cluster.sh bash test/bench/node_http.sh       (CLIENTS=20 SECONDS_PER_RUN=3 ROUNDS=5 PG_POOL_SIZE=10)
set -euo pipefail
cd "$(dirname "$0")/../.."
pkg=$PWD/clients/node db=clinres_node_http app=clinres_node_http app_pw=node-http-pw
clients=${CLIENTS:-20} seconds=${SECONDS_PER_RUN:-3} rounds=${ROUNDS:-5}
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS $app" >/dev/null 2>&1 || true
}
trap cleanup EXIT
export NPM_CONFIG_LOGLEVEL=error
if [ ! -f "$pkg/dist/bench/http.js" ]; then
    (cd "$pkg" && npm ci --ignore-scripts >/dev/null && npm run -s build >/dev/null)
fi
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
    -c "DROP ROLE IF EXISTS $app" -c "CREATE ROLE $app LOGIN PASSWORD '$app_pw'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v app=$app -d "$db" -f test/fixtures/node_app.sql >/dev/null
psql -X -v ON_ERROR_STOP=1 -d "$db" -f test/bench/node_http_setup.sql
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $(psql -X -At -c 'SHOW server_version'), node $(node --version)"
PGDATABASE=$db CLINRES_APP_USER=$app CLINRES_APP_PASSWORD=$app_pw PRISMA_USER=$PGUSER \
    node "$pkg/dist/bench/http.js" --clients "$clients" --seconds "$seconds" --rounds "$rounds"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
