-- Privileges: PUBLIC may execute no clinres function and read no clinres relation; the
-- role clinres_app holds exactly what an application calls.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
-- Functions and relations PUBLIC could use (a NULL ACL means the default, EXECUTE for PUBLIC).
SELECT p.oid::regprocedure AS public_function FROM pg_proc p
 WHERE p.pronamespace = 'clinres'::regnamespace
   AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0));
SELECT c.oid::regclass AS public_relation FROM pg_class c
 WHERE c.relnamespace = 'clinres'::regnamespace AND c.relkind IN ('r', 'v', 'p', 'S')
   AND EXISTS (SELECT FROM aclexplode(c.relacl) a WHERE a.grantee = 0);
-- What clinres_app may do.
SELECT p.oid::regprocedure AS app_function FROM pg_proc p
 WHERE p.pronamespace = 'clinres'::regnamespace AND has_function_privilege('clinres_app', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text;
SELECT c.oid::regclass AS app_relation FROM pg_class c
 WHERE c.relnamespace = 'clinres'::regnamespace AND has_table_privilege('clinres_app', c.oid, 'SELECT')
 ORDER BY c.oid::regclass::text;

-- A role with no grants is refused everything.
CREATE ROLE clinres_regress_nobody NOLOGIN;
CREATE ROLE clinres_regress_app NOLOGIN IN ROLE clinres_app;
SET ROLE clinres_regress_nobody;
SELECT clinres.has_module(:bob, :A, 'aia');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.session_profile(:alice, :A);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_context(:alice, :A);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.current_user_id();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM clinres.connection_usage;
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.pool_size(2, 10);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres._module_code('aia');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- A member of clinres_app may call what an application needs.
SET ROLE clinres_regress_app;
SELECT clinres.set_context(:bob, :A, false);
SELECT clinres.current_user_id() = :bob AS user_set, clinres.current_tenant_id() = :A AS tenant_set;
SELECT clinres.has_module(:bob, :A, 'aia') AS has_aia, clinres.has_permission(:bob, :A, 'user:view') AS may_view,
       clinres.landing_module(:bob, :A) AS landing, clinres.pool_size(2, 10) AS pool;
SELECT clinres.require_module(:bob, :A, 'aia');
SELECT code FROM clinres.user_modules(:bob, :A) ORDER BY 1;
SELECT count(*) AS tenants FROM clinres.tenants_with_module('aia');
SELECT clinres.session_profile(:bob, :A) -> 'modules' AS own_modules;
SELECT count(*) AS usage_rows FROM clinres.connection_usage;
SELECT hits >= 0 AS stats FROM clinres.access_cache_stats();
-- ... but not read another tenant's user, nor a user of its own tenant without user:view.
SELECT clinres.session_profile(:carol, :B);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.session_profile(:alice, :A);
\echo :LAST_ERROR_SQLSTATE
-- ... nor use the administration functions.
SELECT clinres.enable_module_rls('clinres.users', 'aia');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM clinres.migrate_schemas();
\echo :LAST_ERROR_SQLSTATE
SELECT clinres._bridge_selftest('live');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_context(NULL, NULL, false);
RESET ROLE;
DROP ROLE clinres_regress_nobody, clinres_regress_app;
