-- Citus support on a server without Citus (docs/scale-out.md): the Citus-only functions
-- refuse clearly, and nothing else changes.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
SELECT * FROM clinres.distribute();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM clinres.citus_check();
\echo :LAST_ERROR_SQLSTATE
-- Every catalog table comes after the tables it references (the order distribute uses).
WITH ordered AS (SELECT t, row_number() OVER () AS n FROM clinres._catalog_tables_in_fk_order() t)
SELECT count(*) FILTER (WHERE t = 'clinres.users'::regclass) AS has_users,
       (SELECT count(*) FROM pg_constraint f
          JOIN ordered c ON c.t = f.conrelid JOIN ordered p ON p.t = f.confrelid
         WHERE f.contype = 'f' AND f.conrelid <> f.confrelid AND p.n >= c.n) AS out_of_order
  FROM ordered;
SELECT count(*) = (SELECT count(*) FROM pg_class WHERE relnamespace = 'clinres'::regnamespace AND relkind = 'r') AS every_table
  FROM clinres._catalog_tables_in_fk_order();
-- Without Citus, set_context is plain SET LOCAL semantics (nothing to send to workers).
BEGIN;
SELECT clinres.set_context(:alice, :A) = :alice AS set;
SELECT clinres.current_user_id() = :alice AS user_set, clinres.current_tenant_id() = :A AS tenant_set;
COMMIT;
SELECT clinres.current_user_id() AS after_commit;
-- Only an administrator may distribute or check.
CREATE ROLE clinres_regress_citus_app NOLOGIN;
GRANT clinres_app TO clinres_regress_citus_app;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('clinres_regress_citus_app', p.oid, 'EXECUTE') AS app,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.oid IN ('clinres.distribute()'::regprocedure, 'clinres.citus_check()'::regprocedure,
                 'clinres._catalog_tables_in_fk_order()'::regprocedure,
                 'clinres._require_citus_coordinator(text)'::regprocedure)
 ORDER BY 1::text;
DROP ROLE clinres_regress_citus_app;
