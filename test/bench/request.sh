#!/usr/bin/env bash
# Requests per second of a guarded request in its old and new shapes, with pgbench,
# directly and through pgbouncer (transaction mode, 20 clients, pool of 4):
#   old:    BEGIN; set_context; require_module; the query; COMMIT     (5 round trips)
#   new:    BEGIN; begin_request(user, tenant, module); the query; COMMIT   (4)
#   signed: BEGIN; begin_request(token, module); the query; COMMIT          (4, HMAC verified)
# The query reads one row of a table under clinres's row-level security policy (and divides
# by zero, failing the run, if the policy hid it).
# Figures only: it never fails on time.
# Usage, in a cluster whose PG* variables are set (clinres installed):
#   pg_virtualenv -v 15 test/bench/request.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
seconds=${1:-10}
db=clinres_bench_request
dir=$(mktemp -d /tmp/clinres-bench-request.XXXXXX)
chmod 755 "$dir"
port=$(free_port 56532)
cleanup() {
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    sleep 0.5
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS clinres_bench_app" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
    -c "DROP ROLE IF EXISTS clinres_bench_app" -c "CREATE ROLE clinres_bench_app LOGIN PASSWORD 'bench-pw'" >/dev/null
echo "machine: $(nproc) cores, PostgreSQL $(psql -XAt -d "$db" -c 'show server_version'), $(pgbouncer --version | head -1), ${seconds}s per run"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE EXTENSION clinres CASCADE;
GRANT clinres_app TO clinres_bench_app;  -- the role exists once CREATE EXTENSION has made it
-- 100 tenants subscribing to aia, 1,000 users, each a member of one tenant.
INSERT INTO clinres.tenants (id, code, name) SELECT md5('t' || t)::uuid, 'T' || t, 'tenant ' || t FROM generate_series(1, 100) t;
INSERT INTO clinres.tenant_modules (tenant_id, module_code) SELECT md5('t' || t)::uuid, 'aia' FROM generate_series(1, 100) t;
INSERT INTO clinres.users (id, email, name, password_hash)
SELECT md5('u' || u)::uuid, 'user' || u || '@example.org', 'user ' || u, crypt('pw', gen_salt('bf', 4))
  FROM generate_series(1, 1000) u;
INSERT INTO clinres.user_tenants (tenant_id, user_id) SELECT md5('t' || (u % 100 + 1))::uuid, md5('u' || u)::uuid FROM generate_series(1, 1000) u;
-- The guarded table: 100,000 rows, 1,000 per tenant, under the module policy.
CREATE TABLE public.notes (id int PRIMARY KEY, tenant_id uuid NOT NULL, body text NOT NULL);
INSERT INTO public.notes SELECT n, md5('t' || (n % 100 + 1))::uuid, 'note ' || n FROM generate_series(1, 100000) n;
SELECT clinres.enable_module_rls('public.notes', 'aia') IS NOT NULL AS policy;
GRANT SELECT ON public.notes TO clinres_bench_app;
-- Granted to the application role for the old shape (clinres_app's own list may not include them).
GRANT EXECUTE ON FUNCTION clinres.set_context(uuid, uuid, boolean), clinres.require_module(uuid, uuid, text)
    TO clinres_bench_app;
ANALYZE;
SQL
# Note n of user u's tenant: u % 100 + 1 == n % 100 + 1, so n = u + 100 * k.
cat >"$dir/old.sql" <<'SQL'
\set u random(1, 1000)
\set n :u + 100 * random(0, 990)
BEGIN;
SELECT clinres.set_context(md5('u' || :u)::uuid, md5('t' || (:u % 100 + 1))::uuid);
SELECT clinres.require_module(md5('u' || :u)::uuid, md5('t' || (:u % 100 + 1))::uuid, 'aia');
SELECT 1 / count(*) AS visible, max(body) FROM public.notes WHERE id = :n;
COMMIT;
SQL
cat >"$dir/new.sql" <<'SQL'
\set u random(1, 1000)
\set n :u + 100 * random(0, 990)
BEGIN;
SELECT clinres.begin_request(md5('u' || :u)::uuid, md5('t' || (:u % 100 + 1))::uuid, 'aia');
SELECT 1 / count(*) AS visible, max(body) FROM public.notes WHERE id = :n;
COMMIT;
SQL
# The signed shape: one user's token (pgbench variables hold numbers only), a note of its tenant.
token=$(psql -XAt -d "$db" -c "SELECT clinres.login('user7@example.org', 'pw') ->> 'token'")
cat >"$dir/signed.sql" <<SQL
\\set n 7 + 100 * random(0, 990)
BEGIN;
SELECT clinres.begin_request('$token', 'aia');
SELECT 1 / count(*) AS visible, max(body) FROM public.notes WHERE id = :n;
COMMIT;
SQL
PGBOUNCER_POOL_SIZE=4 start_pgbouncer "$dir" "$port" "$db" clinres_bench_app bench-pw

run() { # via shape -> tps
    local p=$PGPORT
    [ "$1" = pgbouncer ] && p=$port
    PGPASSWORD=bench-pw pgbench -n -h 127.0.0.1 -p "$p" -U clinres_bench_app -c 20 -j 2 -T "$seconds" \
        -f "$dir/$2.sql" "$db" >"$dir/out" 2>&1 || { cat "$dir/out"; fail "pgbench $1 $2"; }
    grep -q "number of failed transactions: 0" "$dir/out" || { cat "$dir/out"; fail "failed transactions in $1 $2"; }
    awk '/^tps/ {printf "%.0f", $3; exit}' "$dir/out"
}
echo
echo "requests/s (pgbench tps, 20 clients, simple protocol): three rounds, shapes alternating, and the median"
printf '%-10s %-8s %8s %8s %8s %8s\n' via shape round1 round2 round3 median
for via in direct pgbouncer; do
    declare -A r=()
    for round in 1 2 3; do
        for shape in old new signed; do r[$shape$round]=$(run $via $shape); done
    done
    for shape in old new signed; do
        median=$(printf '%s\n' "${r[${shape}1]}" "${r[${shape}2]}" "${r[${shape}3]}" | sort -n | sed -n 2p)
        printf '%-10s %-8s %8s %8s %8s %8s\n' "$via" "$shape" "${r[${shape}1]}" "${r[${shape}2]}" "${r[${shape}3]}" "$median"
    done
done
