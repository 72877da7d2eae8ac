#!/usr/bin/env bash
# Targeted invalidation in both configurations, each in a cluster of its own: clinres
# preloaded (the shared change log) and not (key doorbells). In each, (1) the freshness
# proofs (the access isolation specs and the differential test) pass, and (2) a warm
# session re-reads exactly what another session's commit changed: one user, one tenant,
# every user (and, with the log, every tenant) after a bulk write too big to name its
# keys, and a prepared transaction's keys when COMMIT PREPARED runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
own_cluster targeted 55532

# Runs both checks in a new cluster; $1 names the configuration, $2 is its preload line,
# $3 the reads after the bulk write (the log overflows: users and tenants; key doorbells
# ring the users' doorbell: users only).
check() {
local name=$1 preload=$2 bulk_reads=$3
own_cluster_init
cat >>"$dir/data/postgresql.conf" <<CONF
$preload
max_prepared_transactions = 4
CONF
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres

specs=$(cd test/isolation/specs && ls access-*.spec | sed 's/\.spec$//' | tr '\n' ' ')
# Results (regression and isolation) in directories of this run's own: the regression and
# isolation suites run at once, and would otherwise write the same result files.
rm -rf "$dir/proofs" "$dir/proofs_iso" && mkdir -p "$dir/proofs" "$dir/proofs_iso"
if ! make -s installcheck REGRESS=differential ISOLATION="$specs" EXTRA_REGRESS_OPTS="--outputdir=$dir/proofs" \
    ISOLATION_OUTPUTDIR="$dir/proofs_iso" >"$dir/proofs.log" 2>&1; then
    cat "$dir/proofs.log" "$dir/proofs/regression.diffs" "$dir/proofs_iso/regression.diffs" 2>/dev/null || true
    fail "the freshness proofs failed ($name)"
fi

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION clinres CASCADE" >/dev/null 2>&1
out=$(psql -X -At -v ON_ERROR_STOP=1 2>&1 <<'SQL'
\set QUIET on
\i test/fixtures/sample.sql
\set aia 'clinres.has_module(:bob, :A, ''aia'') AS bob, clinres.has_module(:alice, :A, ''aia'') AS alice, clinres.has_module(''00000000-0000-0000-0000-0000000000c0'', :B, ''aia'') AS carol'
SELECT 'warm', :aia;
SELECT misses AS m FROM clinres.access_cache_stats() \gset
\! psql -X -q -c "UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = '00000000-0000-0000-0000-0000000000b0' AND module_code = 'aia'"
SELECT 'one user', :aia;
SELECT 'reads', misses - :m FROM clinres.access_cache_stats();
SELECT misses AS m FROM clinres.access_cache_stats() \gset
\! psql -X -q -c "UPDATE clinres.tenant_modules SET expires_at = now() + interval '1 day' WHERE tenant_id = 'b0000000-0000-0000-0000-00000000000b'"
SELECT 'one tenant', :aia;
SELECT 'reads', misses - :m FROM clinres.access_cache_stats();
SELECT misses AS m FROM clinres.access_cache_stats() \gset
\! psql -X -q -c "UPDATE clinres.users SET name = name || ' Jr', phone = NULL" -c "UPDATE clinres.tenants SET name = name || '!'"
SELECT 'profile edits', :aia;
SELECT 'reads', misses - :m FROM clinres.access_cache_stats();
SELECT misses AS m FROM clinres.access_cache_stats() \gset
\! psql -X -q -c "INSERT INTO clinres.users (id, email, name) SELECT md5('bulk' || n)::uuid, 'bulk' || n || '@x.example', 'bulk' FROM generate_series(1, 6000) n"
SELECT 'bulk', :aia;
SELECT 'reads', misses - :m FROM clinres.access_cache_stats();
\! psql -X -q -c "BEGIN" -c "UPDATE clinres.users SET status = 'disabled' WHERE email LIKE 'alice%'" -c "PREPARE TRANSACTION 'p1'"
SELECT 'prepared', :aia;
\! psql -X -q -c "COMMIT PREPARED 'p1'"
SELECT 'committed', :aia;
BEGIN;
UPDATE clinres.user_modules SET is_enabled = true WHERE user_id = :bob AND module_code = 'aia';
SELECT 'own change', :aia;
ROLLBACK;
SELECT 'rolled back', :aia;
SQL
)
expected='warm|t|t|t
one user|f|t|t
reads|1
one tenant|f|t|t
reads|1
profile edits|f|t|t
reads|0
bulk|f|t|t
reads|'"$bulk_reads"'
prepared|f|t|t
committed|f|f|t
own change|t|f|t
rolled back|f|f|t'
if [ "$out" != "$expected" ]; then
    diff <(echo "$expected") <(echo "$out") || true
    fail "targeted invalidation ($name)"
fi
as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
echo "targeted invalidation ($name): freshness proofs pass; a commit re-reads one user or one tenant, profile edits nothing, a bulk write every user"
}

check "clinres preloaded, shared change log" "shared_preload_libraries = 'clinres'" 5
check "clinres preloaded, shared access table" "shared_preload_libraries = 'clinres'
clinres.shared_access_cache_memory = '64MB'" 5
check "not preloaded, key doorbells" "" 3
