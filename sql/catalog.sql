-- The catalog and its seeds, as docs/reference.md describes them.
\pset null '(null)'
SELECT extname, extversion, n.nspname AS schema, extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'clinres';
SELECT c.relname, c.relkind FROM pg_class c
 WHERE c.relnamespace = 'clinres'::regnamespace AND c.relkind = 'r' ORDER BY 1;
SELECT code, name, status FROM clinres.tenants ORDER BY code;
SELECT code, name, schema_name, sort_order, route, is_active FROM clinres.modules ORDER BY sort_order;
SELECT t.code, count(*) AS modules, bool_and(tm.is_enabled) AS all_enabled, count(tm.expires_at) AS expiring
  FROM clinres.tenant_modules tm JOIN clinres.tenants t ON t.id = tm.tenant_id GROUP BY t.code;
SELECT code, scope FROM clinres.roles ORDER BY code;
SELECT code FROM clinres.permissions ORDER BY code;
SELECT role_code, string_agg(permission_code, ', ' ORDER BY permission_code) AS permissions
  FROM clinres.role_permissions GROUP BY role_code ORDER BY 1;
-- user_modules keeps the platform's unique constraint, and every key of a
-- tenant-scoped table includes tenant_id.
SELECT conrelid::regclass AS tbl, conname, contype, pg_get_constraintdef(oid) AS def
  FROM pg_constraint
 WHERE conrelid IN ('clinres.user_modules'::regclass, 'clinres.user_tenants'::regclass, 'clinres.tenant_modules'::regclass)
   AND contype IN ('p', 'u') ORDER BY 1, 2;
-- pgcrypto is a declared requirement; since 0.2.0 pg_trgm too (user search).
SELECT version, requires FROM pg_available_extension_versions WHERE name = 'clinres' ORDER BY version;

\i test/fixtures/sample.sql
-- Constraints refuse bad rows.
\set VERBOSITY terse
INSERT INTO clinres.users (email, name) VALUES ('ALICE@hosp-a.example', 'dup');
INSERT INTO clinres.users (email, name, phone) VALUES ('x@y.example', 'x', '+86 138 0000 0001');
INSERT INTO clinres.users (email, name, platform_role) VALUES ('x@y.example', 'x', 'TENANT_ADMIN');
INSERT INTO clinres.users (email, name, password_hash) VALUES ('x@y.example', 'x', 'plaintext');
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
VALUES ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000c0', 'SUPER_ADMIN');
INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
VALUES ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000b0', 'aia', false);
INSERT INTO clinres.modules (code, name, schema_name, route) VALUES ('AIA2', 'x', 'x', '/x');
INSERT INTO clinres.tenants (code, name, status) VALUES ('T', 't', 'archived');
\set VERBOSITY default
-- Passwords are bcrypt hashes made with pgcrypto.
SELECT email, password_hash = crypt('alice-pw', password_hash) AS alice_pw_ok
  FROM clinres.users WHERE password_hash IS NOT NULL ORDER BY email;
