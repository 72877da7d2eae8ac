-- clinres 0.1.0 -> 0.2.0. Run by ALTER EXTENSION clinres UPDATE TO '0.2.0'.
-- After it, the database equals a fresh CREATE EXTENSION clinres VERSION '0.2.0'
-- (test/client/upgrade.sh compares the two). Sections follow config/sql-parts.txt.
\echo Use "ALTER EXTENSION clinres UPDATE TO '0.2.0'" to load this file. \quit

-- catalog
-- The role an application is granted (GRANT clinres_app TO app_role): EXECUTE on exactly the
-- functions an application calls. Roles belong to the cluster, so another database's
-- CREATE EXTENSION may have made it already; DROP EXTENSION leaves it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'clinres_app') THEN
        CREATE ROLE clinres_app NOLOGIN;
    END IF;
END
$$;


-- seeds: one flag marks the rows CREATE EXTENSION made (pg_dump skips them)
ALTER TABLE clinres.tenants ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.modules ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.tenant_modules ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.roles ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.permissions ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.role_permissions ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.module_schemas ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.schema_plan_defaults ADD COLUMN builtin boolean NOT NULL DEFAULT false;
UPDATE clinres.tenants SET builtin = true WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000001';
UPDATE clinres.modules SET builtin = true WHERE code OPERATOR(pg_catalog.=) ANY ('{asl,aia,pkb,dc,rvw,admin,ssa,st}');
UPDATE clinres.tenant_modules SET builtin = true
 WHERE tenant_id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000001'
   AND module_code OPERATOR(pg_catalog.=) ANY ('{asl,aia,pkb,dc,rvw,admin,ssa,st}');
UPDATE clinres.roles SET builtin = true WHERE code OPERATOR(pg_catalog.=) ANY ('{SUPER_ADMIN,TENANT_ADMIN,USER}');
UPDATE clinres.permissions SET builtin = true
 WHERE code OPERATOR(pg_catalog.=) ANY ('{user:view,user:create,user:edit,user:delete}');
UPDATE clinres.role_permissions SET builtin = true
 WHERE role_code OPERATOR(pg_catalog.=) ANY ('{SUPER_ADMIN,TENANT_ADMIN}')
   AND permission_code OPERATOR(pg_catalog.=) ANY ('{user:view,user:create,user:edit,user:delete}');
UPDATE clinres.module_schemas SET builtin = true
 WHERE schema_name OPERATOR(pg_catalog.=) ANY ('{platform_schema,common_schema,asl_schema,aia_schema,pkb_schema,dc_schema,rvw_schema,admin_schema,ssa_schema,st_schema}');
UPDATE clinres.schema_plan_defaults SET builtin = true
 WHERE table_name OPERATOR(pg_catalog.=) ANY ('{users,projects,conversations,messages,general_conversations,general_messages,knowledge_bases,documents}');
SELECT pg_catalog.pg_extension_config_dump('clinres.tenants', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.modules', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.tenant_modules', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.roles', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.permissions', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.role_permissions', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.module_schemas', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.schema_plan_defaults', 'WHERE NOT builtin');

-- access cache
-- ALTER TABLE ... ENABLE TRIGGER ALL (what pg_restore --disable-triggers emits after its
-- DISABLE TRIGGER ALL) leaves the invalidation triggers firing on origin only, so changes
-- made under session_replication_role = replica would reach no session: put ALWAYS back.
CREATE FUNCTION clinres._access_cache_keep_always() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl pg_catalog.regclass;
BEGIN
    FOR tbl IN
        SELECT DISTINCT tg.tgrelid::pg_catalog.regclass
          FROM pg_catalog.pg_event_trigger_ddl_commands() c
          JOIN pg_catalog.pg_trigger tg ON tg.tgrelid OPERATOR(pg_catalog.=) c.objid
         WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND tg.tgfoid OPERATOR(pg_catalog.=) 'clinres.access_cache_invalidate()'::pg_catalog.regprocedure
           AND tg.tgenabled OPERATOR(pg_catalog.<>) 'A' AND tg.tgenabled OPERATOR(pg_catalog.<>) 'D'
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER access_cache_invalidate', tbl);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION clinres._access_cache_keep_always() FROM PUBLIC;
COMMENT ON FUNCTION clinres._access_cache_keep_always() IS
    'event trigger: keeps the access cache''s invalidation triggers ENABLE ALWAYS after ALTER TABLE';
CREATE EVENT TRIGGER clinres_access_cache_keep_always ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION clinres._access_cache_keep_always();
-- Also under session_replication_role = replica, where pg_restore may run.
ALTER EVENT TRIGGER clinres_access_cache_keep_always ENABLE ALWAYS;
