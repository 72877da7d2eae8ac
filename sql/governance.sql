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

-- Who may ask: Bob about himself, not about Alice; Alice not about Carol (of B only); nobody
-- without a context.
SELECT clinres.set_context(:bob, :A, false) IS NOT NULL AS ctx;
SELECT clinres.explain_access(:bob, :A, 'pkb') ->> 'reason' AS bob_himself;
SELECT clinres.explain_access(:alice, :A, 'asl');
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SELECT clinres.explain_access(:carol, :B, 'aia');
SELECT clinres.explain_access(:carol, :A, 'aia');
SELECT clinres.set_context(NULL, NULL, false);
DELETE FROM clinres.users WHERE id = :dave;
