#!/usr/bin/env bash
# Benchmark of the users import (docs/benchmarks.md, "Import"), in the cluster PGHOST/PGPORT
# point to (e.g. pg_virtualenv -v 15 bash test/bench/import.sh). Not part of the tests.
# `test/bench/import.sh memory` runs the memory part only.
# - 10,000 rows without passwords: import_users from .xlsx and from CSV, against loading the same
#   CSV with COPY into a staging table plus the same writes (the writer create_user uses, per row;
#   and, as a floor, plain set-based INSERTs of the same rows), each rolled back;
# - 100,000 rows: import_users from .xlsx against COPY + the same set-based INSERTs;
# - memory: peak RSS (VmHWM) growth of a fresh backend around a dry run and an import (rolled
#   back) of 10,000 and 100,000 rows, and around the hostile shapes of make_hostile_files.py;
# - password hashes: 10,000 rows with a password_hash each against the same rows without;
# - passwords: 200 rows with a password each, at the default bcrypt cost.
set -euo pipefail
cd "$(dirname "$0")/../.."
parts=${1:-all}
work=$(mktemp -d /tmp/clinres-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -o "$work/make_import_files" test/bench/make_import_files.c -lxlsxwriter
"$work/make_import_files" "$work" 10000 0
"$work/make_import_files" "$work" 100000 0
"$work/make_import_files" "$work" 200 1
/usr/bin/python3 test/bench/make_hostile_files.py "$work"
chmod -R a+rX "$work"
ls -l "$work" | awk '/\.(xlsx|csv)$/ {print "  " $9 ": " $5 " bytes"}'

db=clinres_bench_import
psql -X -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql >/dev/null

if [ "$parts" != memory ]; then
# A real $2b$ hash (python3-bcrypt, test/fixtures/bcrypt/hashes.csv) for the password_hash rows.
hash=$(awk -F, '$1 == "2b" {print $3; exit}' test/fixtures/bcrypt/hashes.csv)
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v dir="$work" -v hash="$hash" <<'SQL'
\o /dev/null
SELECT clinres.set_context('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', false);
SET jit = off;
SELECT set_config('bench.dir', :'dir', false);
\o
-- Milliseconds q takes; what it wrote is rolled back.
CREATE FUNCTION pg_temp.timed(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms numeric;
BEGIN
    BEGIN
        t0 := clock_timestamp();
        EXECUTE q;
        ms := round(extract(epoch FROM clock_timestamp() - t0) * 1000);
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'roll back';
    EXCEPTION WHEN raise_exception THEN
    END;
    RETURN ms;
END $$;
-- The CSV loaded with COPY into a staging table, then written row by row by create_user's writer.
CREATE FUNCTION pg_temp.copy_and_writer(path text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    CREATE TEMP TABLE staging (email text, name text, phone text, role text, modules text) ON COMMIT DROP;
    EXECUTE format('COPY staging FROM %L (FORMAT csv, HEADER)', path);
    SELECT count(*) INTO n FROM staging s,
           LATERAL clinres._create_or_add_user(s.email, s.name, s.phone, s.role, string_to_array(s.modules, ','),
                                               'a0000000-0000-0000-0000-00000000000a', 'error', NULL) w;
    DROP TABLE staging;
    RETURN n;
END $$;
-- The floor: COPY, then the same rows inserted set-based, without any check.
CREATE FUNCTION pg_temp.copy_and_insert(path text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    CREATE TEMP TABLE staging (email text, name text, phone text, role text, modules text) ON COMMIT DROP;
    EXECUTE format('COPY staging FROM %L (FORMAT csv, HEADER)', path);
    CREATE TEMP TABLE ids ON COMMIT DROP AS
        WITH u AS (INSERT INTO clinres.users (email, name, phone) SELECT email, name, phone FROM staging RETURNING id, email)
        SELECT * FROM u;
    INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
        SELECT 'a0000000-0000-0000-0000-00000000000a', id, 'USER' FROM ids;
    INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
        SELECT 'a0000000-0000-0000-0000-00000000000a', i.id, 'aia', true FROM ids i;
    INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
        SELECT '00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', 'user.create', id::text,
               jsonb_build_object('after', jsonb_build_object('email', email)) FROM ids;
    SELECT count(*) INTO n FROM ids;
    DROP TABLE staging, ids;
    RETURN n;
END $$;
\pset footer off
\echo '10,000 rows without passwords (ms, each rolled back):'
WITH runs AS (
    SELECT what, pg_temp.timed(q) AS ms FROM (VALUES
        ('import_users(.xlsx)', format($q$SELECT count(*) FROM clinres.import_users(pg_read_binary_file(%L))$q$, current_setting('bench.dir') || '/users_10000.xlsx')),
        ('import_users(CSV)', format($q$SELECT count(*) FROM clinres.import_users(pg_read_binary_file(%L))$q$, current_setting('bench.dir') || '/users_10000.csv')),
        ('import_users(.xlsx, dry_run)', format($q$SELECT count(*) FROM clinres.import_users(pg_read_binary_file(%L), dry_run => true)$q$, current_setting('bench.dir') || '/users_10000.xlsx')),
        ('COPY + create_user''s writer per row', format($q$SELECT pg_temp.copy_and_writer(%L)$q$, current_setting('bench.dir') || '/users_10000.csv')),
        ('COPY + set-based INSERTs (no checks)', format($q$SELECT pg_temp.copy_and_insert(%L)$q$, current_setting('bench.dir') || '/users_10000.csv'))
    ) v(what, q))
SELECT what, ms, round(ms / (SELECT ms FROM runs WHERE what LIKE 'COPY + create%'), 2) AS vs_copy_writer,
       round(ms / (SELECT ms FROM runs WHERE what LIKE 'COPY + set%'), 1) AS vs_copy_insert
  FROM runs;
\echo '100,000 rows without passwords (ms, each rolled back):'
WITH runs AS (
    SELECT what, pg_temp.timed(q) AS ms FROM (VALUES
        ('import_users(.xlsx)', format($q$SELECT count(*) FROM clinres.import_users(pg_read_binary_file(%L))$q$, current_setting('bench.dir') || '/users_100000.xlsx')),
        ('import_users(.xlsx, dry_run)', format($q$SELECT count(*) FROM clinres.import_users(pg_read_binary_file(%L), dry_run => true)$q$, current_setting('bench.dir') || '/users_100000.xlsx')),
        ('COPY + set-based INSERTs (no checks)', format($q$SELECT pg_temp.copy_and_insert(%L)$q$, current_setting('bench.dir') || '/users_100000.csv'))
    ) v(what, q))
SELECT what, ms, round(ms / (SELECT ms FROM runs WHERE what LIKE 'COPY + set%'), 2) AS vs_copy_insert FROM runs;
\echo '10,000 rows with a password_hash each (bcrypt hashes stored as given) against the same rows without (ms, each rolled back):'
SELECT set_config('bench.hash', :'hash', false) IS NOT NULL AS hash_set \gset
CREATE FUNCTION pg_temp.hash_csv(with_hash boolean) RETURNS bytea LANGUAGE sql AS $$
    SELECT convert_to(CASE WHEN with_hash THEN E'email,name,password_hash\n' ELSE E'email,name\n' END ||
                      string_agg(format('hash%s@bench.example,Hash %s', i, i) ||
                                 CASE WHEN with_hash THEN ',' || current_setting('bench.hash') ELSE '' END, E'\n'), 'UTF8')
      FROM generate_series(1, 10000) i
$$;
WITH runs AS (
    SELECT what, pg_temp.timed(q) AS ms FROM (VALUES
        ('import_users(CSV), no password', $q$SELECT count(*) FROM clinres.import_users(pg_temp.hash_csv(false))$q$),
        ('import_users(CSV), password_hash', $q$SELECT count(*) FROM clinres.import_users(pg_temp.hash_csv(true))$q$)
    ) v(what, q))
SELECT what, ms, round(ms / (SELECT ms FROM runs WHERE what LIKE '%no password'), 2) AS vs_no_password FROM runs;
\echo '200 rows with a password each:'
SELECT current_setting('clinres.bcrypt_cost') AS bcrypt_cost,
       pg_temp.timed(format($q$SELECT count(*) FROM clinres.import_users(pg_read_binary_file(%L))$q$, current_setting('bench.dir') || '/users_200_pw.xlsx')) AS ms_200_rows,
       pg_temp.timed($q$SELECT crypt('bench-password-1', gen_salt('bf', current_setting('clinres.bcrypt_cost')::int))$q$) AS ms_one_bcrypt;
SQL
fi

# Peak RSS growth of a fresh backend around one import_users call (the whole file is read and every
# row checked; and written, then rolled back, unless dry): VmHWM after minus VmHWM before, in kB,
# which counts the shared buffers the backend touched too (the pages of the tables an import
# writes); and the peak of its private memory (RssAnon, sampled every 50 ms) above its value before.
peak() {
    psql -X -q -v ON_ERROR_STOP=0 -d "$db" -v file="$work/$1" -v dry="$2" -v what="$1 ($3)" <<'SQL' 2>&1 | grep -v '^NOTICE'
SELECT clinres.set_context('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', false) \gset
SET jit = off;
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
\setenv WHAT :what
\! awk '/VmHWM/ {print $2}' /proc/$PID/status > /tmp/clinres-bench-hwm.$PID; awk '/RssAnon/ {print $2}' /proc/$PID/status > /tmp/clinres-bench-anon0.$PID
\! (while [ -e /tmp/clinres-bench-hwm.$PID ]; do awk '/RssAnon/ {print $2}' /proc/$PID/status; sleep 0.05; done > /tmp/clinres-bench-anon.$PID) &
BEGIN;
SELECT count(*) AS rows_reported FROM clinres.import_users(pg_read_binary_file(:'file'), dry_run => :dry) \gset
ROLLBACK;
\! hwm0=$(cat /tmp/clinres-bench-hwm.$PID); rm -f /tmp/clinres-bench-hwm.$PID; sleep 0.1; printf '  %-34s VmHWM +%6d kB, private (RssAnon) peak +%6d kB\n' "$WHAT" $(( $(awk '/VmHWM/ {print $2}' /proc/$PID/status) - hwm0 )) $(( $(sort -n /tmp/clinres-bench-anon.$PID | tail -1) - $(cat /tmp/clinres-bench-anon0.$PID) )); rm -f /tmp/clinres-bench-anon.$PID /tmp/clinres-bench-anon0.$PID
SQL
}
echo 'Memory:'
for n in 10000 100000; do
    peak "users_$n.xlsx" true "dry run"
    peak "users_$n.xlsx" false "import"
done
peak users_100000.csv false "import"
peak amplified.xlsx true "dry run"
peak strings.xlsx true "dry run"
peak long_rows.csv true "dry run"
psql -X -q -c "DROP DATABASE $db"
