-- Access governance (docs/reference.md, "Access governance"): explain_access gives has_module's
-- answer with the first fact that decides it, to the user itself or to holders of user:view.
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
\set dave '''00000000-0000-0000-0000-0000000000d0'''
INSERT INTO clinres.users (id, email, name) VALUES (:dave, 'dave@hosp-a.example', 'Dave');
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code, status) VALUES (:A, :dave, 'USER', 'disabled');

-- Each reason, asked by Alice (TENANT_ADMIN of A) or Erin (SUPER_ADMIN); the answer is has_module's.
CREATE FUNCTION pg_temp.explain_as(actor uuid, u uuid, t uuid, m text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM clinres.set_context(actor, t);
    RETURN format('%s %s (has_module %s)', clinres.explain_access(u, t, m) ->> 'reason',
                  clinres.explain_access(u, t, m) ->> 'allowed', clinres.has_module(u, t, m));
END $$;
SELECT pg_temp.explain_as(:alice, :alice, :A, 'asl') AS inherited,
       pg_temp.explain_as(:alice, :bob, :A, 'aia') AS granted,
       pg_temp.explain_as(:alice, :bob, :A, 'dc') AS not_granted,
       pg_temp.explain_as(:alice, :bob, :A, 'rvw') AS not_subscribed,
       pg_temp.explain_as(:alice, :dave, :A, 'aia') AS membership_disabled;
SELECT pg_temp.explain_as(:erin, :carol, :A, 'aia') AS not_member,
       pg_temp.explain_as(:erin, :erin, :B, 'rvw') AS super_admin;
-- A subscription that ends: "until" is its end; once past, the reason says so (no write in between).
UPDATE clinres.tenant_modules SET expires_at = now() + interval '1 hour' WHERE tenant_id = :A AND module_code = 'asl';
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SELECT (clinres.explain_access(:alice, :A, 'asl') ->> 'until')::timestamptz
           = (SELECT expires_at FROM clinres.tenant_modules WHERE tenant_id = :A AND module_code = 'asl') AS until_is_the_end,
       clinres.explain_access(:alice, :A, 'aia') -> 'until' AS forever;
UPDATE clinres.tenant_modules SET expires_at = now() - interval '1 second' WHERE tenant_id = :A AND module_code = 'asl';
SELECT clinres.explain_access(:alice, :A, 'asl') AS expired;
UPDATE clinres.tenant_modules SET expires_at = NULL WHERE tenant_id = :A AND module_code = 'asl';
UPDATE clinres.modules SET is_active = false WHERE code = 'dc';
SELECT clinres.explain_access(:alice, :A, 'dc') ->> 'reason' AS module_inactive;
UPDATE clinres.modules SET is_active = true WHERE code = 'dc';
UPDATE clinres.users SET status = 'disabled' WHERE id = :bob;
SELECT clinres.explain_access(:bob, :A, 'aia') ->> 'reason' AS user_disabled;
UPDATE clinres.users SET status = 'active' WHERE id = :bob;
INSERT INTO clinres.tenants (id, code, name, status) VALUES ('c0000000-0000-0000-0000-00000000000c', 'HOSP_C', 'C', 'disabled');
SELECT pg_temp.explain_as(:erin, :carol, 'c0000000-0000-0000-0000-00000000000c', 'aia') AS tenant_disabled;
DELETE FROM clinres.tenants WHERE code = 'HOSP_C';
-- Unknown ids answer like disabled ones (nothing revealed); an unknown module is 22023.
SELECT pg_temp.explain_as(:erin, '00000000-0000-0000-0000-00000000dead', :A, 'aia') AS unknown_user;
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SELECT clinres.explain_access(:alice, :A, 'nope');
-- A NULL argument is 22023 naming it (the answer is never a silent NULL).
SELECT clinres.explain_access(NULL, :A, 'aia');
SELECT clinres.explain_access(:alice, NULL, 'aia');
SELECT clinres.explain_access(:alice, :A, NULL);

-- Who may ask: Bob about himself, not about Alice; Alice not about Carol (of B only); nobody
-- without a context.
SELECT clinres.set_context(:bob, :A, false) IS NOT NULL AS ctx;
SELECT clinres.explain_access(:bob, :A, 'pkb') ->> 'reason' AS bob_himself;
SELECT clinres.explain_access(:alice, :A, 'asl');
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SELECT clinres.explain_access(:carol, :B, 'aia');
SELECT clinres.explain_access(:carol, :A, 'aia');

-- Validities: grants and memberships that start and end. Alice grants Bob asl from tomorrow
-- (his other modules stay), rvw is not subscribed (22023), from must be before until (22023).
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SELECT clinres.grant_module(:bob, :A, 'ASL', now() + interval '1 day') IS NOT NULL AS granted,
       ARRAY(SELECT code FROM clinres.user_modules(:bob, :A)) AS bob_nav;
SELECT clinres.explain_access(:bob, :A, 'asl') - 'until' AS asl_tomorrow,
       (clinres.explain_access(:bob, :A, 'asl') ->> 'until')::timestamptz
           = (SELECT valid_from FROM clinres.user_modules WHERE user_id = :bob AND module_code = 'asl') AS until_is_the_start;
SELECT clinres.grant_module(:bob, :A, 'rvw');
SET timezone = 'UTC';
SELECT clinres.grant_module(:bob, :A, 'asl', '2030-01-02', '2030-01-01');
-- A validity that can never hold (equal ends), or that has already ended, is refused on every API
-- path (an import accepts an ended one: an export's former validity reads back), leaving nothing.
SELECT clinres.grant_module(:bob, :A, 'asl', '2030-01-01', '2030-01-01');
SELECT clinres.grant_module(:bob, :A, 'asl', NULL, '2020-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_context(:erin, :A, false) IS NOT NULL AS ctx;
SELECT clinres.assign_tenant(:carol, :A, 'USER', NULL, '2030-01-01', '2030-01-01');
SELECT clinres.assign_tenant(:carol, :A, 'USER', NULL, NULL, '2020-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS carol_in_a FROM clinres.user_tenants WHERE user_id = :carol AND tenant_id = :A;
SELECT valid_from > now() AS asl_still_from_tomorrow, valid_until FROM clinres.user_modules WHERE user_id = :bob AND module_code = 'asl';
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
RESET timezone;
-- A grant that ends in three seconds: allowed now, denied once the instant has passed, with no
-- write in between (the session's cache stays warm and is not invalidated).
SELECT clinres.grant_module(:bob, :A, 'asl', NULL, clock_timestamp() + interval '3 s') IS NOT NULL AS granted;
SELECT clinres.has_module(:bob, :A, 'asl') AS before_the_end,
       ARRAY(SELECT code FROM clinres.user_modules(:bob, :A)) AS bob_nav;
SELECT invalidations AS inv FROM clinres.access_cache_stats() \gset
SELECT pg_sleep(extract(epoch FROM (SELECT valid_until FROM clinres.user_modules WHERE user_id = :bob AND module_code = 'asl')
                                    - clock_timestamp()) + 0.05);
SELECT clinres.has_module(:bob, :A, 'asl') AS after_the_end, clinres.explain_access(:bob, :A, 'asl') AS why,
       ARRAY(SELECT code FROM clinres.user_modules(:bob, :A)) AS bob_nav,
       (SELECT invalidations FROM clinres.access_cache_stats()) = :inv AS no_invalidation;
-- Revoked is another fact, and another action of the trail, than expired.
SELECT clinres.grant_module(:bob, :A, 'asl') IS NOT NULL AS granted;
SELECT clinres.revoke_module(:bob, :A, 'asl') IS NOT NULL AS revoked;
SELECT clinres.explain_access(:bob, :A, 'asl') ->> 'reason' AS after_revoke;
SELECT action, detail -> 'before' ->> 'enabled' AS before, detail -> 'after' ->> 'enabled' AS after,
       detail -> 'after' ->> 'valid_until' IS NOT NULL AS ends
  FROM clinres.admin_logs WHERE target = :bob::text AND action LIKE 'tenant.module.%' ORDER BY id;
-- Revoking what the member does not have (Bob's asl, revoked above; a module it has no row for;
-- rvw of Alice, who inherits, not subscribed by A) is 22023 naming it, and changes nothing: no
-- row (Alice keeps inheriting), no trail row.
SELECT count(*) AS rows_before, max(l.id) AS log_before
  FROM clinres.user_modules um, (SELECT max(id) AS id FROM clinres.admin_logs) l
 WHERE um.tenant_id = :A \gset
SELECT clinres.revoke_module(:bob, :A, 'asl');
SELECT clinres.revoke_module(:bob, :A, 'st');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_context(:erin, :A, false) IS NOT NULL AS ctx;
SELECT clinres.revoke_module(:alice, :A, 'rvw');
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM clinres.user_modules WHERE tenant_id = :A) = :rows_before AS rows_unchanged,
       (SELECT max(id) FROM clinres.admin_logs) = :log_before AS nothing_logged,
       clinres._module_config(:alice, :A) AS alice_config;
-- A single grant to a member that inherits writes its inheritance out: from then on it no longer
-- inherits later subscriptions. The trail says so, as set_user_modules would (tenant.modules,
-- before: inherit), before the grant's own row.
BEGIN;
SELECT clinres.set_context(:erin, :A, false) IS NOT NULL AS ctx;
SELECT max(id) AS before_grant FROM clinres.admin_logs \gset
SELECT clinres.grant_module(:alice, :A, 'asl', NULL, now() + interval '1 day') IS NOT NULL AS granted;
SELECT action, detail -> 'before' AS before, (detail -> 'after') - 'valid_until' AS after FROM clinres.admin_logs WHERE id > :before_grant ORDER BY id;
ROLLBACK;
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
-- A membership that starts tomorrow (Erin adds Carol to A): no module until then, and no login
-- into that tenant (into B, yes).
UPDATE clinres.users SET password_hash = crypt('carol-pw', gen_salt('bf', 4)) WHERE id = :carol;
SELECT clinres.set_context(:erin, :A, false) IS NOT NULL AS ctx;
SELECT clinres.assign_tenant(:carol, :A, 'USER', NULL, now() + interval '1 day') ->> 'id' AS carol;
SELECT clinres.explain_access(:carol, :A, 'aia') - 'until' AS carol_in_a, clinres.has_module(:carol, :A, 'aia') AS has_aia;
SELECT clinres.login('carol@hosp-b.example', 'carol-pw', 'HOSP_A') IS NULL AS no_login_to_a,
       clinres.login('carol@hosp-b.example', 'carol-pw', 'HOSP_B') IS NOT NULL AS login_to_b;
SELECT action, (detail -> 'after' ->> 'valid_from')::timestamptz > now() AS starts_later, detail -> 'after' -> 'valid_until' AS ends
  FROM clinres.admin_logs WHERE target = :carol::text AND action = 'tenant.validity';
-- One that ended: membership_expired, and its tenant role holds no permission any more.
UPDATE clinres.user_tenants SET valid_from = now() - interval '2 days', valid_until = now() - interval '1 day',
                                role_code = 'TENANT_ADMIN'
 WHERE user_id = :carol AND tenant_id = :A;
SELECT clinres.explain_access(:carol, :A, 'aia') ->> 'reason' AS carol_in_a,
       clinres.has_permission(:carol, :A, 'user:view') AS expired_admin_may_view;
DELETE FROM clinres.user_tenants WHERE user_id = :carol AND tenant_id = :A;

-- The access review of A: one row per member and module it may use now, the source, the validity
-- and who granted it (from the trail: Bob's dc grant ends tomorrow; Erin is a SUPER_ADMIN member).
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SELECT clinres.grant_module(:bob, :A, 'dc', NULL, now() + interval '1 day') IS NOT NULL AS granted;
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES (:A, :erin, 'TENANT_ADMIN');
SELECT email, module_code, source, membership_status, valid_from IS NOT NULL AS starts, valid_until > now() AS ends,
       (SELECT u.email FROM clinres.users u WHERE u.id = granted_by) AS granted_by, granted_at IS NOT NULL AS granted_at
  FROM clinres.access_review();
-- The same rows as has_module gives, for every member and module.
SELECT count(*) AS rows, count(*) = (SELECT count(*) FROM clinres.user_tenants ut, clinres.modules m
                                      WHERE ut.tenant_id = :A AND clinres.has_module(ut.user_id, :A, m.code)) AS as_has_module
  FROM clinres.access_review(:A);
-- The CSV's byte-order mark is checked apart from its header: psql 15 counts the zero-width
-- character as one column and psql 17 as none, which would move the header's frame.
SELECT left(h, 1) = U&'\FEFF' AS bom, substr(h, 2) AS csv_header,
       array_length(string_to_array(rtrim(convert_from(clinres.export_access_review(:A, 'csv'), 'UTF8'), E'\n'), E'\n'), 1) AS csv_lines,
       substr(clinres.export_access_review(:A), 1, 2) = 'PK' AS xlsx
  FROM split_part(convert_from(clinres.export_access_review(:A, 'csv'), 'UTF8'), E'\n', 1) AS h;
SELECT clinres.export_access_review(:A, 'pdf');
-- Bob (USER) may not review A; nor Alice B.
SELECT clinres.set_context(:bob, :A, false) IS NOT NULL AS ctx;
SELECT count(*) FROM clinres.access_review();
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SELECT count(*) FROM clinres.access_review(:B);
DELETE FROM clinres.user_tenants WHERE user_id = :erin AND tenant_id = :A;
SELECT clinres.set_context(NULL, NULL, false);
DELETE FROM clinres.users WHERE id = :dave;
-- Leaves the trail as the files after this one expect it (they count its rows).
TRUNCATE clinres.admin_logs, clinres.admin_log_chains;
