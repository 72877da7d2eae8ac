#!/usr/bin/env bash
# The shared access table (clinres preloaded), in a cluster of its own: a new session's
# has_module is answered by the table that another session filled (shared_hits, no catalog
# read); a grant change committed in another session is seen at once by an old and a new
# session; a transaction sees its own uncommitted change while others do not; a prepared
# transaction's change is seen once COMMIT PREPARED ran; a TRUNCATE outdates the whole
# table; each database has answers of its own; a small table grows to its size and then
# leaves what it cannot hold to the sessions' caches; and clinres.shared_access_cache_memory
# = 0 turns the table off.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
own_cluster shared 55632

own_cluster_init
cat >>"$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'clinres'
clinres.shared_access_cache_memory = '64MB'
max_prepared_transactions = 4
CONF
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres

for db in postgres other; do
    [ "$db" = postgres ] || psql -X -q -c "CREATE DATABASE other"
    psql -X -q -d "$db" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql >/dev/null 2>&1
done
# The same pairs, with bob's aia taken away in the other database only.
psql -X -q -d other -c "UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = '00000000-0000-0000-0000-0000000000b0' AND module_code = 'aia'"

# $aia: bob's, alice's and carol's aia; $new: a new session's answers, then its catalog reads
# (a tenant or a user each; the modules and roles count none) and its shared-table hits. The
# old session refills what it re-read, so a new session after it reads nothing; after a
# flush (COMMIT PREPARED, TRUNCATE) the first new session reads everything.
cols="clinres.has_module('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'aia') AS bob,
            clinres.has_module('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', 'aia') AS alice,
            clinres.has_module('00000000-0000-0000-0000-0000000000c0', 'b0000000-0000-0000-0000-00000000000b', 'aia') AS carol"
aia="SELECT $cols"
export aia cols
new='psql -X -At -F " " -c "$aia" -c "SELECT misses, shared_hits FROM clinres.access_cache_stats()" | tr "\n" " " | sed "s/|/ /g; s/ $//"'
export new
out=$(psql -X -At -v ON_ERROR_STOP=1 2>&1 <<'SQL'
\set QUIET on
\getenv cols cols
SELECT 'filler', :cols;
SELECT 'filler stats', misses, shared_hits, shared_entries >= 3, shared_bytes > 0 FROM clinres.access_cache_stats();
\! echo "new session: $(bash -c "$new")"
SELECT 'old session', :cols;
\! psql -X -q -c "UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = '00000000-0000-0000-0000-0000000000b0' AND module_code = 'aia'"
SELECT 'old after grant change', :cols;
\! echo "new after grant change: $(bash -c "$new")"
BEGIN;
UPDATE clinres.user_modules SET is_enabled = true WHERE user_id = '00000000-0000-0000-0000-0000000000b0' AND module_code = 'aia';
SELECT 'own uncommitted', :cols;
\! echo "new during it: $(bash -c "$new")"
ROLLBACK;
SELECT 'rolled back', :cols;
\! psql -X -q -c "BEGIN" -c "UPDATE clinres.users SET status = 'disabled' WHERE email LIKE 'alice%'" -c "PREPARE TRANSACTION 'p1'"
\! echo "new while prepared: $(bash -c "$new")"
\! psql -X -q -c "COMMIT PREPARED 'p1'"
\! echo "new after commit prepared: $(bash -c "$new")"
SELECT 'old after commit prepared', :cols;
\! psql -X -q -c "TRUNCATE clinres.user_modules"
\! echo "new after truncate: $(bash -c "$new")"
SELECT 'old after truncate', :cols;
\! echo "other database: $(bash -c "PGDATABASE=other; $new")"
\! echo "other database again: $(bash -c "PGDATABASE=other; $new")"
SQL
)
expected='filler|t|t|t
filler stats|5|0|t|t
new session: t t t 0 3
old session|t|t|t
old after grant change|f|t|t
new after grant change: f t t 0 3
own uncommitted|t|t|t
new during it: f t t 0 3
rolled back|f|t|t
new while prepared: f t t 0 3
new after commit prepared: f f t 5 0
old after commit prepared|f|f|t
new after truncate: t f t 5 0
old after truncate|t|f|t
other database: f t t 5 0
other database again: f t t 0 3'
if [ "$out" != "$expected" ]; then
    diff <(echo "$expected") <(echo "$out") || true
    fail "shared access table"
fi

# A small table (1MB: 2,730 buckets, 1,024 at first: a sixteenth would be fewer) and 12,000 pairs of 4,000 users in 3
# tenants each, with grants that differ: it grows to its full size, then keeps what it holds
# and leaves the rest to the sessions' caches; a new session's answers, from both, equal the
# oracle's, and after one user's change too.
as_postgres "$bin/pg_ctl" -D "$dir/data" -w -o "-c clinres.shared_access_cache_memory=1MB" restart >/dev/null
grow=$(psql -X -At -v ON_ERROR_STOP=1 2>&1 <<'SQL'
\set QUIET on
\i test/oracle.sql
INSERT INTO clinres.tenants (id, code, name) SELECT md5('gt' || n)::uuid, 'GT' || n, 'g' || n FROM generate_series(1, 3) n;
INSERT INTO clinres.tenant_modules (tenant_id, module_code) SELECT md5('gt' || n)::uuid, m FROM generate_series(1, 3) n, unnest(ARRAY['aia', 'pkb']) m;
INSERT INTO clinres.users (id, email, name) SELECT md5('gu' || n)::uuid, 'gu' || n || '@x.example', 'g' FROM generate_series(1, 4000) n;
INSERT INTO clinres.user_tenants (tenant_id, user_id) SELECT md5('gt' || t)::uuid, md5('gu' || n)::uuid FROM generate_series(1, 4000) n, generate_series(1, 3) t;
INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
SELECT md5('gt' || t)::uuid, md5('gu' || n)::uuid, 'aia', (n + t) % 3 = 0 FROM generate_series(1, 4000) n, generate_series(1, 3) t WHERE n % 2 = 0;
CREATE TABLE pairs AS SELECT md5('gu' || n)::uuid AS u, md5('gt' || t)::uuid AS t FROM generate_series(1, 4000) n, generate_series(1, 3) t;
SELECT count(*) FILTER (WHERE clinres.has_module(u, t, 'aia')) > 0 FROM pairs;
SELECT 'filled', shared_bytes > 1000000, shared_entries > 6000 FROM clinres.access_cache_stats();
\! psql -X -At -c "SELECT 'new session', count(*) FILTER (WHERE clinres.has_module(u, t, 'aia') IS DISTINCT FROM clinres_oracle.has_module(u, t, 'aia')) AS wrong, count(*) FILTER (WHERE clinres.has_module(u, t, 'aia')) > 0 AS some FROM pairs" -c "SELECT 'from the table', shared_hits > 4000 FROM clinres.access_cache_stats()"
\! psql -X -q -c "UPDATE clinres.user_modules SET is_enabled = NOT is_enabled WHERE user_id = md5('gu2')::uuid"
\! psql -X -At -c "SELECT 'after a change', count(*) FILTER (WHERE clinres.has_module(u, t, 'aia') IS DISTINCT FROM clinres_oracle.has_module(u, t, 'aia')) FROM pairs"
SELECT 'old session', count(*) FILTER (WHERE clinres.has_module(u, t, 'aia') IS DISTINCT FROM clinres_oracle.has_module(u, t, 'aia')) FROM pairs;
SQL
)
expected_grow='t
filled|t|t
new session|0|t
from the table|t
after a change|0
old session|0'
if [ "$grow" != "$expected_grow" ]; then
    diff <(echo "$expected_grow") <(echo "$grow") || true
    fail "shared access table, grown to its full size"
fi

# Turned off: every session reads the catalog itself, and the stats say there is no table.
as_postgres "$bin/pg_ctl" -D "$dir/data" -w -o "-c clinres.shared_access_cache_memory=0" restart >/dev/null
psql -X -At -c "$aia" >/dev/null
off=$(bash -c "$new")
[ "$off" = "t f t 5 0" ] || fail "with clinres.shared_access_cache_memory = 0: $off"
[ "$(psql -X -At -c "SELECT shared_bytes FROM clinres.access_cache_stats()")" = 0 ] || fail "shared_bytes with the table off"
echo "shared access table: a new session answers from it without a catalog read; commits, prepared transactions, TRUNCATE and other databases are seen; own changes stay private"
