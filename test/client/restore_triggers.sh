#!/usr/bin/env bash
# pg_restore --data-only --disable-triggers wraps each table's data in ALTER TABLE ...
# DISABLE TRIGGER ALL / ENABLE TRIGGER ALL. Afterwards the access cache's invalidation
# triggers must still fire ALWAYS, so that a change applied under
# session_replication_role = replica (logical replication) reaches a warm session.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
src=clinres_restore_src dst=clinres_restore_dst dump=/tmp/clinres_restore.dump
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" >/dev/null 2>&1 || true; rm -f $dump $dump.sql; }
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -d "$dst" -c "CREATE EXTENSION clinres CASCADE" >/dev/null 2>&1
pg_dump -Fc --data-only -d "$src" -f $dump
pg_restore --data-only --disable-triggers -d "$dst" $dump
pg_restore --data-only --disable-triggers -f $dump.sql $dump
grep -q 'DISABLE TRIGGER ALL' $dump.sql || fail "the restore did not disable triggers"
not_always=$(psql -X -At -d "$dst" -c "SELECT string_agg(tgrelid::regclass::text || '=' || tgenabled::text, ' ')
                                         FROM pg_trigger WHERE tgname = 'access_cache_invalidate' AND tgenabled <> 'A'")
[ -z "$not_always" ] || fail "invalidation triggers no longer ENABLE ALWAYS after the restore: $not_always"
# One session stays warm while another applies a revoke as a replica would.
out=$(psql -X -At -v ON_ERROR_STOP=1 -d "$dst" <<SQL
SELECT clinres.has_module('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'aia');
\! psql -X -q -d $dst -c "SET session_replication_role = replica" -c "UPDATE clinres.users SET status = 'disabled' WHERE email = 'bob@hosp-a.example'"
SELECT clinres.has_module('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'aia');
SQL
)
[ "$(echo $out)" = "t f" ] || fail "a warm session kept bob's access after a replica-mode revoke (answers: $(echo $out))"
echo "pg_restore --disable-triggers: invalidation triggers still ALWAYS; a replica-mode revoke reached a warm session"
