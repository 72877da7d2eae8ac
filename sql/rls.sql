-- Row-level security through enable_module_rls, used by an application role that
-- has no privileges on the catalog.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
CREATE ROLE clinres_regress_app NOLOGIN;
GRANT clinres_app TO clinres_regress_app;  -- what an application is given
CREATE TABLE public.notes (id int GENERATED ALWAYS AS IDENTITY, tenant_id uuid NOT NULL, body text);
INSERT INTO public.notes (tenant_id, body) VALUES
    (:A, 'a1'), (:A, 'a2'), (:A, 'a3'), (:B, 'b1'), (:B, 'b2');
GRANT SELECT, INSERT, UPDATE ON public.notes TO clinres_regress_app;
-- Bad arguments are refused before anything changes.
SELECT clinres.enable_module_rls('public.notes', 'crm');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.enable_module_rls('public.notes', 'aia', 'tenant');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.enable_module_rls('public.notes', 'aia', 'body');
\echo :LAST_ERROR_SQLSTATE
SELECT relrowsecurity FROM pg_class WHERE oid = 'public.notes'::regclass;
SELECT clinres.enable_module_rls('public.notes', 'AIA');
SELECT relrowsecurity FROM pg_class WHERE oid = 'public.notes'::regclass;
SELECT polname, pg_get_expr(polqual, polrelid) AS using_expr FROM pg_policy WHERE polrelid = 'public.notes'::regclass;
-- Calling it again replaces the policy rather than adding a second one.
SELECT clinres.enable_module_rls('public.notes', 'aia');
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'public.notes'::regclass;

SET ROLE clinres_regress_app;
-- The application role cannot touch the catalog directly ...
SELECT count(*) FROM clinres.users;
\echo :LAST_ERROR_SQLSTATE
UPDATE clinres.user_modules SET is_enabled = true;
\echo :LAST_ERROR_SQLSTATE
-- ... nor enable RLS on a table it does not own ...
SELECT clinres.enable_module_rls('public.notes', 'aia');
\echo :LAST_ERROR_SQLSTATE
-- ... but the access functions work for it.
SELECT clinres.has_module(:bob, :A, 'aia') AS bob_aia, clinres.has_module(:bob, :A, 'asl') AS bob_asl;
SELECT code FROM clinres.user_modules(:carol, :B);
-- session_profile answers only inside a context (see has_module).
SELECT clinres.session_profile(:bob, :A) -> 'modules' AS bob_modules;
\echo :LAST_ERROR_SQLSTATE
-- Without a context nothing is visible.
SELECT clinres.current_user_id(), clinres.current_tenant_id();
SELECT count(*) FROM public.notes;
-- Alice in A sees A's rows only, and only inside her transaction (is_local).
BEGIN;
SELECT clinres.set_context(:alice, :A);
SELECT clinres.current_user_id() = :alice AS user_set, clinres.current_tenant_id() = :A AS tenant_set;
SELECT tenant_id = :A AS in_a, body FROM public.notes ORDER BY body;
-- A row of another tenant cannot be written either.
INSERT INTO public.notes (tenant_id, body) VALUES (:B, 'smuggled');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT clinres.current_user_id() AS after_commit;
SELECT count(*) FROM public.notes;
-- Carol in B sees B's rows; Alice in B's context sees nothing (not a member).
BEGIN;
SELECT clinres.set_context(:carol, :B);
SELECT body FROM public.notes ORDER BY body;
SELECT clinres.set_context(:alice, :B);
SELECT count(*) FROM public.notes;
-- Carol asking for A's rows through B's context still sees only B.
SELECT clinres.set_context(:carol, :B);
SELECT count(*) FROM public.notes WHERE tenant_id = :A;
COMMIT;
-- A session-level context persists across transactions until changed.
SELECT clinres.set_context(:bob, :A, false);
SELECT count(*) FROM public.notes;
SELECT count(*) FROM public.notes;
-- Revoking Bob's aia (by an administrator) hides the rows at the next statement.
RESET ROLE;
UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = :bob AND module_code = 'aia';
SET ROLE clinres_regress_app;
SELECT count(*) FROM public.notes;
SELECT clinres.set_context(NULL, NULL, false);
SELECT clinres.current_user_id();
-- The context only takes uuids.
SET clinres.user_id = 'not-a-uuid';
\echo :LAST_ERROR_SQLSTATE
SET clinres.tenant_id = '{A0000000-0000-0000-0000-00000000000A}';
SELECT clinres.current_tenant_id();
RESET clinres.tenant_id;
RESET ROLE;

-- A partitioned table: every partition, sub-partitions too, gets the policy, so reading
-- a partition directly does not bypass it.
CREATE TABLE public.visits (tenant_id uuid NOT NULL, body text) PARTITION BY HASH (tenant_id);
CREATE TABLE public.visits_0 PARTITION OF public.visits FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE public.visits_1 PARTITION OF public.visits FOR VALUES WITH (MODULUS 2, REMAINDER 1)
    PARTITION BY LIST (body);
CREATE TABLE public.visits_1_rest PARTITION OF public.visits_1 DEFAULT;
INSERT INTO public.visits SELECT t, b FROM (VALUES (:A::uuid), (:B::uuid)) v(t), (VALUES ('x'), ('y')) w(b);
GRANT SELECT ON public.visits, public.visits_0, public.visits_1, public.visits_1_rest TO clinres_regress_app;
SELECT clinres.enable_module_rls('public.visits', 'aia');
SELECT c.relname, c.relrowsecurity, p.polname FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
 WHERE c.relname LIKE 'visits%' ORDER BY 1;
SET ROLE clinres_regress_app;
SELECT clinres.set_context(:carol, :B, false);
SELECT 'visits' AS rel, count(*) FROM public.visits UNION ALL
SELECT 'visits_0', count(*) FROM public.visits_0 UNION ALL
SELECT 'visits_1', count(*) FROM public.visits_1 UNION ALL
SELECT 'visits_1_rest', count(*) FROM public.visits_1_rest;
SELECT clinres.set_context(NULL, NULL, false);
SELECT count(*) AS without_context FROM public.visits_0, public.visits_1_rest;
RESET ROLE;
DROP TABLE public.visits;

-- Module codes past 48 characters: the policy name (63 bytes at most) ends in a hash of
-- the code, so a second call replaces the policy and two long codes do not collide.
INSERT INTO clinres.modules (code, name, schema_name, route) VALUES
    ('very_long_module_code_that_goes_past_the_policy_name_limit_one', 'long 1', 'long_schema', '/l1'),
    ('very_long_module_code_that_goes_past_the_policy_name_limit_two', 'long 2', 'long_schema', '/l2');
SELECT clinres.enable_module_rls('public.notes', 'very_long_module_code_that_goes_past_the_policy_name_limit_one');
SELECT clinres.enable_module_rls('public.notes', 'very_long_module_code_that_goes_past_the_policy_name_limit_one');
SELECT clinres.enable_module_rls('public.notes', 'very_long_module_code_that_goes_past_the_policy_name_limit_two');
SELECT polname, octet_length(polname) AS bytes,
       substring(pg_get_expr(polqual, polrelid) FROM '''([a-z_]+)''') AS module
  FROM pg_policy WHERE polrelid = 'public.notes'::regclass ORDER BY 1;
DELETE FROM clinres.modules WHERE code LIKE 'very_long_module_code%';

DROP TABLE public.notes;
DROP ROLE clinres_regress_app;
