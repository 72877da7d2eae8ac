#!/usr/bin/env bash
# Requests per second of a guarded request in its old and new shapes, with pgbench,
# directly and through pgbouncer (transaction mode, 20 clients, pool of 4):
#   old:    BEGIN; set_context; require_module; the query; COMMIT     (5 round trips)
#   new:    BEGIN; begin_request(user, tenant, module); the query; COMMIT   (4)
#   signed: BEGIN; begin_request(token, module); the query; COMMIT          (4, HMAC verified)
#   tok030 / session: signed, with the token of one of 1,000 users read from a table: a 0.3.0
#           token (no session: what 0.3.0 verified) against a 0.4.0 one (its session checked),
#           side by side, so that their ratio is the cost of the session check.
# Then the verification alone, in one backend: begin_request(token, module) 20,000 times per
# round over the 1,000 tokens of each kind, rounds alternating, microseconds per call.
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
# 1,000 sessions (made as login makes them, without 1,000 bcrypt verifications) and, for the
# same users, 0.3.0 tokens (HMAC over 'clinres-session/1:' and the five-part text, by hand).
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE TABLE public.bench_tokens (u int PRIMARY KEY, tok030 text NOT NULL, session text NOT NULL);
WITH s AS (
    INSERT INTO clinres.sessions (tenant_id, id, user_id, expires_at)
    SELECT md5('t' || (u % 100 + 1))::uuid, gen_random_uuid(), md5('u' || u)::uuid, now() + interval '8 hours'
      FROM generate_series(1, 1000) u RETURNING tenant_id, id, user_id),
a AS (INSERT INTO clinres.session_activity (tenant_id, id) SELECT tenant_id, id FROM s),
k AS (SELECT id, secret FROM clinres.session_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1),
c AS (SELECT u, k.id || '.' || md5('u' || u)::uuid || '.' || md5('t' || (u % 100 + 1))::uuid || '.'
             || (extract(epoch FROM now())::bigint + 8 * 3600) AS claims, k.secret FROM generate_series(1, 1000) u, k)
INSERT INTO public.bench_tokens
SELECT c.u, c.claims || '.' || encode(hmac(convert_to('clinres-session/1:' || c.claims, 'UTF8'), c.secret, 'sha256'), 'hex'),
       clinres._sign_session(s.user_id, s.tenant_id, s.id)
  FROM c JOIN s ON s.user_id = md5('u' || c.u)::uuid;
GRANT SELECT ON public.bench_tokens TO clinres_bench_app;
ANALYZE public.bench_tokens;
SQL
for kind in tok030 session; do
    cat >"$dir/$kind.sql" <<SQL
\\set u random(1, 1000)
\\set n :u + 100 * random(0, 990)
BEGIN;
SELECT clinres.begin_request((SELECT $kind FROM public.bench_tokens WHERE u = :u), 'aia');
SELECT 1 / count(*) AS visible, max(body) FROM public.notes WHERE id = :n;
COMMIT;
SQL
done
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
declare -A med=()
for via in direct pgbouncer; do
    declare -A r=()
    for round in 1 2 3; do
        for shape in old new signed tok030 session; do r[$shape$round]=$(run $via $shape); done
    done
    for shape in old new signed tok030 session; do
        median=$(printf '%s\n' "${r[${shape}1]}" "${r[${shape}2]}" "${r[${shape}3]}" | sort -n | sed -n 2p)
        med[$via$shape]=$median
        printf '%-10s %-8s %8s %8s %8s %8s\n' "$via" "$shape" "${r[${shape}1]}" "${r[${shape}2]}" "${r[${shape}3]}" "$median"
    done
done
for via in direct pgbouncer; do
    echo "cost of a request with the session check, $via: $(awk -v a="${med[${via}tok030]}" -v b="${med[${via}session]}" 'BEGIN {printf "%.2f", a / b}')x the 0.3.0 token's (tok030 tps / session tps, goal <= 1.2)"
done

# The verification alone: one backend, 20,000 calls a round over 1,000 tokens of each kind (the
# sessions all cached after the first round, as in a warm backend).
echo
echo "begin_request(token, 'aia') alone, one backend, microseconds per call (9 rounds alternating, median)"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE TEMP TABLE t AS SELECT u, tok030, session FROM public.bench_tokens, generate_series(1, 20) g ORDER BY g, u;
CREATE TEMP TABLE runs (kind text, us float8);
CREATE FUNCTION pg_temp.round(kind text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
    n int;
BEGIN
    EXECUTE format('SELECT count(clinres.begin_request(%I, ''aia'')) FROM t', kind) INTO n;
    INSERT INTO runs VALUES (kind, extract(epoch FROM clock_timestamp() - t0) * 1e6 / n);
END $$;
SELECT count(pg_temp.round(k)) FROM generate_series(1, 9), unnest(ARRAY['tok030', 'session']) k \g /dev/null
SELECT format('%-8s %s median %s', kind, string_agg(round(us::numeric, 1)::text, ' ' ORDER BY us),
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY us))::numeric, 1)) FROM runs GROUP BY kind ORDER BY kind DESC;
SELECT format('ratio session / tok030: %sx (goal <= 1.2)',
              round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FROM runs WHERE kind = 'session')::numeric
                    / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FROM runs WHERE kind = 'tok030')::numeric, 2));
SQL
