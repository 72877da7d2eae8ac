-- clinres.login: email in any case or phone, one bcrypt verification on every path,
-- NULL for every failure, lockout counted in a transaction of login's own.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
-- What a success returns: session_profile plus a token; tokens are random, so only their shape is shown.
SELECT p - 'token' - 'token_expires_at' - 'session_id' AS profile,
       p ->> 'token' ~ ('^[0-9]+\.00000000-0000-0000-0000-0000000000a1\.a0000000-0000-0000-0000-00000000000a\.[0-9]+\.'
                        || (p ->> 'session_id') || '\.[0-9a-f]{64}$') AS token_shape,
       (p ->> 'token_expires_at')::timestamptz - now() BETWEEN interval '7 hours 59 minutes' AND interval '8 hours 1 minute' AS expires_in_8h
  FROM clinres.login('ALICE@Hosp-A.example', 'alice-pw') p;
SELECT last_login_at > now() - interval '1 minute' AS last_login_recorded, failed_logins FROM clinres.users WHERE id = :alice;
-- login leaves the caller's context as it was (none here, and Carol's below).
SELECT clinres.current_user_id() AS context_after_login;
BEGIN;
SELECT clinres.set_context(:carol, :B) = :carol AS carol;
SELECT clinres.login('alice@hosp-a.example', 'alice-pw') -> 'user' ->> 'name' AS logged_in;
SELECT clinres.current_user_id() = :carol AS still_carol, clinres.current_tenant_id() = :B AS still_b;
COMMIT;
-- By phone, exactly as stored.
SELECT clinres.login('+86 138 0000 0001', 'alice-pw') -> 'user' ->> 'name' AS by_phone;
-- The tenant by code; one the user does not belong to, or an unknown code, is a failure.
SELECT clinres.login('bob@hosp-a.example', 'bob-pw', 'HOSP_A') -> 'tenant' ->> 'code' AS tenant;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw', 'HOSP_B') AS not_a_member;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw', 'NOPE') AS unknown_tenant;
-- A SUPER_ADMIN without memberships lands in PUBLIC; with a code, in any active tenant.
UPDATE clinres.users SET password_hash = crypt('erin-pw', gen_salt('bf', 4)) WHERE id = :erin;
SELECT clinres.login('erin@platform.example', 'erin-pw') -> 'tenant' ->> 'code' AS landing_tenant;
SELECT clinres.login('erin@platform.example', 'erin-pw', 'HOSP_B') -> 'tenant' ->> 'code' AS chosen_tenant;

-- Every failure is NULL, with no error.
SELECT clinres.login('nobody@hosp-a.example', 'x') AS unknown_user,
       clinres.login('alice@hosp-a.example', 'wrong') AS wrong_password,
       clinres.login('carol@hosp-b.example', '') AS no_password_set,
       clinres.login('alice@hosp-a.example', NULL) AS null_password,
       clinres.login(NULL, 'alice-pw') AS null_identifier;
UPDATE clinres.users SET status = 'disabled' WHERE id = :bob;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') AS disabled_user;
UPDATE clinres.users SET status = 'active' WHERE id = :bob;
UPDATE clinres.tenants SET status = 'disabled' WHERE id = :A;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') AS disabled_tenant;
UPDATE clinres.tenants SET status = 'active' WHERE id = :A;
-- Wrong passwords were counted (twice for Alice: 'wrong' and NULL; Carol has no password, so
-- every attempt fails), and a success resets the count.
SELECT email, failed_logins FROM clinres.users ORDER BY email;
SELECT clinres.login('alice@hosp-a.example', 'alice-pw') IS NOT NULL AS ok;
SELECT failed_logins FROM clinres.users WHERE id = :alice;

-- Lockout: after login_max_failures failures the right password is refused too,
-- until login_lockout has passed. Only a superuser may change either setting.
SET clinres.login_max_failures = 3;
SET clinres.login_lockout = '10min';
SELECT clinres.login('bob@hosp-a.example', 'guess' || i) FROM generate_series(1, 2) i;
SELECT failed_logins, locked_until IS NULL AS unlocked FROM clinres.users WHERE id = :bob;
SELECT clinres.login('bob@hosp-a.example', 'guess3') AS third_failure;
SELECT failed_logins, locked_until - now() BETWEEN interval '9 minutes' AND interval '10 minutes' AS locked_10min
  FROM clinres.users WHERE id = :bob;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') AS locked_right_password;
-- Attempts while locked do not extend the lock.
SELECT locked_until - now() BETWEEN interval '9 minutes' AND interval '10 minutes' AS same_lock FROM clinres.users WHERE id = :bob;
UPDATE clinres.users SET locked_until = now() - interval '1 second' WHERE id = :bob;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') -> 'user' ->> 'name' AS after_lockout;
SELECT failed_logins, locked_until FROM clinres.users WHERE id = :bob;
-- The count survives a caller that commits: login never raises.
BEGIN;
SELECT clinres.login('bob@hosp-a.example', 'nope') AS failed;
COMMIT;
SELECT failed_logins FROM clinres.users WHERE id = :bob;

-- The count survives the caller's rollback, whatever undoes the caller's work: a rolled-back
-- transaction, a savepoint, an exception block, a statement that fails after login returned.
SET clinres.login_max_failures = 5;
UPDATE clinres.users SET failed_logins = 0, locked_until = NULL WHERE id = :bob;
BEGIN;
SELECT clinres.login('bob@hosp-a.example', 'guess1') AS in_rolled_back_transaction;
ROLLBACK;
BEGIN;
SAVEPOINT attempt;
SELECT clinres.login('bob@hosp-a.example', 'guess2') AS in_rolled_back_savepoint;
ROLLBACK TO SAVEPOINT attempt;
COMMIT;
DO $$
BEGIN
    PERFORM clinres.login('bob@hosp-a.example', 'guess3');
    RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN
    NULL;
END
$$;
-- (CASE WHEN login(...) IS NULL THEN 1/0 END fails while being planned, before login runs.)
SELECT 1 / (clinres.login('bob@hosp-a.example', 'guess4') IS NOT NULL)::int AS fails_after_login;
SELECT failed_logins, locked_until IS NULL AS unlocked FROM clinres.users WHERE id = :bob;
BEGIN;
SELECT clinres.login('bob@hosp-a.example', 'guess5') IS NULL AS fifth_failure;
ROLLBACK;
SELECT failed_logins, locked_until - now() BETWEEN interval '9 minutes' AND interval '10 minutes' AS locked_10min
  FROM clinres.users WHERE id = :bob;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') -> 'user' ->> 'name' AS locked_right_password;
UPDATE clinres.users SET locked_until = now() - interval '1 second' WHERE id = :bob;
-- A success's reset and last_login_at survive a rollback too.
UPDATE clinres.users SET failed_logins = 3, last_login_at = NULL WHERE id = :bob;
BEGIN;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') -> 'user' ->> 'name' AS after_lockout_rolled_back;
ROLLBACK;
SELECT failed_logins, locked_until, last_login_at > now() - interval '1 minute' AS last_login_recorded
  FROM clinres.users WHERE id = :bob;
-- A REPEATABLE READ snapshot taken before the lock does not hide it: the lock is decided on
-- the newest row, not on what the caller's snapshot shows.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT failed_logins FROM clinres.users WHERE id = :bob;
SELECT clinres.login('bob@hosp-a.example', 'guess' || i) FROM generate_series(1, 5) i;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') AS locked_in_old_snapshot;
ROLLBACK;
SELECT failed_logins, locked_until > now() AS locked FROM clinres.users WHERE id = :bob;
UPDATE clinres.users SET locked_until = NULL WHERE id = :bob;
-- A transaction that holds the user's row lock itself (here: it changed the row) cannot let the
-- attempt be recorded: after lock_timeout (1 s) login fails closed, with a WARNING saying why.
BEGIN;
UPDATE clinres.users SET name = 'Bob' WHERE id = :bob;
SELECT clinres.login('bob@hosp-a.example', 'bob-pw') AS own_row_lock;
ROLLBACK;
-- Nothing else login does outlives the caller's transaction: only failed_logins, locked_until
-- and last_login_at of the user who tried, the trail's rows of its attempts and the session of
-- a success are written outside it (and survive it: shown after the rollback), with the copy of
-- last_login_at in the user's memberships (list_users sorts by it).
CREATE FUNCTION pg_temp.login_digest() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
        SELECT format('%s', (u.id, u.email, u.name, u.phone, u.password_hash, u.status, u.platform_role,
                             u.created_at, u.updated_at)) FROM clinres.users u
        UNION ALL SELECT format('%s', to_jsonb(m) - 'user_last_login_at') FROM clinres.user_tenants m
        UNION ALL SELECT format('%s', m) FROM clinres.user_modules m
        UNION ALL SELECT format('%s', t) FROM clinres.tenants t
        UNION ALL SELECT format('%s', t) FROM clinres.tenant_modules t
        UNION ALL SELECT format('%s', l) FROM clinres.admin_logs l WHERE l.action NOT LIKE 'login%'
        UNION ALL SELECT format('%s', k) FROM clinres.session_keys k) s(t)
$$;
SELECT pg_temp.login_digest() AS before \gset
SELECT max(id) AS last_log FROM clinres.admin_logs \gset
SELECT count(*) AS sessions_before FROM clinres.sessions \gset
BEGIN;
SELECT clinres.login('alice@hosp-a.example', 'alice-pw') IS NOT NULL AS success,
       clinres.login('alice@hosp-a.example', 'wrong') AS failure,
       clinres.login('nobody@hosp-a.example', 'x') AS unknown_user;
ROLLBACK;
SELECT pg_temp.login_digest() = :'before' AS nothing_else_written;
SELECT action, tenant_id, target, detail ? 'session_id' AS names_session FROM clinres.admin_logs
 WHERE id > coalesce(:'last_log'::bigint, 0) ORDER BY id;
SELECT count(*) - :sessions_before AS sessions_kept FROM clinres.sessions;
-- The success's last_login_at reached Alice's memberships too (list_users sorts by that copy).
SELECT u.last_login_at IS NOT NULL AS logged_in, count(*) FILTER (WHERE ut.user_last_login_at IS DISTINCT FROM u.last_login_at) AS stale_copies
  FROM clinres.users u JOIN clinres.user_tenants ut ON ut.user_id = u.id WHERE u.email = 'alice@hosp-a.example' GROUP BY u.last_login_at;
RESET clinres.login_max_failures;
RESET clinres.login_lockout;
SHOW clinres.login_max_failures;
SHOW clinres.login_lockout;

-- The bcrypt cost of the unknown-user verification follows clinres.bcrypt_cost.
SHOW clinres.bcrypt_cost;
SELECT clinres._dummy_hash();
SET clinres.bcrypt_cost = 12;
SELECT left(clinres._dummy_hash(), 7) AS setting;
SET clinres.bcrypt_cost = 3;
RESET clinres.bcrypt_cost;
-- A known user's hash below clinres.bcrypt_cost (imported, or made before the cost was raised)
-- is padded (clinres._bcrypt_padding: one bcrypt at each cost from the hash's up to the setting's)
-- to the cost of an unknown identifier's dummy verification, 2^cost rounds + the padding's =
-- 2^clinres.bcrypt_cost, so that the time of a failure does not tell the user exists. Nothing for
-- a hash at or above the setting, nor for no hash; login pads on every path.
SET clinres.bcrypt_cost = 7;
SELECT c AS hash_cost, p AS padding_rounds, (2 ^ c)::int + p AS total_rounds
  FROM generate_series(4, 8) c, LATERAL clinres._bcrypt_padding('$2b$' || lpad(c::text, 2, '0') || '$' || repeat('.', 53)) p;
SELECT clinres._bcrypt_padding('not a hash') AS malformed, clinres._bcrypt_padding(NULL) AS no_hash,
       clinres._bcrypt_padding('$2a$00$' || repeat('.', 53)) AS cost_below_4;
BEGIN;
SET LOCAL track_functions = 'all';
SELECT clinres.login('alice@hosp-a.example', 'wrong-password') IS NULL AS wrong_password,
       clinres.login('nobody@hosp-a.example', 'wrong-password') IS NULL AS unknown_user;
SELECT pg_stat_get_xact_function_calls('clinres._bcrypt_padding(text)'::regprocedure) AS padded_logins;
COMMIT;
RESET clinres.bcrypt_cost;

-- Privileges: an application role may call login, not change its settings or read hashes.
CREATE ROLE clinres_login_app NOLOGIN;
GRANT clinres_app TO clinres_login_app;
SET ROLE clinres_login_app;
SELECT clinres.login('alice@hosp-a.example', 'alice-pw') -> 'user' ->> 'name' AS as_app;
SET clinres.login_max_failures = 1000;
SET clinres.bcrypt_cost = 4;
SELECT password_hash FROM clinres.users;
RESET ROLE;
DROP ROLE clinres_login_app;

-- Imported bcrypt hashes (import_users' password_hash): hashes made by python3-bcrypt
-- (test/fixtures/bcrypt/make_hashes.py) with each prefix, a non-ASCII and a 72-byte password.
-- pgcrypto's crypt() reads $2a$ only ($2b$ falls through to another algorithm), so login
-- compares through clinres._password_matches: the right password is accepted, a wrong one not
-- (a wrong first character: bcrypt reads the first 72 bytes only).
CREATE TEMP TABLE bcrypt_fixtures (prefix text, password text, hash text);
\copy bcrypt_fixtures FROM 'test/fixtures/bcrypt/hashes.csv' (FORMAT csv, HEADER)
SELECT prefix, crypt(password, hash) = hash AS pgcrypto_alone, clinres._password_matches(password, hash) AS matches,
       clinres._password_matches('!' || password, hash) AS wrong_matches
  FROM bcrypt_fixtures ORDER BY prefix, password;
\pset tuples_only on
SELECT format('UPDATE clinres.users SET password_hash = %L WHERE id = %L', hash, :carol),
       format($q$SELECT %L AS prefix, clinres.login('carol@hosp-b.example', %L) IS NULL AS wrong_refused,
                        clinres.login('carol@hosp-b.example', %L) -> 'user' ->> 'name' AS right_accepted$q$,
              prefix, '!' || password, password)
  FROM bcrypt_fixtures ORDER BY prefix, password \gexec
\pset tuples_only off
SELECT failed_logins FROM clinres.users WHERE id = :carol;

-- A stored hash that crypt() refuses (written by plain SQL, not by clinres) is a failure like a
-- wrong password: NULL, no error, counted; the time of the dummy verification is spent instead.
UPDATE clinres.users SET password_hash = '$2a$04$short', failed_logins = 0 WHERE id = :carol;
SELECT clinres.login('carol@hosp-b.example', 'anything') AS refused_hash;
SELECT failed_logins FROM clinres.users WHERE id = :carol;
