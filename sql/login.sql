-- clinres.login: email in any case or phone, one bcrypt verification on every path,
-- NULL for every failure (nothing raises, so the failure count commits), lockout.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
-- What a success returns: session_profile plus a token; tokens are random, so only their shape is shown.
SELECT p - 'token' - 'token_expires_at' AS profile,
       p ->> 'token' ~ '^[0-9]+\.00000000-0000-0000-0000-0000000000a1\.a0000000-0000-0000-0000-00000000000a\.[0-9]+\.[0-9a-f]{64}$' AS token_shape,
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
-- The count survives a caller that rolls nothing back: login never raises.
BEGIN;
SELECT clinres.login('bob@hosp-a.example', 'nope') AS failed;
COMMIT;
SELECT failed_logins FROM clinres.users WHERE id = :bob;
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
