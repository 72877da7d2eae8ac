-- begin_request: one call sets the transaction's context, checks the module and
-- returns what the request needs. clinres's denials carry a marker (schema_name
-- 'clinres', table_name the kind, column_name the code) that no other error has.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
BEGIN;
SELECT clinres.begin_request(:alice, :A, 'ASL');
SELECT clinres.current_user_id() = :alice AS user_set, clinres.current_tenant_id() = :A AS tenant_set;
COMMIT;
SELECT clinres.current_user_id() AS after_commit;
SELECT clinres.begin_request(:bob, :A, 'aia');
SELECT clinres.begin_request(:erin, :B, 'aia');
-- Refusals: not allowed or no user (42501), unknown or NULL module (22023).
SELECT clinres.begin_request(:bob, :A, 'asl');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.begin_request(:carol, :A, 'aia');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.begin_request(NULL, :A, 'aia');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.begin_request(:bob, :A, 'crm');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.begin_request(:bob, :A, NULL);
\echo :LAST_ERROR_SQLSTATE
-- The signed form.
SELECT clinres.login('carol@hosp-b.example', 'x') AS carol_has_no_password;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') ->> 'token' AS bob_token \gset
SELECT clinres.begin_request(:'bob_token', 'PKB') - 'user_id' - 'tenant_id' AS signed;
SELECT clinres.begin_request(:'bob_token', 'dc');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.begin_request('garbage', 'aia');
\echo :LAST_ERROR_SQLSTATE

-- The marker, as an application sees it (node-postgres: err.schema, err.table, err.column).
CREATE FUNCTION pg_temp.error_fields(q text) RETURNS TABLE (err_state text, err_schema text, err_table text, err_column text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN QUERY SELECT 'none'::text, NULL::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_schema = SCHEMA_NAME,
                            err_table = TABLE_NAME, err_column = COLUMN_NAME;
    RETURN NEXT;
END
$$;
CREATE ROLE clinres_denial_app NOLOGIN;
GRANT clinres_app TO clinres_denial_app;
CREATE TABLE public.guarded (tenant_id uuid, body text);
GRANT SELECT, INSERT ON public.guarded TO clinres_denial_app;
SELECT clinres.enable_module_rls('public.guarded', 'aia');
CREATE TABLE public.private (x int);
SET ROLE clinres_denial_app;
SELECT 'require_module' AS call, * FROM pg_temp.error_fields(format('SELECT clinres.require_module(%L, %L, %L)', :bob, :A, 'asl'))
UNION ALL
SELECT 'begin_request', * FROM pg_temp.error_fields(format('SELECT clinres.begin_request(%L, %L, %L)', :carol, :A, 'aia'))
UNION ALL
SELECT 'begin_request(token)', * FROM pg_temp.error_fields(format('SELECT clinres.begin_request(%L, %L)', :'bob_token', 'dc'))
UNION ALL
SELECT 'set_session', * FROM pg_temp.error_fields('SELECT clinres.set_session(''x'')')
-- Not clinres's denials: a missing GRANT and a row-level security WITH CHECK violation.
UNION ALL
SELECT 'missing grant', * FROM pg_temp.error_fields('SELECT * FROM public.private')
UNION ALL
SELECT 'rls with check', * FROM pg_temp.error_fields(format('INSERT INTO public.guarded VALUES (%L, ''x'')', :B));
RESET ROLE;
-- User management's refusals come from the one decision (clinres._authorize) with the same
-- marker, its kind saying why: a permission, a role above the ceiling, an act on oneself.
SELECT 'no user:view' AS call, * FROM pg_temp.error_fields(format('SELECT clinres._authorize(%L, ''list'', %L, NULL)', :bob, :A))
UNION ALL
SELECT 'above ceiling', * FROM pg_temp.error_fields(format('SELECT clinres._authorize(%L, ''grant'', %L, NULL, ''SUPER_ADMIN'')', :alice, :A))
UNION ALL
SELECT 'oneself', * FROM pg_temp.error_fields(format('SELECT clinres._authorize(%L, ''remove'', %L, %L)', :alice, :A, :alice))
UNION ALL
SELECT 'no context tenant', * FROM pg_temp.error_fields(format('SELECT clinres._authorize(%L, ''context'', %L, NULL)', :alice, :B));
SELECT clinres._authorize(:alice, 'fly', :A, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.require_module(:bob, :A, 'aia') AS allowed;
DROP TABLE public.guarded, public.private;
DROP OWNED BY clinres_denial_app;
DROP ROLE clinres_denial_app;

-- No function an application calls returns void (ORMs such as Prisma cannot read a void column).
SELECT p.oid::regprocedure AS returns_void FROM pg_proc p
 WHERE p.pronamespace = 'clinres'::regnamespace AND p.prorettype = 'void'::regtype
   AND p.proname !~ '^_' ORDER BY 1;  -- internal helpers (leading _) are not called by applications
