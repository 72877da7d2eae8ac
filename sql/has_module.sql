-- has_module and the other access functions: each access rule (docs/reference.md) is
-- flipped one at a time, and every change is seen by the very next statement.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
-- Who may use what in hospital A, and in hospital B.
CREATE TEMP VIEW access_a AS
SELECT u.name, coalesce(string_agg(m.code, ',' ORDER BY m.sort_order)
                        FILTER (WHERE clinres.has_module(u.id, :A, m.code)), '-') AS modules
  FROM clinres.users u CROSS JOIN clinres.modules m GROUP BY u.name ORDER BY u.name;
CREATE TEMP VIEW access_b AS
SELECT u.name, coalesce(string_agg(m.code, ',' ORDER BY m.sort_order)
                        FILTER (WHERE clinres.has_module(u.id, :B, m.code)), '-') AS modules
  FROM clinres.users u CROSS JOIN clinres.modules m GROUP BY u.name ORDER BY u.name;
-- Alice inherits every subscription of A; Bob's own rows allow aia and pkb (dc is
-- off, asl has no row); Carol is not a member of A; Erin is SUPER_ADMIN.
SELECT * FROM access_a;
SELECT * FROM access_b;

-- A disabled user has nothing.
UPDATE clinres.users SET status = 'disabled' WHERE id = :alice;
SELECT * FROM access_a;
UPDATE clinres.users SET status = 'active' WHERE id = :alice;
-- A disabled tenant gives nothing to anyone, SUPER_ADMIN included.
UPDATE clinres.tenants SET status = 'disabled' WHERE id = :A;
SELECT * FROM access_a;
UPDATE clinres.tenants SET status = 'active' WHERE id = :A;
-- An inactive membership gives nothing; no membership gives nothing.
UPDATE clinres.user_tenants SET status = 'disabled' WHERE user_id = :bob;
SELECT * FROM access_a;
UPDATE clinres.user_tenants SET status = 'active' WHERE user_id = :bob;
DELETE FROM clinres.user_tenants WHERE user_id = :alice;
SELECT * FROM access_a;
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES (:A, :alice, 'TENANT_ADMIN');
-- An expired subscription is off; one expiring later is on.
UPDATE clinres.tenant_modules SET expires_at = now() - interval '1 second' WHERE tenant_id = :A AND module_code = 'pkb';
SELECT * FROM access_a;
UPDATE clinres.tenant_modules SET expires_at = now() + interval '1 day' WHERE tenant_id = :A AND module_code = 'pkb';
SELECT * FROM access_a;
-- A disabled subscription is off (but not for SUPER_ADMIN).
UPDATE clinres.tenant_modules SET is_enabled = false WHERE tenant_id = :A AND module_code = 'aia';
SELECT * FROM access_a;
UPDATE clinres.tenant_modules SET is_enabled = true WHERE tenant_id = :A AND module_code = 'aia';
-- Inherit vs explicit: one row of her own restricts Alice to it ...
INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled) VALUES (:A, :alice, 'asl', true);
SELECT * FROM access_a;
-- ... even a disabled row ends inheritance ...
UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = :alice;
SELECT * FROM access_a;
-- ... and removing it restores inheritance. A row cannot grant an unsubscribed module.
DELETE FROM clinres.user_modules WHERE user_id = :alice;
INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled) VALUES (:A, :bob, 'ssa', true);
SELECT * FROM access_a;
DELETE FROM clinres.user_modules WHERE user_id = :bob AND module_code = 'ssa';
-- An inactive module is off for everyone, SUPER_ADMIN included.
UPDATE clinres.modules SET is_active = false WHERE code = 'dc';
SELECT * FROM access_a;
UPDATE clinres.modules SET is_active = true WHERE code = 'dc';
-- SUPER_ADMIN needs no membership, but must be active.
UPDATE clinres.users SET status = 'disabled' WHERE id = :erin;
SELECT * FROM access_b;
UPDATE clinres.users SET status = 'active' WHERE id = :erin;
SELECT * FROM access_a;

-- Codes are case-insensitive; NULLs give NULL; unknown ids give false.
SELECT clinres.has_module(:alice, :A, 'AIA') AS upper, clinres.has_module(:alice, :A, 'Pkb') AS mixed;
SELECT clinres.has_module(NULL, :A, 'aia') AS null_user, clinres.has_module(:alice, NULL, 'aia') AS null_tenant,
       clinres.has_module(:alice, :A, NULL) AS null_code;
SELECT clinres.has_module(gen_random_uuid(), :A, 'aia') AS unknown_user,
       clinres.has_module(:alice, gen_random_uuid(), 'aia') AS unknown_tenant;
-- An unknown module is an error, with the valid codes as a hint.
SELECT clinres.has_module(:alice, :A, 'crm');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.has_module(:alice, :A, ' aia');
\echo :LAST_ERROR_SQLSTATE

-- require_module: the route guard.
SELECT clinres.require_module(:bob, :A, 'aia');
SELECT clinres.require_module(:bob, :A, 'asl');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.require_module(NULL, :A, 'asl');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.require_module(:bob, :A, 'nope');
\echo :LAST_ERROR_SQLSTATE

-- has_permission: the tenant role's permissions, or the platform role's anywhere.
SELECT u.name, p.code, clinres.has_permission(u.id, :A, p.code) AS in_a, clinres.has_permission(u.id, :B, p.code) AS in_b
  FROM clinres.users u CROSS JOIN clinres.permissions p WHERE p.code IN ('user:view', 'user:delete')
 ORDER BY 1, 2;
SELECT clinres.has_permission(:alice, :A, 'USER:EDIT') AS upper_case;
SELECT clinres.has_permission(:alice, :A, 'user:fly');
\echo :LAST_ERROR_SQLSTATE
UPDATE clinres.role_permissions SET role_code = 'USER' WHERE role_code = 'TENANT_ADMIN' AND permission_code = 'user:delete';
SELECT clinres.has_permission(:alice, :A, 'user:delete') AS alice_delete, clinres.has_permission(:bob, :A, 'user:delete') AS bob_delete;
UPDATE clinres.role_permissions SET role_code = 'TENANT_ADMIN' WHERE role_code = 'USER' AND permission_code = 'user:delete';

-- landing_module and user_modules follow has_module, in navigation order.
SELECT u.name, clinres.landing_module(u.id, :A) AS landing_a, clinres.landing_module(u.id, :B) AS landing_b
  FROM clinres.users u ORDER BY 1;
SELECT * FROM clinres.user_modules(:bob, :A);
SELECT count(*) FROM clinres.user_modules(:carol, :A);
UPDATE clinres.modules SET sort_order = 1 WHERE code = 'pkb';
SELECT code, sort_order FROM clinres.user_modules(:bob, :A);
SELECT clinres.landing_module(:bob, :A);
UPDATE clinres.modules SET sort_order = 30 WHERE code = 'pkb';

-- tenants_with_module: the tenants where the context user has the module.
SELECT count(*) AS without_context FROM clinres.tenants_with_module('aia');
SELECT clinres.tenants_with_module('crm');
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT clinres.set_context(:alice, :A);
SELECT t = :A AS hospital_a FROM clinres.tenants_with_module('AIA') t;
SELECT count(*) AS alice_ssa FROM clinres.tenants_with_module('ssa');
SELECT clinres.set_context(:erin, :A);
SELECT tn.code FROM clinres.tenants_with_module('pkb') t JOIN clinres.tenants tn ON tn.id = t ORDER BY 1;
COMMIT;

-- session_profile: what a login endpoint returns; never the password hash. It answers
-- for the context user, or for a context user holding user:view in the tenant (about a
-- member of it) or on the platform; anyone else gets 42501.
SELECT clinres.session_profile(:alice, :A);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.set_context(:alice, :A, false);
SELECT jsonb_pretty(clinres.session_profile(:alice, :A));
-- Alice administers A: Bob's profile in A, yes; Carol's (not a member of A) or B's, no.
SELECT clinres.session_profile(:bob, :A) -> 'modules' AS bob_in_a;
SELECT clinres.session_profile(:carol, :A);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.session_profile(:carol, :B);
\echo :LAST_ERROR_SQLSTATE
-- Bob, a USER, reads his own profile and nobody else's.
SELECT clinres.set_context(:bob, :A, false);
SELECT clinres.session_profile(:bob, :A) -> 'role' AS own_role;
SELECT clinres.session_profile(:alice, :A);
\echo :LAST_ERROR_SQLSTATE
-- Erin (SUPER_ADMIN) reads anyone's, in any tenant.
SELECT clinres.set_context(:erin, :A, false);
SELECT clinres.session_profile(:carol, :A) -> 'modules' AS carol_in_a, clinres.session_profile(:carol, :A) -> 'role' AS role;
SELECT clinres.session_profile(gen_random_uuid(), :A) AS unknown_user;
SELECT count(*) FROM (SELECT clinres.session_profile(id, :A)::text AS p FROM clinres.users) s
 WHERE p LIKE '%$2%' OR p LIKE '%password%';
SELECT clinres.set_context(NULL, NULL, false);

-- Deleting modules takes their user_modules rows with them: a member configured with only
-- deleted modules keeps "no modules" instead of inheriting every subscription of the tenant,
-- also when they go in one statement, and also for a subscription added back later.
INSERT INTO clinres.modules (code, name, schema_name, route, sort_order)
VALUES ('xmod', 'X', 'x_schema', '/x', 98), ('ymod', 'Y', 'y_schema', '/y', 99);
INSERT INTO clinres.tenant_modules (tenant_id, module_code) VALUES (:A, 'xmod'), (:A, 'ymod'), (:B, 'xmod');
INSERT INTO clinres.users (id, email, name) VALUES ('00000000-0000-0000-0000-0000000000f1', 'frank@hosp-a.example', 'Frank');
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
VALUES (:A, '00000000-0000-0000-0000-0000000000f1', 'USER'), (:B, '00000000-0000-0000-0000-0000000000f1', 'USER');
-- In A, Frank has xmod and ymod (as set_user_modules writes them); in B, xmod only.
SELECT clinres._write_modules(:A, ARRAY['00000000-0000-0000-0000-0000000000f1'::uuid], ARRAY['xmod' || E'\x1f' || 'ymod']);
SELECT clinres._write_modules(:B, ARRAY['00000000-0000-0000-0000-0000000000f1'::uuid], ARRAY['xmod']);
SELECT t.code, string_agg(m.code, ',' ORDER BY m.code) AS frank_modules
  FROM clinres.tenants t, clinres.user_modules('00000000-0000-0000-0000-0000000000f1', t.id) m
 WHERE t.id IN (:A, :B) GROUP BY t.code ORDER BY t.code;
-- B stops subscribing aia, both modules go in one statement, then B subscribes aia again.
DELETE FROM clinres.tenant_modules WHERE tenant_id = :B AND module_code = 'aia';
DELETE FROM clinres.modules WHERE code IN ('xmod', 'ymod');
INSERT INTO clinres.tenant_modules (tenant_id, module_code) VALUES (:B, 'aia');
SELECT t.code, (SELECT count(*) FROM clinres.user_modules('00000000-0000-0000-0000-0000000000f1', t.id)) AS frank_modules,
       (SELECT bool_and(NOT um.is_enabled) FROM clinres.user_modules um
         WHERE um.user_id = '00000000-0000-0000-0000-0000000000f1' AND um.tenant_id = t.id) AS only_disabled_rows
  FROM clinres.tenants t WHERE t.id IN (:A, :B) ORDER BY t.code;
DELETE FROM clinres.users WHERE id = '00000000-0000-0000-0000-0000000000f1';
