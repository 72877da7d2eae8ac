-- Sessions: login creates one, its token names it; logout, revoke_sessions and changes to the
-- user end it, from the next statement on; list_sessions; the trail of logins and endings.
\pset null '(null)'
\set SHOW_CONTEXT never
\set VERBOSITY terse
\i test/fixtures/sample.sql
DELETE FROM clinres.sessions;  -- those of the files before this one (ended by the fixture)
UPDATE clinres.users SET password_hash = crypt(split_part(email, '@', 1) || '-pw', gen_salt('bf', 4))
 WHERE id IN (:carol, :erin);
CREATE FUNCTION pg_temp.login(who text, tenant text DEFAULT NULL) RETURNS TABLE (token text, session uuid)
    LANGUAGE sql AS $$
    SELECT l ->> 'token', (l ->> 'session_id')::uuid FROM clinres.login($1 || '@' || CASE $1 WHEN 'carol' THEN 'hosp-b'
           WHEN 'erin' THEN 'platform' ELSE 'hosp-a' END || '.example', $1 || '-pw', $2) l
$$;
-- Whether a token works now, and if not, why (in a statement of its own).
CREATE FUNCTION pg_temp.works(token text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM clinres.set_session(token);
    RETURN 'works';
EXCEPTION WHEN invalid_authorization_specification THEN
    RETURN SQLSTATE;
END
$$;
CREATE FUNCTION pg_temp.why(token text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    PERFORM clinres.set_session(token);
    RETURN 'works';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || d;
END
$$;
SELECT coalesce(max(id), 0) AS log_start FROM clinres.admin_logs \gset

-- login returns the session's id beside the token, which names it.
SELECT token AS a1, session AS a1s FROM pg_temp.login('alice') \gset
SELECT token AS a2, session AS a2s FROM pg_temp.login('alice') \gset
SELECT token AS b1, session AS b1s FROM pg_temp.login('bob') \gset
SELECT token AS c1, session AS c1s FROM pg_temp.login('carol') \gset
SELECT token AS e1, session AS e1s FROM pg_temp.login('erin') \gset
SELECT split_part(:'a1', '.', 5) = :'a1s' AS token_names_session, :'a1s' <> :'a2s' AS one_per_login;
SELECT user_id = :alice AS alice, tenant_id = :A AS in_a, ended_at, end_reason,
       expires_at = to_timestamp(split_part(:'a1', '.', 4)::bigint) AS expires_with_token,
       (SELECT a.last_seen_at FROM clinres.session_activity a WHERE a.id = s.id) = created_at AS seen_at_login
  FROM clinres.sessions s WHERE id = :'a1s';

-- list_sessions: one's own (NULL), oldest first.
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS context;
SELECT session_id = :'a1s' AS first, user_id = :alice AS own, tenant_id = :A AS tenant,
       expires_at > now() AS live FROM clinres.list_sessions();
COMMIT;

-- logout ends the token's session: from the next statement on the token is 28000, everywhere.
SELECT clinres.logout(:'a2') = :'a2s' AS logged_out;
SELECT pg_temp.why(:'a2') AS after_logout, pg_temp.works(:'a1') AS other_session;
SELECT clinres.begin_request(:'a2', 'asl');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.logout(:'a2');
\echo :LAST_ERROR_SQLSTATE
SELECT end_reason, ended_at IS NOT NULL AS ended FROM clinres.sessions WHERE id = :'a2s';
-- Within one transaction: a statement after the logout refuses the token.
SELECT token AS a3, session AS a3s FROM pg_temp.login('alice') \gset
BEGIN;
SELECT clinres.set_session(:'a3') = :alice AS works_before;
SELECT clinres.logout(:'a3') = :'a3s' AS logged_out;
SELECT pg_temp.works(:'a3') AS next_statement;
-- ... and a rollback of the caller's transaction does not revive the session.
ROLLBACK;
SELECT pg_temp.works(:'a3') AS after_rollback;
-- A 0.3.0 token names no session: it keeps working until it expires, and logout refuses it.
SELECT k.id || '.' || :alice || '.' || :A || '.' || (extract(epoch FROM now())::bigint + 60) AS claims
  FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT :'claims' || '.' || encode(hmac(convert_to('clinres-session/1:' || :'claims', 'UTF8'), k.secret, 'sha256'), 'hex')
       AS old_token FROM clinres.session_keys k WHERE k.retired_at IS NULL \gset
SELECT pg_temp.works(:'old_token') AS token_of_0_3_0;
SELECT clinres.logout(:'old_token');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.logout(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.logout('garbage');
\echo :LAST_ERROR_SQLSTATE

-- Who may list and revoke another user's sessions: user:edit in the session's tenant and the
-- grant ceiling (the decision's verb 'sessions').
BEGIN;
SELECT clinres.set_session(:'b1') = :bob AS bob;
SELECT * FROM clinres.list_sessions(:alice);
ROLLBACK;
BEGIN;
SELECT clinres.set_session(:'b1') = :bob AS bob;
SELECT clinres.revoke_sessions(:alice);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SELECT clinres.revoke_sessions(:carol); -- carol is in HOSP_B only
ROLLBACK;
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SELECT clinres.revoke_sessions(:erin); -- a SUPER_ADMIN
ROLLBACK;
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SELECT count(*) AS bobs_sessions FROM clinres.list_sessions(:bob);
SELECT clinres.revoke_sessions(:bob, '5e55105e-0000-0000-0000-000000000000');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SELECT clinres.revoke_sessions(NULL);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT clinres.revoke_sessions(:bob);  -- no context user
\echo :LAST_ERROR_SQLSTATE
-- The grant ceiling: an EDITOR (view, edit) of HOSP_A may end a USER's sessions, not a TENANT_ADMIN's.
INSERT INTO clinres.roles (code, scope, name) VALUES ('EDITOR', 'tenant', 'Editor');
INSERT INTO clinres.role_permissions (role_code, permission_code) VALUES ('EDITOR', 'user:view'), ('EDITOR', 'user:edit');
INSERT INTO clinres.users (id, email, name, password_hash)
VALUES ('00000000-0000-0000-0000-0000000000d0', 'dave@hosp-a.example', 'Dave', crypt('dave-pw', gen_salt('bf', 4)));
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES (:A, '00000000-0000-0000-0000-0000000000d0', 'EDITOR');
SELECT token AS d1 FROM pg_temp.login('dave') \gset
BEGIN;
SELECT clinres.set_session(:'d1') IS NOT NULL AS dave;
SELECT clinres.revoke_sessions(:alice);
ROLLBACK;
BEGIN;
SELECT clinres.set_session(:'d1') IS NOT NULL AS dave;
SELECT clinres.revoke_sessions(:bob, :'b1s') AS revoked_one;
COMMIT;
SELECT pg_temp.works(:'b1') AS bob_after_revoke;
-- A TENANT_ADMIN ends every session of a user of its tenant; ended ones do not count again.
SELECT token AS b2 FROM pg_temp.login('bob') \gset
SELECT token AS b3 FROM pg_temp.login('bob') \gset
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SELECT clinres.revoke_sessions(:bob) AS revoked_all;
SELECT clinres.revoke_sessions(:bob) AS again;
COMMIT;
SELECT pg_temp.works(:'b2') AS b2, pg_temp.works(:'b3') AS b3;
-- A SUPER_ADMIN manages anyone's; anyone ends its own.
BEGIN;
SELECT clinres.set_session(:'e1') = :erin AS erin;
SELECT count(*) AS carols FROM clinres.list_sessions(:carol);
SELECT clinres.revoke_sessions(:carol) AS revoked;
COMMIT;
SELECT pg_temp.works(:'c1') AS carol;
SELECT token AS c2 FROM pg_temp.login('carol') \gset
BEGIN;
SELECT clinres.set_session(:'c2') = :carol AS carol;
SELECT clinres.revoke_sessions(:carol) AS own;
COMMIT;
-- A reason is recorded when set, and required when clinres.require_change_reason is on.
SELECT token AS b4, session AS b4s FROM pg_temp.login('bob') \gset
SET clinres.require_change_reason = on;
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SELECT clinres.revoke_sessions(:bob);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SET LOCAL clinres.change_reason = 'lost laptop';
SELECT clinres.revoke_sessions(:bob) AS revoked;
COMMIT;
RESET clinres.require_change_reason;
SELECT action, change_reason, detail ->> 'session_id' = :'b4s' AS that_session
  FROM clinres.admin_logs WHERE action = 'revoke_session' ORDER BY id DESC LIMIT 1;

-- Changes to the user end its sessions in the same transaction (and enabling again revives nothing).
SELECT token AS b5 FROM pg_temp.login('bob') \gset
UPDATE clinres.users SET status = 'disabled' WHERE id = :bob;
UPDATE clinres.users SET status = 'active' WHERE id = :bob;
SELECT pg_temp.works(:'b5') AS disabled_then_enabled;
SELECT token AS b6 FROM pg_temp.login('bob') \gset
UPDATE clinres.users SET password_hash = crypt('bob-pw', gen_salt('bf', 4)) WHERE id = :bob;
SELECT pg_temp.works(:'b6') AS password_changed;
SELECT token AS b7 FROM pg_temp.login('bob') \gset
BEGIN;
UPDATE clinres.users SET status = 'disabled' WHERE id = :bob;
SELECT pg_temp.works(:'b7') AS in_the_disabling_transaction;
ROLLBACK;
SELECT pg_temp.works(:'b7') AS disabling_rolled_back;
-- Membership: removed or disabled in one tenant ends the sessions there only.
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES (:B, :bob, 'USER');
SELECT token AS b8 FROM pg_temp.login('bob', 'HOSP_B') \gset
SELECT token AS b9 FROM pg_temp.login('bob', 'HOSP_A') \gset
UPDATE clinres.user_tenants SET status = 'disabled' WHERE user_id = :bob AND tenant_id = :B;
SELECT pg_temp.works(:'b8') AS membership_disabled, pg_temp.works(:'b9') AS other_tenant;
UPDATE clinres.user_tenants SET status = 'active' WHERE user_id = :bob AND tenant_id = :B;
SELECT pg_temp.works(:'b8') AS enabled_again;
SELECT token AS b10 FROM pg_temp.login('bob', 'HOSP_B') \gset
DELETE FROM clinres.user_tenants WHERE user_id = :bob AND tenant_id = :B;
SELECT pg_temp.works(:'b10') AS membership_removed, pg_temp.works(:'b9') AS other_tenant;
-- Validity: a session ends when its membership's valid_until passes, at the instant and without
-- a write; moving the end later afterwards revives none; a validity that stops holding by a write
-- (valid_until in the past, valid_from in the future) ends them; list_sessions shows the end.
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code, valid_until)
VALUES (:B, :bob, 'USER', clock_timestamp() + interval '1 hour');
SELECT token AS b12, session AS b12s FROM pg_temp.login('bob', 'HOSP_B') \gset
SELECT expires_at = (SELECT valid_until FROM clinres.user_tenants WHERE user_id = :bob AND tenant_id = :B)
       AS ends_with_membership FROM clinres.sessions WHERE id = :'b12s';
UPDATE clinres.user_tenants SET valid_until = clock_timestamp() + interval '1 second' WHERE user_id = :bob AND tenant_id = :B;
SELECT pg_temp.works(:'b12') AS before_valid_until;
SELECT pg_sleep(1.1);
SELECT pg_temp.why(:'b12') AS after_valid_until, pg_temp.works(:'b9') AS other_tenant;
UPDATE clinres.user_tenants SET valid_until = NULL WHERE user_id = :bob AND tenant_id = :B;
SELECT pg_temp.works(:'b12') AS extended_afterwards;
SELECT token AS b13, session AS b13s FROM pg_temp.login('bob', 'HOSP_B') \gset
UPDATE clinres.user_tenants SET valid_from = now() + interval '1 day' WHERE user_id = :bob AND tenant_id = :B;
SELECT pg_temp.works(:'b13') AS not_yet_valid;
UPDATE clinres.user_tenants SET valid_from = NULL WHERE user_id = :bob AND tenant_id = :B;
SELECT token AS b14, session AS b14s FROM pg_temp.login('bob', 'HOSP_B') \gset
UPDATE clinres.user_tenants SET valid_from = now() - interval '2 days', valid_until = now() - interval '1 day'
 WHERE user_id = :bob AND tenant_id = :B;
SELECT pg_temp.works(:'b14') AS already_expired;
SELECT id = :'b12s' AS b12, end_reason FROM clinres.sessions WHERE id IN (:'b12s', :'b13s', :'b14s') ORDER BY created_at;
BEGIN;
SELECT clinres.set_session(:'b9') = :bob AS bob;
SELECT count(*) AS listed_expired_memberships FROM clinres.list_sessions() WHERE session_id IN (:'b12s', :'b13s', :'b14s');
COMMIT;
DELETE FROM clinres.user_tenants WHERE user_id = :bob AND tenant_id = :B;
-- Lockout (by login's worker) ends them, and the attempts are in the trail.
SET clinres.login_max_failures = 2;
SELECT max(id) AS before_lock FROM clinres.admin_logs \gset
SELECT clinres.login('bob@hosp-a.example', 'wrong1') AS failure1;
SELECT clinres.login('bob@hosp-a.example', 'wrong2') AS failure2_locks;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') AS while_locked;
SELECT clinres.login('nobody@hosp-a.example', 'x') AS unknown_user;
SELECT pg_temp.works(:'b9') AS locked_out;
SELECT action, tenant_id = :A AS in_a, target = :bob::text AS bob, actor_id = :bob AS by_bob, detail
  FROM clinres.admin_logs WHERE id > :before_lock ORDER BY id;
RESET clinres.login_max_failures;
UPDATE clinres.users SET locked_until = NULL, failed_logins = 0 WHERE id = :bob;
-- Deleted.
SELECT token AS b11 FROM pg_temp.login('bob') \gset
DELETE FROM clinres.users WHERE id = :bob;
SELECT pg_temp.works(:'b11') AS user_deleted;
SELECT end_reason, count(*) FROM clinres.sessions WHERE user_id = :bob GROUP BY 1 ORDER BY 1;

-- Expiry is honoured at the instant, without a write: the session is cached, then it expires.
SELECT token AS a4, session AS a4s FROM pg_temp.login('alice') \gset
UPDATE clinres.sessions SET expires_at = clock_timestamp() + interval '1 second' WHERE id = :'a4s';
SELECT pg_temp.works(:'a4') AS before_expiry;
SELECT pg_sleep(1.1);
SELECT pg_temp.why(:'a4') AS after_expiry;
BEGIN;
SELECT clinres.set_session(:'a1') = :alice AS alice;
SELECT count(*) AS listed_after_expiry FROM clinres.list_sessions() WHERE session_id = :'a4s';
COMMIT;

-- last_seen_at: a request records it when the record is older than clinres.session_seen_interval
-- (in a read-write READ COMMITTED transaction), never waiting for another request's record.
SET clinres.session_seen_interval = '1s';
SELECT token AS a5, session AS a5s FROM pg_temp.login('alice') \gset
SELECT pg_sleep(1.1);
BEGIN READ ONLY;
SELECT clinres.set_session(:'a5') = :alice AS read_only_request;
COMMIT;
SELECT a.last_seen_at = s.created_at AS not_recorded_read_only
  FROM clinres.session_activity a JOIN clinres.sessions s USING (tenant_id, id) WHERE id = :'a5s';
BEGIN;
SELECT clinres.set_session(:'a5') = :alice AS request;
SELECT last_seen_at = now() AS recorded FROM clinres.session_activity WHERE id = :'a5s';
SELECT last_seen_at = now() AS shown, created_at < last_seen_at AS after_login FROM clinres.list_sessions() WHERE session_id = :'a5s';
COMMIT;
RESET clinres.session_seen_interval;

-- The trail of this file: every login, logout and revocation, in its tenant's chain.
SELECT action, count(*) FROM clinres.admin_logs WHERE id > :log_start GROUP BY 1 ORDER BY 1;
SELECT bool_and(ok) AS chains_ok FROM clinres.verify_admin_logs();

-- Privileges: the application calls logout, list_sessions and revoke_sessions; it reads no
-- session row and cannot end sessions behind the decision's back.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       has_function_privilege('clinres_app', p.oid, 'EXECUTE') AS app, has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p WHERE p.pronamespace = 'clinres'::regnamespace
   AND p.proname IN ('logout', 'list_sessions', 'revoke_sessions', '_end_sessions_autonomously', '_end_sessions_on_change',
                     '_session_doorbell', '_record_login', '_sign_session')
 ORDER BY 1, 2;
SELECT has_table_privilege('clinres_app', 'clinres.sessions', 'SELECT') AS app_reads_sessions;
-- The doorbell trigger fires only on clinres.sessions.
CREATE TABLE public.not_sessions (id int);
CREATE TRIGGER bell AFTER UPDATE ON public.not_sessions FOR EACH STATEMENT EXECUTE FUNCTION clinres._session_doorbell();
UPDATE public.not_sessions SET id = 1;
INSERT INTO public.not_sessions VALUES (1);
UPDATE public.not_sessions SET id = 2;
DROP TABLE public.not_sessions;

-- Leaves the database as the fixture made it, for the files after this one.
DELETE FROM clinres.users WHERE email = 'dave@hosp-a.example';
DELETE FROM clinres.role_permissions WHERE role_code = 'EDITOR';
DELETE FROM clinres.roles WHERE code = 'EDITOR';
