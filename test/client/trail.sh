#!/usr/bin/env bash
# The audit trail's chains under concurrency and across the upgrade.
# 1. 20 administrators (20 psql clients at once, READ COMMITTED and REPEATABLE READ mixed) change
#    members of two tenants, each in transactions of several audit rows; afterwards
#    verify_admin_logs is ok for every chain and every committed row is in one (no fork).
# 2. A 0.2.1 database with audit rows in two tenants and platform-wide, updated with ALTER
#    EXTENSION UPDATE: its rows are chained from the first one (verify_admin_logs ok, the first row
#    of each chain starts from 32 zero bytes) and a new row links to the old head.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
db=clinres_trail db_old=clinres_trail_old
cleanup() { for d in $db $db_old; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
cleanup
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }

psql -X -q -d postgres -c "CREATE DATABASE $db" -c "CREATE DATABASE $db_old" >/dev/null
PGOPTIONS="-c client_min_messages=warning" q $db -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql >/dev/null
A=a0000000-0000-0000-0000-00000000000a B=b0000000-0000-0000-0000-00000000000b erin=00000000-0000-0000-0000-0000000000e0
# 20 members of each tenant to change.
q $db -c "SELECT clinres.set_context('$erin', NULL, false)" \
      -c "SET clinres.bcrypt_cost = 4" \
      -c "SELECT count(clinres.create_user('m' || i || '@t' || t || '.example', 'M' || i, NULL, CASE t WHEN 1 THEN '$A'::uuid ELSE '$B' END, 'USER'))
            FROM generate_series(1, 20) i, generate_series(1, 2) t" >/dev/null
q $db -c "SELECT clinres.set_context('$erin', NULL, false)" -c "SELECT 1" >/dev/null
rounds=5
# Error files of this run only: several checkouts may run the suites at once on one machine.
errs=$(mktemp -d /tmp/clinres-trail.XXXXXX)
for s in $(seq 1 20); do
    iso=$([ $((s % 2)) -eq 0 ] && echo "REPEATABLE READ" || echo "READ COMMITTED")
    (
        for r in $(seq 1 $rounds); do
            # Two tenants' chains per transaction, in either order: a 40001 (REPEATABLE READ) or a
            # deadlock (two writers claiming the same two chains in opposite orders) is retried.
            for attempt in 1 2 3 4 5 6 7 8 9 10; do
                if q $db >/dev/null 2>"$errs/$s.err" <<SQL
BEGIN ISOLATION LEVEL $iso;
SET LOCAL clinres.change_reason = 'session $s round $r';
SELECT clinres.set_context('$erin', NULL, false);
SELECT clinres.set_user_modules(u.id, ut.tenant_id, CASE WHEN $r % 2 = 0 THEN ARRAY['aia'] END)
  FROM clinres.users u JOIN clinres.user_tenants ut ON ut.user_id = u.id
 WHERE u.email IN ('m$s@t1.example', 'm$s@t2.example') ORDER BY u.email $([ $((s % 3)) -eq 0 ] && echo DESC);
SELECT clinres.set_user_status(u.id, CASE WHEN $r % 2 = 0 THEN 'disabled' ELSE 'active' END, ut.tenant_id)
  FROM clinres.users u JOIN clinres.user_tenants ut ON ut.user_id = u.id WHERE u.email = 'm$s@t1.example';
COMMIT;
SQL
                then break; fi
                grep -q -E "could not serialize|deadlock detected" "$errs/$s.err" || { cat "$errs/$s.err"; exit 1; }
            done
        done
    ) &
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=1; done
rm -rf "$errs"
[ $failed -eq 0 ] || fail "a concurrent administrator failed"
# Each transaction writes at least its status change (an unchanged module list writes nothing).
got=$(q $db -c "SELECT count(*) FROM clinres.admin_logs WHERE change_reason LIKE 'session %'")
[ "$got" -ge $((20 * rounds)) ] || fail "$got audit rows of the administrators, expected at least $((20 * rounds))"
verify=$(q $db -c "SELECT bool_and(ok) AND sum(rows) = (SELECT count(*) FROM clinres.admin_logs) FROM clinres.verify_admin_logs()")
[ "$verify" = t ] || { q $db -c "SELECT * FROM clinres.verify_admin_logs()"; fail "a chain forked under 20 concurrent administrators"; }
echo "20 concurrent administrators ($rounds transactions each, READ COMMITTED and REPEATABLE READ): $got rows, every chain verifies"

# 2. The upgrade chains the rows written before it.
PGOPTIONS="-c client_min_messages=warning" q $db_old -c "CREATE EXTENSION clinres VERSION '0.2.1' CASCADE" -f test/fixtures/sample.sql >/dev/null
q $db_old -c "SELECT clinres.set_context('$erin', NULL, false)" -c "SET clinres.bcrypt_cost = 4" \
    -c "SELECT clinres.create_user('old' || i || '@x.example', 'Old ' || i, NULL, CASE WHEN i % 2 = 0 THEN '$A'::uuid ELSE '$B' END, 'USER') FROM generate_series(1, 6) i" \
    -c "SELECT clinres.remove_tenant(u.id, '$B') FROM clinres.users u WHERE u.email = 'old1@x.example'" \
    -c "SELECT clinres.update_user(u.id, '{\"name\": \"Old One\"}') FROM clinres.users u WHERE u.email = 'old1@x.example'" >/dev/null
before=$(q $db_old -c "SELECT count(*) FROM clinres.admin_logs")
q $db_old -c "ALTER EXTENSION clinres UPDATE" >/dev/null
got=$(q $db_old -c "SELECT string_agg(format('%s %s %s', tenant_id IS NULL, rows, ok), ',' ORDER BY tenant_id NULLS FIRST) FROM clinres.verify_admin_logs()")
[ "$got" = "t 1 t,f 3 t,f 4 t" ] || fail "after the upgrade verify_admin_logs says $got ($before rows before)"
firsts=$(q $db_old -c "SELECT bool_and(prev_hash = '\\x0000000000000000000000000000000000000000000000000000000000000000')
                         FROM (SELECT DISTINCT ON (tenant_id) prev_hash FROM clinres.admin_logs ORDER BY tenant_id, id) f")
[ "$firsts" = t ] || fail "an upgraded chain does not start from its first row"
q $db_old -c "SELECT clinres.set_context('$erin', NULL, false)" \
    -c "SELECT clinres.update_user(u.id, '{\"name\": \"Old Two\"}') FROM clinres.users u WHERE u.email = 'old2@x.example'" >/dev/null
linked=$(q $db_old -c "SELECT l.prev_hash = p.row_hash FROM clinres.admin_logs l, LATERAL (SELECT row_hash FROM clinres.admin_logs p
                         WHERE p.tenant_id = l.tenant_id AND p.id < l.id ORDER BY p.id DESC LIMIT 1) p ORDER BY l.id DESC LIMIT 1")
ok=$(q $db_old -c "SELECT bool_and(ok) FROM clinres.verify_admin_logs()")
[ "$linked $ok" = "t t" ] || fail "a row written after the upgrade does not link to the old head ($linked $ok)"
echo "upgrade 0.2.1 -> current: $before existing rows chained from their first row in 3 chains; a new row links to the old head"
