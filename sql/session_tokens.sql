-- Signed session tokens: set_session verifies the HMAC, the key and the expiry and
-- sets the context for the transaction; keys rotate with a grace period.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
SELECT clinres.login('alice@hosp-a.example', 'alice-pw') AS alice_login \gset
SELECT :'alice_login'::jsonb ->> 'token' AS alice_token, :'alice_login'::jsonb ->> 'session_id' AS alice_session \gset
BEGIN;
SELECT clinres.set_session(:'alice_token') = :alice AS user_returned;
SELECT clinres.current_user_id() = :alice AS user_set, clinres.current_tenant_id() = :A AS tenant_set;
COMMIT;
-- Transaction-local: gone after COMMIT.
SELECT clinres.current_user_id() AS after_commit, clinres.current_tenant_id() AS tenant_after_commit;

-- A token made by hand with pgcrypto's hmac over the documented text verifies: the
-- format is exactly what docs/sessions.md says.
SELECT k.id || '.' || :alice || '.' || :A || '.' || (extract(epoch FROM now())::bigint + 60) || '.' || :'alice_session'
       AS claims FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT :'claims' || '.' || encode(hmac(convert_to('clinres-session/2:' || :'claims', 'UTF8'), k.secret, 'sha256'), 'hex')
       AS handmade FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT clinres.set_session(:'handmade') = :alice AS handmade_verifies;
-- Naming a session that does not exist (or another user's): 28000.
SELECT k.id || '.' || :alice || '.' || :A || '.' || (extract(epoch FROM now())::bigint + 60) || '.' || gen_random_uuid()
       AS claims FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT :'claims' || '.' || encode(hmac(convert_to('clinres-session/2:' || :'claims', 'UTF8'), k.secret, 'sha256'), 'hex')
       AS no_session FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT clinres.set_session(:'no_session');
\echo :LAST_ERROR_SQLSTATE
-- A 0.3.0 token (no session: five parts, MAC over 'clinres-session/1:') keeps verifying until it
-- expires; cutting the session out of a 0.4.0 token does not make one (the MACs differ).
SELECT k.id || '.' || :alice || '.' || :A || '.' || (extract(epoch FROM now())::bigint + 60) AS claims
  FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT :'claims' || '.' || encode(hmac(convert_to('clinres-session/1:' || :'claims', 'UTF8'), k.secret, 'sha256'), 'hex')
       AS old_token FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT clinres.set_session(:'old_token') = :alice AS token_of_0_3_0_verifies;
SELECT clinres.set_session(replace(:'alice_token', '.' || :'alice_session', ''));
\echo :LAST_ERROR_SQLSTATE
-- The same, expired ten seconds ago: 28000.
SELECT k.id || '.' || :alice || '.' || :A || '.' || (extract(epoch FROM now())::bigint - 10) AS claims
  FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT :'claims' || '.' || encode(hmac(convert_to('clinres-session/1:' || :'claims', 'UTF8'), k.secret, 'sha256'), 'hex')
       AS expired FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT clinres.set_session(:'expired');
\echo :LAST_ERROR_SQLSTATE
-- Forged: another user or tenant in a genuine token, a changed expiry, a changed MAC, garbage.
SELECT clinres.set_session(replace(:'alice_token', :alice, :erin));
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session(replace(:'alice_token', :A, :B));
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session(regexp_replace(:'alice_token', '\.([0-9]+)\.', '.\1' || '9.'));
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session(left(:'alice_token', -1) || CASE WHEN right(:'alice_token', 1) = '0' THEN '1' ELSE '0' END);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session('1.2.3.4.5');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session(upper(:'alice_token'));
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session('99' || substr(:'alice_token', strpos(:'alice_token', '.')));
\echo :LAST_ERROR_SQLSTATE
-- A failed set_session leaves the context as it was.
SELECT clinres.current_user_id() AS still_none;

-- Rotation: the new key signs, the old one still verifies during the grace period
-- (default: clinres.session_ttl), and a zero grace retires it at once.
SELECT count(*) AS keys FROM clinres.session_keys;
SELECT clinres.rotate_session_key() AS new_key \gset
SELECT id = :new_key AS newest, retired_at IS NULL AS current,
       retired_at - now() BETWEEN interval '7 hours 59 minutes' AND interval '8 hours' AS grace_8h
  FROM clinres.session_keys ORDER BY id;
SELECT clinres.set_session(:'alice_token') = :alice AS old_token_in_grace;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') ->> 'token' AS bob_token \gset
SELECT split_part(:'bob_token', '.', 1)::int = :new_key AS signed_with_new_key;
-- A zero grace: every earlier key is revoked now (the way to respond to a leaked key).
SELECT clinres.rotate_session_key(interval '0') > :new_key AS rotated_again;
SELECT count(*) AS keys_left FROM clinres.session_keys;
SELECT clinres.set_session(:'alice_token');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_session(:'bob_token');
\echo :LAST_ERROR_SQLSTATE
-- With every key retired nothing can be signed, and login says why.
UPDATE clinres.session_keys SET retired_at = now() + interval '1 minute';
SELECT clinres.login('bob@hosp-a.example', 'bob-pw');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.rotate_session_key() IS NOT NULL AS recovered;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') IS NOT NULL AS login_again;

-- Who can do what: the application may verify, not sign, read keys or rotate them.
CREATE ROLE clinres_token_app NOLOGIN;
GRANT clinres_app TO clinres_token_app;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') ->> 'token' AS bob_token \gset
SET ROLE clinres_token_app;
BEGIN;
SELECT clinres.set_session(:'bob_token') = :bob AS app_verifies;
SELECT clinres.current_user_id() = :bob AS app_context;
COMMIT;
SELECT clinres._sign_session(:erin, :A, gen_random_uuid());
SELECT secret FROM clinres.session_keys;
SELECT clinres.rotate_session_key();
SET clinres.session_ttl = '30d';
RESET ROLE;
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       has_function_privilege('clinres_app', p.oid, 'EXECUTE') AS app, has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p WHERE p.pronamespace = 'clinres'::regnamespace
   AND p.proname IN ('login', 'set_session', 'begin_request', 'rotate_session_key', '_sign_session', '_dummy_hash')
 ORDER BY 1, 2;
SELECT has_table_privilege('clinres_app', 'clinres.session_keys', 'SELECT') AS app_reads_keys;
DROP ROLE clinres_token_app;
