-- User management: privilege escalation, one test per path, and tenant isolation. Known failure
-- to guard against: an identity server's user manager became realm admin through a side path
-- (group membership). Every refused call leaves the catalog exactly as it was.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE q INTO r;
    RETURN 'ok ' || coalesce(r, '(null)');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
-- A digest of every row user management writes (the audit included).
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat((SELECT string_agg(u::text, ',' ORDER BY u.id) FROM clinres.users u),
                      (SELECT string_agg(t::text, ',' ORDER BY t.tenant_id, t.user_id) FROM clinres.user_tenants t),
                      (SELECT string_agg(m::text, ',' ORDER BY m.tenant_id, m.user_id, m.module_code) FROM clinres.user_modules m),
                      (SELECT count(*) FROM clinres.admin_logs)))
$$;
-- More people: Dan belongs to A and B; Mia is a MANAGER of A, a custom role that may view,
-- create and edit users but not delete them; Erin (SUPER_ADMIN) is also a member of A; Alice
-- also administers PUBLIC.
INSERT INTO clinres.roles (code, scope, name) VALUES ('MANAGER', 'tenant', 'user manager');
INSERT INTO clinres.role_permissions VALUES ('MANAGER', 'user:view'), ('MANAGER', 'user:create'), ('MANAGER', 'user:edit');
INSERT INTO clinres.users (id, email, name) VALUES
    ('00000000-0000-0000-0000-0000000000d0', 'dan@both.example', 'Dan'),
    ('00000000-0000-0000-0000-0000000000f0', 'mia@hosp-a.example', 'Mia');
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES
    (:A, '00000000-0000-0000-0000-0000000000d0', 'USER'),
    (:B, '00000000-0000-0000-0000-0000000000d0', 'USER'),
    (:A, '00000000-0000-0000-0000-0000000000f0', 'MANAGER'),
    (:A, :erin, 'TENANT_ADMIN'),
    ('00000000-0000-0000-0000-000000000001', :alice, 'TENANT_ADMIN');
\set dan '''00000000-0000-0000-0000-0000000000d0'''
\set mia '''00000000-0000-0000-0000-0000000000f0'''
SELECT pg_temp.state() AS before \gset

-- Path 1, create: a role above one's own, a platform role, an unsubscribed module.
SELECT clinres.set_context(:mia, :A, false);
SELECT pg_temp.try($$SELECT clinres.create_user('x1@x.example', 'X', role_code => 'TENANT_ADMIN')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('x1@x.example', 'X', role_code => 'SUPER_ADMIN')$$);
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.try($$SELECT clinres.create_user('x1@x.example', 'X', role_code => 'SUPER_ADMIN')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('x1@x.example', 'X', modules => ARRAY['admin'])$$);
SELECT pg_temp.try($$SELECT clinres.create_user('x1@x.example', 'X', tenant_id => 'b0000000-0000-0000-0000-00000000000b')$$);
-- Path 2, assign: into a tenant one does not manage, a user one cannot see, a platform role, a duplicate.
SELECT pg_temp.try($$SELECT clinres.assign_tenant('00000000-0000-0000-0000-0000000000b0', 'b0000000-0000-0000-0000-00000000000b')$$);
SELECT pg_temp.try($$SELECT clinres.assign_tenant('00000000-0000-0000-0000-0000000000c0', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT pg_temp.try($$SELECT clinres.assign_tenant('00000000-0000-0000-0000-0000000000b0', '00000000-0000-0000-0000-000000000001', 'SUPER_ADMIN')$$);
SELECT pg_temp.try($$SELECT clinres.assign_tenant('00000000-0000-0000-0000-0000000000b0', '00000000-0000-0000-0000-000000000001', 'user', ARRAY['nope'])$$);
SELECT pg_temp.try($$SELECT clinres.assign_tenant('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT clinres.set_context(:mia, :A, false);
SELECT pg_temp.try($$SELECT clinres.assign_tenant('00000000-0000-0000-0000-0000000000b0', '00000000-0000-0000-0000-000000000001')$$);
SELECT pg_temp.try($$SELECT clinres.assign_tenant('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001')$$);
-- Path 3, role change: upward, to a platform role, on oneself, on a superior, in another tenant, of a SUPER_ADMIN.
SELECT clinres.set_context(:mia, :A, false);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'TENANT_ADMIN')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', 'USER')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000f0', 'a0000000-0000-0000-0000-00000000000a', 'USER')$$);
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'SUPER_ADMIN')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', 'USER')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000d0', 'b0000000-0000-0000-0000-00000000000b', 'TENANT_ADMIN')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000e0', 'a0000000-0000-0000-0000-00000000000a', 'USER')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'OWNER')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000c0', 'b0000000-0000-0000-0000-00000000000b', 'USER')$$);
-- Path 4, modules: unsubscribed, of a superior, of a SUPER_ADMIN, in another tenant.
SELECT pg_temp.try($$SELECT clinres.set_user_modules('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', ARRAY['aia', 'rvw'])$$);
SELECT pg_temp.try($$SELECT clinres.set_user_modules('00000000-0000-0000-0000-0000000000e0', 'a0000000-0000-0000-0000-00000000000a', ARRAY['aia'])$$);
SELECT pg_temp.try($$SELECT clinres.set_user_modules('00000000-0000-0000-0000-0000000000d0', 'b0000000-0000-0000-0000-00000000000b', NULL)$$);
SELECT clinres.set_context(:mia, :A, false);
SELECT pg_temp.try($$SELECT clinres.set_user_modules('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', ARRAY['aia'])$$);
-- Path 5, global fields of a user who also belongs to a tenant one does not manage, or of a SUPER_ADMIN.
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000d0', '{"email": "dan@evil.example"}')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000e0', '{"email": "erin@evil.example"}')$$);
SELECT pg_temp.try($$SELECT clinres.reset_password('00000000-0000-0000-0000-0000000000d0', 'taken-over-1')$$);
SELECT pg_temp.try($$SELECT clinres.reset_password('00000000-0000-0000-0000-0000000000e0', 'taken-over-1')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000c0', '{"name": "x"}')$$);
-- Path 6, status: global status of a shared user, oneself, a SUPER_ADMIN, another tenant's membership.
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000d0', 'disabled')$$);
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000a1', 'disabled')$$);
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000a1', 'disabled', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000e0', 'disabled', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000d0', 'disabled', 'b0000000-0000-0000-0000-00000000000b')$$);
-- Path 7, delete: a shared user everywhere, oneself, a SUPER_ADMIN; without user:delete; another tenant's membership.
SELECT pg_temp.try($$SELECT clinres.delete_user('00000000-0000-0000-0000-0000000000d0', everywhere => true)$$);
SELECT pg_temp.try($$SELECT clinres.delete_user('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT pg_temp.try($$SELECT clinres.delete_user('00000000-0000-0000-0000-0000000000e0', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT pg_temp.try($$SELECT clinres.remove_tenant('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT pg_temp.try($$SELECT clinres.remove_tenant('00000000-0000-0000-0000-0000000000d0', 'b0000000-0000-0000-0000-00000000000b')$$);
SELECT clinres.set_context(:mia, :A, false);
SELECT pg_temp.try($$SELECT clinres.delete_user('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a')$$);
-- Path 8, a plain USER and a disabled administrator can do nothing at all.
SELECT clinres.set_context(:bob, :A, false);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users()$$);
SELECT pg_temp.try($$SELECT clinres.create_user('x1@x.example', 'X')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'TENANT_ADMIN')$$);
UPDATE clinres.user_tenants SET status = 'disabled' WHERE user_id = :alice;
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users()$$);
SELECT pg_temp.try($$SELECT clinres.get_user('00000000-0000-0000-0000-0000000000b0')$$);
UPDATE clinres.user_tenants SET status = 'active' WHERE user_id = :alice;
SELECT pg_temp.state() = :'before' AS nothing_written;

-- Path 9, the application role: EXECUTE on the API, no table access, context still required.
CREATE ROLE clinres_regress_app;
GRANT clinres_app TO clinres_regress_app;
SET ROLE clinres_regress_app;
SELECT pg_temp.try($$SELECT count(*) FROM clinres.users$$);
SELECT pg_temp.try($$SELECT clinres._create_or_add_user('x@x.example', 'X', NULL, 'SUPER_ADMIN', NULL, NULL)::text$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres._check_user_rows(NULL, 'error', '{x@x.example}', '{X}', '{NULL}', '{USER}', '{NULL}', '{NULL}')$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres._write_user_rows(NULL, 'error', '{x@x.example}', '{X}', '{NULL}', '{SUPER_ADMIN}', '{NULL}', '{NULL}')$$);
SELECT clinres.set_context(:alice, :A, false);
SELECT email FROM clinres.list_users(sort => 'email asc');
RESET ROLE;
DROP ROLE clinres_regress_app;
SELECT pg_temp.state() = :'before' AS nothing_written;

-- What is allowed: Mia (MANAGER) grants roles at or below her own; Alice removes Dan from A
-- only (he stays in B); only Erin grants and takes the platform role, never from herself.
SELECT clinres.set_context(:mia, :A, false);
SELECT clinres.set_tenant_role(:bob, :A, 'MANAGER') -> 'tenants' -> 0 ->> 'role_code';
SELECT clinres.set_tenant_role(:bob, :A, 'user') -> 'tenants' -> 0 ->> 'role_code';
SELECT clinres.set_context(:alice, :A, false);
SELECT clinres.remove_tenant(:dan, :A) -> 'tenants';
SELECT tenant_id = :B AS still_in_b FROM clinres.user_tenants WHERE user_id = :dan;
SELECT pg_temp.try($$SELECT clinres.get_user('00000000-0000-0000-0000-0000000000d0')$$);
SELECT clinres.set_context(:erin, NULL, false);
SELECT clinres.set_tenant_role(:bob, :A, 'SUPER_ADMIN') ->> 'platform_role';
SELECT clinres.has_module(:bob, :A, 'asl') AS bob_asl_as_super;
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000b0', 'disabled', 'a0000000-0000-0000-0000-00000000000a')$$);
SELECT pg_temp.try($$SELECT clinres.set_user_modules('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', '{}')$$);
SELECT clinres.set_context(:erin, NULL, false);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000e0', 'a0000000-0000-0000-0000-00000000000a', 'USER')$$);
SELECT pg_temp.try($$SELECT clinres.delete_user('00000000-0000-0000-0000-0000000000e0', everywhere => true)$$);
SELECT clinres.set_tenant_role(:bob, :A, 'USER') ->> 'platform_role';
SELECT clinres.has_module(:bob, :A, 'asl') AS bob_asl_as_user;
-- A SUPER_ADMIN deletes a user everywhere; a tenant admin deletes one whose only tenant it manages.
SELECT clinres.delete_user(:dan, everywhere => true) = :dan AS deleted;
SELECT count(*) FROM clinres.user_tenants WHERE user_id = :dan;
SELECT clinres.set_context(:alice, :A, false);
SELECT clinres.delete_user(:bob, everywhere => true) = :bob AS deleted;
SELECT count(*) FROM clinres.users WHERE id = :bob;
SELECT clinres.has_module(:bob, :A, 'aia');
SELECT clinres.set_context(NULL, NULL, false);
-- A refused permission carries clinres's denial marker (schema clinres, table permission, column the code).
DO $$
DECLARE s text; t text; c text;
BEGIN
    PERFORM clinres.set_context('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a');
    PERFORM clinres.list_users();
EXCEPTION WHEN insufficient_privilege THEN
    GET STACKED DIAGNOSTICS s = SCHEMA_NAME, t = TABLE_NAME, c = COLUMN_NAME;
    RAISE NOTICE 'denial marker: schema=%, table=%, column=%', s, t, c;
END $$;

-- An import row with an empty role cell creates a USER: within the grant ceiling like any role
-- (the auditor's path: USER holding a permission its creator lacks). create_user is refused, so
-- is the import row, and nothing is written.
INSERT INTO clinres.permissions (code, description) VALUES ('report:view', 'read reports');
INSERT INTO clinres.role_permissions (role_code, permission_code) VALUES ('USER', 'report:view');
INSERT INTO clinres.roles (code, scope, name) VALUES ('CREATOR', 'tenant', 'creator');
INSERT INTO clinres.role_permissions (role_code, permission_code) VALUES ('CREATOR', 'user:view'), ('CREATOR', 'user:create');
INSERT INTO clinres.users (id, email, name) VALUES ('00000000-0000-0000-0000-000000000050', 'kate@hosp-a.example', 'Kate');
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES (:A, '00000000-0000-0000-0000-000000000050', 'CREATOR');
SELECT pg_temp.state() AS before_creator \gset
BEGIN;
SELECT clinres.set_context('00000000-0000-0000-0000-000000000050', :A) IS NOT NULL;
SELECT pg_temp.try($$SELECT clinres.create_user('u1@hosp-a.example', 'U1')$$);
SELECT row_no, action, message FROM clinres.import_users(convert_to(E'email,name\nu3@hosp-a.example,U3\n', 'UTF8'));
COMMIT;
SELECT pg_temp.state() = :'before_creator' AS nothing_written;
DELETE FROM clinres.role_permissions WHERE permission_code = 'report:view' OR role_code = 'CREATOR';
DELETE FROM clinres.users WHERE id = '00000000-0000-0000-0000-000000000050';
DELETE FROM clinres.roles WHERE code = 'CREATOR';
DELETE FROM clinres.permissions WHERE code = 'report:view';
