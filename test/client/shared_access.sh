#!/usr/bin/env bash
# The shared access table (clinres preloaded), in a cluster of its own: a new session's
# has_module is answered by the table that another session filled (shared_hits, no catalog
# read); a grant change committed in another session is seen at once by an old and a new
# session; a transaction sees its own uncommitted change while others do not; a prepared
# transaction's change is seen once COMMIT PREPARED ran; a TRUNCATE outdates the whole
# table; each database has answers of its own; and clinres.shared_access_cache_memory = 0
# turns the table off.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
bin=$(pg_config --bindir)
dir=$(mktemp -d /tmp/clinres-shared.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$(free_port 55632)
cleanup() { as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT

as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'clinres'
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

# Turned off: every session reads the catalog itself, and the stats say there is no table.
as_postgres "$bin/pg_ctl" -D "$dir/data" -w -o "-c clinres.shared_access_cache_memory=0" restart >/dev/null
psql -X -At -c "$aia" >/dev/null
off=$(bash -c "$new")
[ "$off" = "t f t 5 0" ] || fail "with clinres.shared_access_cache_memory = 0: $off"
[ "$(psql -X -At -c "SELECT shared_bytes FROM clinres.access_cache_stats()")" = 0 ] || fail "shared_bytes with the table off"
echo "shared access table: a new session answers from it without a catalog read; commits, prepared transactions, TRUNCATE and other databases are seen; own changes stay private"
