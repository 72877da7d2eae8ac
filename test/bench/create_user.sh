#!/usr/bin/env bash
# create_user's cost (goal <= 2 ms, issue 24) with _check_user_rows' generic plan (as shipped)
# beside the custom plan PostgreSQL would otherwise make at every call, in one run on one database:
# the sample plus 20,000 members of HOSP_A, rounds interleaved, each in a transaction rolled back;
# and a 5,000-row CSV dry-run import in both modes. Never fails on time.
# Usage (a throw-away cluster): scripts/cluster.sh bash test/bench/create_user.sh  [ROUNDS=5 CALLS=50]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-5} calls=${CALLS:-50} db=clinres_bench_create_user
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION clinres CASCADE" \
    -f test/fixtures/sample.sql >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<'SQL'
INSERT INTO clinres.users (email, name) SELECT 'u' || i || '@x.example', 'U' || i FROM generate_series(1, 20000) i;
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
SELECT 'a0000000-0000-0000-0000-00000000000a', id, 'USER' FROM clinres.users WHERE email LIKE 'u%@x.example';
ANALYZE;
SQL
fn="clinres._check_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[], text[])"
# ms MODE: one fresh session: ms per create_user (CALLS calls) and ms of the 5,000-row dry run.
ms() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d $db <<SQL
ALTER FUNCTION $fn SET plan_cache_mode = $1;
BEGIN;
SELECT clinres.set_context('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a') IS NOT NULL AS ctx \gset
SELECT clinres.create_user('warm@new.example', 'N') IS NOT NULL AS warm \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS n FROM (SELECT clinres.create_user('n' || g || '@new.example', '新用户') FROM generate_series(1, $calls) g) s \gset
SELECT round((extract(epoch FROM clock_timestamp() - :'t0') * 1000 / $calls)::numeric, 2) AS per_call \gset
SELECT convert_to('email,name' || E'\n' || string_agg('imp' || g || '@new.example,Imp ' || g, E'\n'), 'UTF8') AS f
  FROM generate_series(1, 5000) g \gset
SELECT clock_timestamp() AS t1 \gset
SELECT count(*) AS r FROM clinres.import_users(:'f'::bytea, NULL, 'csv', true) \gset
SELECT :per_call || ' ' || round((extract(epoch FROM clock_timestamp() - :'t1') * 1000)::numeric, 1);
ROLLBACK;
ALTER FUNCTION $fn SET plan_cache_mode = force_generic_plan;
SQL
}
g=() c=() gi=() ci=()
for ((i = 0; i < rounds; i++)); do
    read -r a b < <(ms force_generic_plan); g+=("$a"); gi+=("$b")
    read -r a b < <(ms auto); c+=("$a"); ci+=("$b")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
mg=$(median "${g[@]}") mc=$(median "${c[@]}") mgi=$(median "${gi[@]}") mci=$(median "${ci[@]}")
echo "create_user, median of $rounds rounds of $calls calls (20,000 members; defaults):"
echo "  generic plan (shipped): $mg ms a call   goal <= 2 ms"
echo "  custom plan per call:   $mc ms a call   ratio custom/generic $(awk "BEGIN {printf \"%.2f\", $mc / $mg}")"
echo "5,000-row CSV dry-run import: generic $mgi ms, custom $mci ms (ratio $(awk "BEGIN {printf \"%.2f\", $mci / $mgi}"))"
