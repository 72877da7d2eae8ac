#!/usr/bin/env bash
# clinres.login timing: the ways to get NULL (unknown user, wrong password, against a hash
# cheaper than clinres.bcrypt_cost too, disabled user, disabled tenant, locked account) and a
# success must take the same time (within 10%):
# one bcrypt verification plus the background worker that records every attempt, whatever
# its outcome, in a transaction of its own (also timed alone). Every case is timed inside the server
# (clock_timestamp around each call), the cases interleaved round-robin so that they
# share the machine's noise; medians are printed next to a bare crypt() of the same cost.
# Figures only: it never fails on time.
# Usage, in a cluster whose PG* variables are set (clinres installed):
#   pg_virtualenv -v 15 test/bench/login.sh [users, default 1000000] [rounds, default 31] [bcrypt cost, default 10]
# (A low cost, e.g. 4, shows what the paths add to bcrypt with little of bcrypt's noise.)
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${1:-1000000} rounds=${2:-31} cost=${3:-10}
export PGOPTIONS="${PGOPTIONS:-} -c clinres.bcrypt_cost=$cost"
db=clinres_bench_login
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
echo "machine: $(nproc) cores, PostgreSQL $(psql -XAt -d $db -c 'show server_version'), $users users, $rounds rounds, bcrypt cost $cost"
echo "settings: $(psql -XAt -d $db -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'synchronous_commit', 'max_worker_processes', 'shared_preload_libraries', 'wal_sync_method')")"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE EXTENSION clinres CASCADE;
-- 1,000 tenants; every user belongs to one, all share one bcrypt hash at clinres.bcrypt_cost
-- (hashing a million passwords would take hours, and the hash's cost is all that matters here).
INSERT INTO clinres.tenants (id, code, name)
SELECT md5('t' || t)::uuid, 'T' || t, 'tenant ' || t FROM generate_series(1, 1000) t;
INSERT INTO clinres.tenant_modules (tenant_id, module_code) SELECT md5('t' || t)::uuid, 'aia' FROM generate_series(1, 1000) t;
SELECT crypt('secret-pw', gen_salt('bf', current_setting('clinres.bcrypt_cost')::int)) AS hash \gset
INSERT INTO clinres.users (id, email, name, phone, password_hash)
SELECT md5('u' || u)::uuid, 'user' || u || '@example.org', 'user ' || u, '+86 139 ' || lpad(u::text, 8, '0'), :'hash'
  FROM generate_series(1, $users) u;
INSERT INTO clinres.user_tenants (tenant_id, user_id)
SELECT md5('t' || (u % 1000 + 1))::uuid, md5('u' || u)::uuid FROM generate_series(1, $users) u;
-- The cases: user 2 is disabled, user 3's only tenant is disabled, user 4 is locked.
UPDATE clinres.users SET status = 'disabled' WHERE email = 'user2@example.org';
INSERT INTO clinres.tenants (id, code, name, status) VALUES (md5('closed')::uuid, 'CLOSED', 'closed', 'disabled');
UPDATE clinres.user_tenants SET tenant_id = md5('closed')::uuid WHERE user_id = md5('u3')::uuid;
UPDATE clinres.users SET locked_until = 'infinity' WHERE email = 'user4@example.org';
-- User 6 has a hash 4 below the cost (imported so, or made before the cost was raised): padded.
UPDATE clinres.users SET password_hash = crypt('secret-pw', gen_salt('bf', greatest(4, $cost - 4)))
 WHERE email = 'user6@example.org';
ANALYZE;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
SET clinres.login_max_failures = 1000;  -- so that the wrong-password case never locks user 1
SELECT set_config('bench.hash', password_hash, false) IS NOT NULL AS hash_set FROM clinres.users WHERE email = 'user1@example.org' \gset
CREATE TEMP TABLE timing (round int, name text, ms double precision, ok boolean);
DO \$\$
DECLARE
    cases text[][] := ARRAY[
        ['bare crypt() of the same cost',     'SELECT crypt(''secret-pw'', %L) IS NOT NULL'],
        ['recording worker alone',            'SELECT clinres._record_login(NULL, ''none'', NULL, NULL, NULL, NULL) IS NOT NULL'],
        ['success (email, other case)',       'SELECT clinres.login(''USER${users}@Example.org'', ''secret-pw'') IS NOT NULL'],
        ['success (phone)',                   'SELECT clinres.login(''+86 139 00000005'', ''secret-pw'') IS NOT NULL'],
        ['NULL: unknown user',                'SELECT clinres.login(''nobody@example.org'', ''secret-pw'') IS NULL'],
        ['NULL: wrong password',              'SELECT clinres.login(''user1@example.org'', ''wrong-pw'') IS NULL'],
        ['NULL: wrong password, cheaper hash', 'SELECT clinres.login(''user6@example.org'', ''wrong-pw'') IS NULL'],
        ['NULL: disabled user',               'SELECT clinres.login(''user2@example.org'', ''secret-pw'') IS NULL'],
        ['NULL: disabled tenant',             'SELECT clinres.login(''user3@example.org'', ''secret-pw'') IS NULL'],
        ['NULL: locked account',              'SELECT clinres.login(''user4@example.org'', ''secret-pw'') IS NULL']];
    t0 timestamptz;
    ok boolean;
BEGIN
    FOR r IN 0..$rounds LOOP   -- round 0 warms up and is not counted
        FOR i IN 1..array_length(cases, 1) LOOP
            t0 := clock_timestamp();
            EXECUTE format(cases[i][2], current_setting('bench.hash')) INTO ok;
            IF r > 0 THEN
                INSERT INTO timing VALUES (r, cases[i][1], extract(epoch FROM clock_timestamp() - t0) * 1000, ok);
            END IF;
        END LOOP;
    END LOOP;
END
\$\$;
\echo
\echo 'median per call, ms (every call also checked: ok = answered as expected)'
SELECT name AS "case", round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS median_ms,
       round(min(ms)::numeric, 2) AS min_ms, round(max(ms)::numeric, 2) AS max_ms, bool_and(ok) AS ok
  FROM timing GROUP BY name ORDER BY min(round), name;
WITH m AS (SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS med FROM timing GROUP BY name)
SELECT round(((max(med) FILTER (WHERE name LIKE 'NULL:%') / min(med) FILTER (WHERE name LIKE 'NULL:%') - 1)
              * 100)::numeric, 1) AS "spread of the NULL medians, %",
       round(((max(med) FILTER (WHERE name LIKE 'success%' OR name LIKE 'NULL:%')
             / min(med) FILTER (WHERE name LIKE 'success%' OR name LIKE 'NULL:%') - 1) * 100)::numeric, 1)
           AS "spread with the successes, %"
  FROM m;
WITH m AS (SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS med FROM timing GROUP BY name)
SELECT m.name AS "case", round((m.med - b.med)::numeric, 2) AS "ms over one bcrypt",
       round((m.med - b.med - w.med)::numeric, 2) AS "ms over one bcrypt and the worker"
  FROM m, m b, m w WHERE b.name = 'bare crypt() of the same cost' AND w.name = 'recording worker alone'
   AND m.name NOT IN (b.name, w.name) ORDER BY m.name;
SQL
