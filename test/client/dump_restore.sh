#!/usr/bin/env bash
# pg_dump and restore: a database with clinres and its data, dumped and restored
# into a new database, answers every access question the same way and holds the
# same catalog rows (the seeds are remade by CREATE EXTENSION, the rest is dumped).
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
src=clinres_dump_src dst=clinres_dump_dst
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql \
    -c "INSERT INTO clinres.modules (code, name, schema_name, sort_order, route) VALUES ('crf', 'eCRF', 'crf_schema', 90, '/crf')" \
    -c "INSERT INTO clinres.tenant_modules (tenant_id, module_code) VALUES ('a0000000-0000-0000-0000-00000000000a', 'crf')" \
    -c "INSERT INTO clinres.admin_logs (action, target) VALUES ('create', 'tenant HOSP_A'), ('create', 'tenant HOSP_B')" \
    -c "INSERT INTO clinres.user_tenants (tenant_id, user_id) VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-0000000000c0')" \
    >/dev/null 2>&1
# What must survive: every catalog table's rows and every answer.
state() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" \
      -c "CREATE FUNCTION pg_temp.n(t regclass) RETURNS bigint LANGUAGE plpgsql AS \$\$
          DECLARE r bigint; BEGIN EXECUTE format('SELECT count(*) FROM %s', t) INTO r; RETURN r; END \$\$" \
      -c "SELECT string_agg(format('%s=%s', c.relname, pg_temp.n(c.oid::regclass)), ' ' ORDER BY c.relname)
        FROM pg_class c WHERE c.relnamespace = 'clinres'::regnamespace AND c.relkind = 'r'" \
      -c "SELECT md5(string_agg(format('%s %s %s %s', u.email, t.code, m.code, clinres.has_module(u.id, t.id, m.code)), ',' ORDER BY 1))
            FROM clinres.users u, clinres.tenants t, clinres.modules m" \
      -c "SELECT md5(string_agg(u::text, ',' ORDER BY u.id)) FROM clinres.users u" \
      -c "SELECT last_value FROM clinres.admin_logs_id_seq"
}
before=$(state "$src")
pg_dump -d "$src" >"/tmp/$src.sql"
psql -X -q -v ON_ERROR_STOP=1 -d "$dst" -f "/tmp/$src.sql" >/dev/null 2>"/tmp/$src.err" || { cat "/tmp/$src.err"; fail "restore failed"; }
after=$(state "$dst")
rm -f "/tmp/$src.sql" "/tmp/$src.err"
if [ "$before" != "$after" ]; then
    echo "before: $before"; echo "after:  $after"; fail "the restored database differs"
fi
echo "$before" | head -1 | tr ' ' '\n' | sed 's/^/  /'
echo "dump/restore: every catalog row count, every has_module answer and the audit sequence survived"
