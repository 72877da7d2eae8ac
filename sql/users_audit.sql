-- User management audit: every mutation writes admin_logs in its own transaction (actor, tenant,
-- action, target, fields before and after, never a password or hash); a failed call writes
-- nothing; admin_logs is append-only for every role but its owner; list_admin_logs pages it.
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
TRUNCATE clinres.admin_logs;
SET clinres.bcrypt_cost = 4;

SELECT clinres.set_context(:alice, :A, false);
SELECT clinres.create_user('dave@hosp-a.example', '张大伟', 'secret-dave-1', NULL, 'USER', ARRAY['aia']) AS dave \gset
SELECT clinres.update_user(:'dave', '{"name": "张伟", "phone": "+86 137 0000 0009"}') IS NOT NULL;
SELECT clinres.update_user(:'dave', '{"name": "张伟"}') IS NOT NULL AS unchanged_writes_nothing;
SELECT clinres.set_user_modules(:'dave', :A, ARRAY['aia', 'asl']) IS NOT NULL;
SELECT clinres.set_user_modules(:'dave', :A, NULL) IS NOT NULL;
SELECT clinres.set_tenant_role(:'dave', :A, 'TENANT_ADMIN') IS NOT NULL;
SELECT clinres.set_user_status(:'dave', 'disabled', :A) IS NOT NULL;
SELECT clinres.set_user_status(:'dave', 'disabled') IS NOT NULL;
SELECT clinres.reset_password(:'dave', 'secret-dave-2') IS NULL;
SELECT clinres.reset_password(:'dave') AS generated \gset
-- Refused and failing calls write nothing.
SELECT pg_temp.try($$SELECT clinres.create_user('alice@hosp-a.example', 'dup', 'secret-dup-1')$$);
SELECT pg_temp.try($$SELECT clinres.set_tenant_role('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', 'USER')$$);
SELECT clinres.set_context(:erin, NULL, false);
SELECT clinres.assign_tenant(:'dave', :B, 'USER', ARRAY['aia']) IS NOT NULL;
SELECT clinres.remove_tenant(:'dave', :B) IS NOT NULL;
SELECT clinres.delete_user(:'dave', :A) IS NOT NULL;
SELECT clinres.delete_user(:'dave', everywhere => true) IS NOT NULL;

-- One row per change, in order, naming actor, tenant, action, target and the fields before and after.
SELECT a.email AS actor, t.code AS tenant, l.action, l.target = :'dave' AS target_is_dave, l.detail
  FROM clinres.admin_logs l LEFT JOIN clinres.tenants t ON t.id = l.tenant_id
  LEFT JOIN clinres.users a ON a.id = l.actor_id ORDER BY l.id;
-- No password, hash or bcrypt prefix anywhere in the audit.
SELECT count(*) AS leaks FROM clinres.admin_logs
 WHERE detail::text ~ '\$2[abxy]\$|password_hash|secret-dave|secret-dup' OR detail::text LIKE '%' || :'generated' || '%';

-- list_admin_logs: newest first, paged, tenant-isolated, validated.
SELECT clinres.set_context(:alice, :A, false);
SELECT action, total_count FROM clinres.list_admin_logs(page_size => 3);
SELECT action, total_count FROM clinres.list_admin_logs(page => 3, page_size => 3);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_admin_logs('b0000000-0000-0000-0000-00000000000b')$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_admin_logs(page => 0)$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_admin_logs(page_size => 101)$$);
SELECT clinres.set_context(:bob, :A, false);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_admin_logs()$$);
SELECT clinres.set_context(:erin, NULL, false);
SELECT count(*) AS every_tenant, max(total_count) FROM clinres.list_admin_logs(page_size => 100);
SELECT DISTINCT total_count AS only_b FROM clinres.list_admin_logs(:B);

-- Append-only: a role holding UPDATE, DELETE and TRUNCATE on the table is still refused; the owner is not.
CREATE ROLE clinres_regress_auditor;
GRANT USAGE ON SCHEMA clinres TO clinres_regress_auditor;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON clinres.admin_logs TO clinres_regress_auditor;
SET ROLE clinres_regress_auditor;
SELECT pg_temp.try($$UPDATE clinres.admin_logs SET detail = '{}' RETURNING 1$$);
SELECT pg_temp.try($$DELETE FROM clinres.admin_logs RETURNING 1$$);
SELECT pg_temp.try($$TRUNCATE clinres.admin_logs$$);
SELECT pg_temp.try($$INSERT INTO clinres.admin_logs (action) VALUES ('note') RETURNING 1$$);
RESET ROLE;
-- A superuser who is not the owner is refused too, also with triggers in replica mode.
CREATE ROLE clinres_regress_root SUPERUSER;
SET ROLE clinres_regress_root;
SET session_replication_role = replica;
SELECT pg_temp.try($$DELETE FROM clinres.admin_logs RETURNING 1$$);
RESET session_replication_role;
RESET ROLE;
DROP ROLE clinres_regress_root;
SELECT count(*) FROM clinres.admin_logs;
DELETE FROM clinres.admin_logs WHERE action = 'note';
REVOKE ALL ON clinres.admin_logs FROM clinres_regress_auditor;
REVOKE ALL ON SCHEMA clinres FROM clinres_regress_auditor;
DROP ROLE clinres_regress_auditor;

-- Where account changes are audited (finding 4): in every tenant of the user, by update_user and
-- by an import's update alike, never under the context tenant; a context tenant the actor does not
-- hold is refused before anything is written.
INSERT INTO clinres.users (id, email, name) VALUES ('00000000-0000-0000-0000-0000000000f6', 'jack@both.example', 'Jack');
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES (:A, '00000000-0000-0000-0000-0000000000f6', 'USER'),
                                                                        (:B, '00000000-0000-0000-0000-0000000000f6', 'USER');
SELECT clinres.set_context(:erin, :A, false);
SELECT clinres.update_user('00000000-0000-0000-0000-0000000000f6', '{"name": "Jack Renamed"}') ->> 'name' AS renamed;
SELECT row_no, action FROM clinres.import_users(convert_to(E'email,name,phone\njack@both.example,Jack Again,+86 139 1111 2222\n', 'UTF8'),
                                                on_existing => 'update');
SELECT t.code AS tenant, l.action, l.detail -> 'after' AS after
  FROM clinres.admin_logs l LEFT JOIN clinres.tenants t ON t.id = l.tenant_id
 WHERE l.target = '00000000-0000-0000-0000-0000000000f6' ORDER BY l.id, t.code;
-- A platform role given by an import's update is the account's too: logged in every tenant of
-- the user (B sees Jack become SUPER_ADMIN), as set_tenant_role logs it; the tenant role stays A's.
SELECT count(*) AS audit_before FROM clinres.admin_logs \gset
SELECT row_no, action FROM clinres.import_users(convert_to(E'email,name,role\njack@both.example,Jack Again,SUPER_ADMIN\n', 'UTF8'),
                                                on_existing => 'update');
SELECT t.code AS tenant, l.action, l.detail
  FROM clinres.admin_logs l LEFT JOIN clinres.tenants t ON t.id = l.tenant_id
 WHERE l.id > (SELECT max(id) FROM clinres.admin_logs) - (SELECT count(*) - :audit_before FROM clinres.admin_logs) ORDER BY l.id, t.code;
UPDATE clinres.users SET platform_role = NULL WHERE id = '00000000-0000-0000-0000-0000000000f6';
SELECT clinres.set_context(:alice, :B, false);
SELECT count(*) AS audit_before FROM clinres.admin_logs \gset
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '{"name": "Bobby"}')$$);
SELECT count(*) = :audit_before AS nothing_written FROM clinres.admin_logs;
RESET clinres.bcrypt_cost;
SELECT clinres.set_context(NULL, NULL, false);
