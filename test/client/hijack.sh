#!/usr/bin/env bash
# search_path hijack at install: CREATE EXTENSION clinres CASCADE runs as a superuser with
# public on its search_path (pgcrypto's schema). A role that may create objects in public
# plants, for every function name the install script calls, functions that match common
# argument types better than pg_catalog's (format(text, name) beats format(text, VARIADIC
# "any")), and operators over mixed types; each records that it ran. Then a superuser
# installs clinres, every view is read and every SECURITY DEFINER function is called (checked):
# none of the planted objects may have run, and no clinres object may depend on one.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
db=clinres_hijack
script=$(pg_config --sharedir)/extension/clinres--$(sed -n "s/^default_version = '\(.*\)'/\1/p" clinres.control).sql
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS clinres_hijacker" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" -c "CREATE ROLE clinres_hijacker LOGIN PASSWORD 'hijack-pw'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "GRANT CREATE ON SCHEMA public TO clinres_hijacker" >/dev/null

# Every name the install script calls (qualified or not) that pg_catalog defines.
names=$(grep -v '^\s*--' "$script" | grep -oE '[a-z_][a-z0-9_]*\s*\(' | sed -E 's/\s*\($//' | sort -u | tr '\n' ' ')
run() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

PGPASSWORD=hijack-pw run -U clinres_hijacker -v names="$names" <<'SQL'
CREATE TABLE public.hijack_log (what text, by_role name DEFAULT current_user, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT ON public.hijack_log TO PUBLIC;
CREATE TABLE public.hijack_names (name text PRIMARY KEY);
INSERT INTO public.hijack_names
SELECT DISTINCT n FROM unnest(string_to_array(trim(:'names'), ' ')) n
 WHERE EXISTS (SELECT FROM pg_proc p WHERE p.proname = n AND p.pronamespace = 'pg_catalog'::regnamespace);
DO $plant$
DECLARE
    types text[] := ARRAY['text', 'name', 'regclass', 'oid', 'integer', 'bigint', 'uuid', 'boolean', 'text[]',
                          'name[]', 'jsonb', '"char"', 'regrole', 'aclitem[]', 'timestamptz', 'numeric'];
    n text;
    sigs text[];
    sig text;
    a text;
    b text;
BEGIN
    FOR n IN SELECT name FROM public.hijack_names LOOP
        sigs := '{}';  -- no zero-argument plants: pg_catalog's identical signature comes first
        FOREACH a IN ARRAY types LOOP
            sigs := sigs || a;
            FOREACH b IN ARRAY types LOOP
                sigs := sigs || (a || ', ' || b) || ('text, ' || a || ', ' || b);
            END LOOP;
        END LOOP;
        FOREACH sig IN ARRAY sigs LOOP
            BEGIN
                EXECUTE format($f$CREATE FUNCTION public.%I(%s) RETURNS text LANGUAGE plpgsql AS $b$
                    BEGIN INSERT INTO public.hijack_log (what) VALUES (%L); RETURN NULL; END $b$$f$,
                    n, sig, format('%s(%s)', n, sig));
            EXCEPTION WHEN duplicate_function OR invalid_function_definition THEN NULL;
            END;
        END LOOP;
    END LOOP;
    -- Operators over mixed types, which pg_catalog serves only through casts.
    FOR a, b IN SELECT x[1], x[2] FROM (VALUES (ARRAY['name', 'text']), (ARRAY['text', 'name']), (ARRAY['oid', 'regclass']),
                                               (ARRAY['regclass', 'oid']),
                                               (ARRAY['"char"', 'text']), (ARRAY['integer', 'bigint']),
                                               (ARRAY['bigint', 'integer']), (ARRAY['oid', 'regrole']),
                                               (ARRAY['regnamespace', 'oid']), (ARRAY['oid', 'regnamespace'])) v(x) LOOP
        EXECUTE format($f$CREATE FUNCTION public.hijack_op(%s, %s) RETURNS boolean LANGUAGE plpgsql AS $b$
            BEGIN INSERT INTO public.hijack_log (what) VALUES ('operator(%s, %s)'); RETURN true; END $b$$f$, a, b, a, b);
        FOREACH sig IN ARRAY ARRAY['=', '<>', '<', '>', '<=', '>=', '~', '~~'] LOOP
            EXECUTE format('CREATE OPERATOR public.%s (FUNCTION = public.hijack_op, LEFTARG = %s, RIGHTARG = %s)', sig, a, b);
        END LOOP;
    END LOOP;
END
$plant$;
SQL
# From here on, this script's own statements see only pg_catalog.
export PGOPTIONS="-c search_path=pg_catalog"
planted=$(run -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
operators=$(run -c "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'public'::regnamespace")
shadowed=$(run -c "SELECT string_agg(name, ' ' ORDER BY name) FROM public.hijack_names")
echo "planted $planted functions and $operators operators in public for: $shadowed"
for must in format unnest now lower to_regclass quote_ident; do
    [[ " $shadowed " == *" $must "* ]] || fail "the list derived from the install script lacks $must"
done

# The superuser installs clinres (pgcrypto goes to public, the install runs with the path
# clinres, public) and uses it with public on its path, as a superuser's session has it;
# this script's own statements name pg_catalog's operators, so that only clinres's code
# can reach a planted object.
report() { run -c "SELECT what, by_role, count(*) FROM public.hijack_log GROUP BY 1, 2 ORDER BY 1"; }
calls=$(cat <<'SQL'
SET client_min_messages = warning;
SET search_path = "$user", public;  -- a superuser's default
CREATE EXTENSION clinres CASCADE;
\i test/fixtures/sample.sql
CREATE TABLE public.hijack_notes (tenant_id uuid, body text);
SELECT clinres.enable_module_rls('public.hijack_notes', 'aia');
SELECT clinres.set_context('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', false);
SELECT clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), 'aia'),
       clinres.has_permission(clinres.current_user_id(), clinres.current_tenant_id(), 'user:view'),
       clinres.landing_module(clinres.current_user_id(), clinres.current_tenant_id()),
       clinres.session_profile(clinres.current_user_id(), clinres.current_tenant_id()),
       clinres.pool_size(2, 10);
SELECT * FROM clinres.user_modules(clinres.current_user_id(), clinres.current_tenant_id());
SELECT * FROM clinres.tenants_with_module('aia');
SELECT count(*) FROM public.hijack_notes;
CREATE TABLE public.projects (id int PRIMARY KEY);
CREATE TABLE public.conversations (id int PRIMARY KEY, project_id int REFERENCES public.projects);
SELECT clinres.plan_table_move('public.hijack_notes', 'dc_schema');
SELECT * FROM clinres.schema_migration_plan;
SELECT * FROM clinres.create_module_schemas();
SELECT * FROM clinres.migrate_schemas(dry_run => true);
SELECT * FROM clinres.migrate_schemas(dry_run => false, compat_views => true);
SELECT * FROM clinres.verify_schema_isolation();
SELECT * FROM clinres.rollback_schema_migration();
SELECT * FROM clinres.access_cache_stats();
SELECT count(*) FROM clinres.list_users(search => 'hosp', sort => 'email asc');
SELECT clinres.create_user('hijack@hosp-a.example', '张三', 'hijack-pass-1', modules => ARRAY['aia']) IS NOT NULL;
SELECT clinres.update_user(clinres.current_user_id(), '{"phone": "+86 138 0000 0009"}') IS NOT NULL;
SELECT clinres.get_user('00000000-0000-0000-0000-0000000000b0') IS NOT NULL;
SELECT clinres.set_user_modules('00000000-0000-0000-0000-0000000000b0', clinres.current_tenant_id(), NULL) IS NOT NULL;
SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000b0', 'disabled', clinres.current_tenant_id()) IS NOT NULL;
SELECT clinres.reset_password('00000000-0000-0000-0000-0000000000b0') IS NOT NULL;
SELECT count(*) FROM clinres.list_admin_logs();
-- 0.4.0: sessions, the trail, access governance, import and export (the triggers
-- _admin_log_chain and _end_sessions_on_change fire on the writes above and below).
SELECT clinres.count_users(search => 'hosp');
SELECT count(*) FROM clinres.tenant_options();
SELECT count(*) FROM clinres.module_options(clinres.current_tenant_id());
SELECT length(clinres.import_template('csv')) > 0;
SELECT count(*) FROM clinres.import_users(pg_catalog.convert_to(E'email,name\nimported@hosp-a.example,Imported\n', 'UTF8'),
                                          format => 'csv');
SELECT length(clinres.export_users(format => 'csv')) > 0, length(clinres.export_users()) > 0;
SELECT id AS hijack_user FROM clinres.users WHERE email OPERATOR(pg_catalog.=) 'hijack@hosp-a.example' \gset
SELECT id AS imported_user FROM clinres.users WHERE email OPERATOR(pg_catalog.=) 'imported@hosp-a.example' \gset
SELECT clinres.grant_module(:'hijack_user', clinres.current_tenant_id(), 'asl', pg_catalog.now(),
                            pg_catalog.now() OPERATOR(pg_catalog.+) '1 day'::pg_catalog.interval) IS NOT NULL;
SELECT clinres.revoke_module(:'hijack_user', clinres.current_tenant_id(), 'asl') IS NOT NULL;
SELECT clinres.explain_access(:'hijack_user', clinres.current_tenant_id(), 'aia');
SELECT count(*) FROM clinres.access_review();
SELECT length(clinres.export_access_review(format => 'csv')) > 0, length(clinres.export_access_review()) > 0;
SELECT clinres.set_tenant_role(:'hijack_user', clinres.current_tenant_id(), 'TENANT_ADMIN') IS NOT NULL;
SELECT clinres.remove_tenant(:'hijack_user', clinres.current_tenant_id()) IS NOT NULL;
SELECT clinres.assign_tenant(:'hijack_user', clinres.current_tenant_id(), 'USER', NULL, NULL,
                             pg_catalog.now() OPERATOR(pg_catalog.+) '1 day'::pg_catalog.interval) IS NOT NULL;
SELECT clinres.delete_user(:'imported_user', clinres.current_tenant_id()) IS NOT NULL;
SELECT clinres.login('alice@hosp-a.example', 'wrong-password') IS NULL;
SELECT clinres.login('nobody@hosp-a.example', 'wrong-password') IS NULL;
SELECT clinres.login('alice@hosp-a.example', 'alice-pw') ->> 'token' AS token \gset
SELECT clinres.login('alice@hosp-a.example', 'alice-pw', 'HOSP_A') ->> 'session_id' AS second_session \gset
SELECT count(*) FROM clinres.list_sessions();
SELECT clinres.revoke_sessions(clinres.current_user_id(), :'second_session');
SELECT clinres.logout(:'token') IS NOT NULL;
SELECT count(*) FROM clinres.verify_admin_logs();
SELECT count(*) FROM clinres.admin_log_head();
SELECT length(clinres.export_admin_logs()) > 0;
SELECT clinres.set_context('00000000-0000-0000-0000-0000000000e0', 'a0000000-0000-0000-0000-00000000000a', false);
SELECT clinres.erase_user(:'hijack_user') IS NOT NULL;
SELECT bool_and(ok) FROM clinres.verify_admin_logs();
DO $$
DECLARE
    v regclass;
BEGIN
    FOR v IN SELECT c.oid FROM pg_catalog.pg_class c
              WHERE c.relnamespace OPERATOR(pg_catalog.=) 'clinres'::pg_catalog.regnamespace::pg_catalog.oid
                AND c.relkind OPERATOR(pg_catalog.=) ANY ('{v,r}'::pg_catalog."char"[]) LOOP
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s', v);
    END LOOP;
END
$$;
SQL
)
run -f - >/dev/null <<<"$calls" || { report; fail "CREATE EXTENSION clinres or a call failed with the planted objects in public"; }

# Every SECURITY DEFINER function is called above (trigger functions fire on its writes), so that
# a new one cannot escape this test.
uncovered=
for f in $(run -c "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'clinres'::regnamespace AND p.prosecdef
                     AND p.prorettype <> 'trigger'::regtype ORDER BY 1"); do
    grep -q "clinres\.$f(" <<<"$calls" || uncovered+=" $f"
done
[ -z "$uncovered" ] || fail "SECURITY DEFINER functions this test does not call:$uncovered"

ran=$(run -c "SELECT count(*) FROM public.hijack_log")
# Anything bound to a planted function or operator, other than the planted operators themselves
# (pg_trgm, which CASCADE installs into public too, is no plant: its members are left out).
bound=$(run -c "
    WITH member AS (SELECT e.classid, e.objid FROM pg_depend e WHERE e.deptype = 'e')
    SELECT count(*) FROM pg_depend d
     WHERE ((d.refclassid = 'pg_proc'::regclass
             AND d.refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'public'::regnamespace
                                   AND (tableoid, oid) NOT IN (SELECT * FROM member)))
         OR (d.refclassid = 'pg_operator'::regclass
             AND d.refobjid IN (SELECT oid FROM pg_operator WHERE oprnamespace = 'public'::regnamespace
                                   AND (tableoid, oid) NOT IN (SELECT * FROM member))))
       AND NOT (d.classid = 'pg_operator'::regclass
                AND d.objid IN (SELECT oid FROM pg_operator WHERE oprnamespace = 'public'::regnamespace))
       AND (d.classid, d.objid) NOT IN (SELECT * FROM member)")
if [ "$ran" -ne 0 ] || [ "$bound" -ne 0 ]; then
    report
    fail "planted functions ran $ran times as the installer; $bound objects are bound to planted functions or operators"
fi
echo "hijack: no planted function or operator ran or was bound during install and use"
