-- Who may set the context. A non-superuser session sets it for its transaction only
-- (unless clinres.allow_session_context), and only with a signed token while
-- clinres.require_signed_session is on. Both settings are superuser-only.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
CREATE ROLE clinres_ctx_app NOLOGIN;
GRANT clinres_app TO clinres_ctx_app;
GRANT EXECUTE ON FUNCTION clinres.set_context(uuid, uuid, boolean), clinres.current_user_id(),
    clinres.current_tenant_id() TO clinres_ctx_app;
CREATE TABLE public.many AS SELECT n FROM generate_series(1, 10000) n;
GRANT SELECT ON public.many TO clinres_ctx_app;
CREATE FUNCTION public.as_erin() RETURNS uuid LANGUAGE sql SET clinres.user_id = '00000000-0000-0000-0000-0000000000e0'
    AS 'SELECT clinres.current_user_id()';
GRANT EXECUTE ON FUNCTION public.as_erin() TO clinres_ctx_app;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') ->> 'token' AS bob_token \gset
SET SESSION AUTHORIZATION clinres_ctx_app;

-- Defaults: transaction-local contexts work; a session-level one is refused...
SHOW clinres.allow_session_context;
SHOW clinres.require_signed_session;
BEGIN;
SELECT clinres.set_context(:alice, :A) = :alice AS local_context;
SELECT clinres.current_user_id() = :alice AS seen;
COMMIT;
SELECT clinres.set_context(:alice, :A, false);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.current_user_id() AS none;
-- ...and one set directly is ignored, so it cannot reach the next client of a pooled connection.
SET clinres.user_id = '00000000-0000-0000-0000-0000000000a1';
SET clinres.tenant_id = 'a0000000-0000-0000-0000-00000000000a';
SELECT clinres.current_user_id() AS ignored_user, clinres.current_tenant_id() AS ignored_tenant;
BEGIN;
SET LOCAL clinres.user_id = '00000000-0000-0000-0000-0000000000b0';
SELECT clinres.current_user_id() = :bob AS set_local_seen;
COMMIT;
SELECT clinres.current_user_id() AS ignored_again;
-- Nor can a parallel worker be used to read it: the context readers run in the leader.
BEGIN;
-- (force_parallel_mode is called debug_parallel_query from PostgreSQL 16: set whichever exists.)
SELECT set_config(name, 'on', true) AS parallel_forced
  FROM pg_settings WHERE name IN ('force_parallel_mode', 'debug_parallel_query');
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT count(*) AS seen_by_any_process FROM public.many WHERE clinres.current_user_id() IS NOT NULL AND n > 0;
COMMIT;
RESET clinres.user_id;
RESET clinres.tenant_id;
-- The settings themselves are out of reach.
SET clinres.allow_session_context = on;
SET clinres.require_signed_session = off;
RESET SESSION AUTHORIZATION;

-- With allow_session_context on, a session-level context is allowed (and persists).
SET clinres.allow_session_context = on;
SET SESSION AUTHORIZATION clinres_ctx_app;
SELECT clinres.set_context(:carol, :B, false) = :carol AS session_context;
SELECT clinres.current_user_id() = :carol AS persists;
SELECT clinres.set_context(NULL, NULL, false) AS cleared;
SELECT clinres.current_user_id() AS none;
RESET SESSION AUTHORIZATION;
RESET clinres.allow_session_context;

-- require_signed_session: set_context, the unsigned begin_request and SET clinres.* are refused for
-- non-superusers; set_session and begin_request(token, module) work.
SET clinres.require_signed_session = on;
SET SESSION AUTHORIZATION clinres_ctx_app;
BEGIN;
SELECT clinres.set_context(:erin, :A);
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.begin_request(:erin, :A, 'aia');
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL clinres.user_id = '00000000-0000-0000-0000-0000000000e0';
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('clinres.user_id', '00000000-0000-0000-0000-0000000000e0', true);
\echo :LAST_ERROR_SQLSTATE
-- A function's SET clause is no way around it.
SELECT public.as_erin();
\echo :LAST_ERROR_SQLSTATE
-- Clearing the context is always allowed.
SET clinres.user_id = '';
-- login itself works (it verifies its own token to build the profile).
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') -> 'user' ->> 'name' AS login_while_required;
BEGIN;
SELECT clinres.set_session(:'bob_token') = :bob AS signed_context;
SELECT clinres.current_user_id() = :bob AS user_seen, clinres.current_tenant_id() = :A AS tenant_seen;
COMMIT;
BEGIN;
SELECT clinres.begin_request(:'bob_token', 'aia') ->> 'user_id' = :bob AS signed_request;
SELECT clinres.current_user_id() = :bob AS request_context;
COMMIT;
RESET SESSION AUTHORIZATION;
-- A superuser session may still set any context.
BEGIN;
SELECT clinres.set_context(:erin, :A) = :erin AS superuser_context;
SELECT clinres.current_user_id() = :erin AS superuser_seen;
COMMIT;
RESET clinres.require_signed_session;

-- A context a non-superuser set before signed sessions became required is no longer believed.
BEGIN;
SET SESSION AUTHORIZATION clinres_ctx_app;
SELECT clinres.set_context(:alice, :A) = :alice AS unsigned_context;
RESET SESSION AUTHORIZATION;
SET LOCAL clinres.require_signed_session = on;
SET SESSION AUTHORIZATION clinres_ctx_app;
SELECT clinres.current_user_id() AS not_believed, clinres.current_tenant_id() AS tenant_not_believed;
RESET SESSION AUTHORIZATION;
ROLLBACK;

DROP FUNCTION public.as_erin();
DROP TABLE public.many;
DROP OWNED BY clinres_ctx_app;
DROP ROLE clinres_ctx_app;
