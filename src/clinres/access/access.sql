
-- Module access (docs/reference.md). The C functions read the catalog as its owner,
-- so callers need EXECUTE only, never privileges on the tables.
CREATE OR REPLACE FUNCTION clinres.has_module(user_id uuid, tenant_id uuid, module_code text) RETURNS boolean
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_has_module';
COMMENT ON FUNCTION clinres.has_module(uuid, uuid, text) IS
    'true when the user may use the module in the tenant (active user, tenant and module; SUPER_ADMIN, or active member of a subscribing tenant whose own module configuration allows it)';

CREATE OR REPLACE FUNCTION clinres.user_modules(user_id uuid, tenant_id uuid)
    RETURNS TABLE (code text, name text, route text, sort_order int, schema_name name)
    LANGUAGE c STRICT STABLE PARALLEL SAFE ROWS 8 AS 'MODULE_PATHNAME', 'clinres_user_modules';
COMMENT ON FUNCTION clinres.user_modules(uuid, uuid) IS 'the modules has_module allows, in navigation order';

CREATE OR REPLACE FUNCTION clinres.require_module(user_id uuid, tenant_id uuid, module_code text) RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_require_module';
COMMENT ON FUNCTION clinres.require_module(uuid, uuid, text) IS
    'true, or raises insufficient_privilege (42501) with the denial marker (schema clinres, table module) unless has_module';

CREATE OR REPLACE FUNCTION clinres.has_permission(user_id uuid, tenant_id uuid, permission_code text) RETURNS boolean
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_has_permission';
COMMENT ON FUNCTION clinres.has_permission(uuid, uuid, text) IS
    'true when the user''s platform role, or its role as an active member of the tenant, holds the permission (active user and tenant only)';

CREATE OR REPLACE FUNCTION clinres.landing_module(user_id uuid, tenant_id uuid) RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_landing_module';
COMMENT ON FUNCTION clinres.landing_module(uuid, uuid) IS 'the first module in navigation order the user may open, or NULL';

CREATE OR REPLACE FUNCTION clinres._module_code(module_code text) RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_module_code';
COMMENT ON FUNCTION clinres._module_code(text) IS 'the canonical spelling of a module code; 22023 if unknown';


CREATE OR REPLACE FUNCTION clinres.tenants_with_module(module_code text) RETURNS SETOF uuid
    LANGUAGE c STRICT STABLE PARALLEL RESTRICTED ROWS 10 AS 'MODULE_PATHNAME', 'clinres_tenants_with_module';
COMMENT ON FUNCTION clinres.tenants_with_module(text) IS
    'tenants in which the context user has the module; for policies of the form tenant_id IN (SELECT clinres.tenants_with_module(...))';

-- The name of the policy enable_module_rls makes for a module: clinres_module_<code>, or,
-- when that would pass the 63 bytes of a name, its first 54 bytes and a hash of the code.
CREATE OR REPLACE FUNCTION clinres._module_policy_name(module_code text) RETURNS name
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN pg_catalog.octet_length('clinres_module_' || $1) <= 63
                THEN 'clinres_module_' || $1
                ELSE pg_catalog.left('clinres_module_' || $1, 54) || '_' || pg_catalog.left(pg_catalog.md5($1), 8)
           END::name
$$;
COMMENT ON FUNCTION clinres._module_policy_name(text) IS
    'the policy name enable_module_rls uses for a module (codes past 48 characters get a hash suffix)';

-- Row-level security: runs as the caller, who must own tbl and each of its partitions.
CREATE OR REPLACE FUNCTION clinres.enable_module_rls(tbl regclass, module_code text, tenant_column name DEFAULT 'tenant_id')
    RETURNS name LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text := clinres._module_code(module_code);
    policy name := clinres._module_policy_name(code);
    column_type oid;
    rel regclass;
    citus_form boolean := false;
BEGIN
    SELECT a.atttypid INTO column_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = tenant_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', tenant_column, tbl
            USING ERRCODE = 'undefined_column', HINT = 'Pass the tenant column as the third argument.';
    END IF;
    IF column_type <> 'pg_catalog.uuid'::pg_catalog.regtype THEN
        RAISE EXCEPTION 'column "%" of relation % has type %, not uuid', tenant_column, tbl, column_type::pg_catalog.regtype
            USING ERRCODE = 'datatype_mismatch';
    END IF;
    -- Citus refuses subqueries in policies on distributed tables: once the table or the
    -- catalog is distributed, the same rule per row (docs/scale-out.md).
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        citus_form := EXISTS (SELECT FROM pg_catalog.pg_dist_partition d
                               WHERE d.logicalrelid = ANY (ARRAY[tbl, 'clinres.modules'::pg_catalog.regclass]));
    END IF;
    -- A partition read directly is not checked against its parent's policies: every
    -- partition, at every level, gets the same policy. Partitions attached later do
    -- not; call enable_module_rls again on the parent after attaching one.
    FOR rel IN SELECT tbl UNION ALL
               (SELECT pt.relid FROM pg_catalog.pg_partition_tree(tbl) pt WHERE pt.level > 0
                 ORDER BY pt.level, pt.relid::pg_catalog.text) LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel);
        IF EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = rel AND p.polname = policy) THEN
            EXECUTE pg_catalog.format('DROP POLICY %I ON %s', policy, rel);
        END IF;
        IF citus_form THEN
            EXECUTE pg_catalog.format('CREATE POLICY %I ON %s USING (%I = clinres.current_tenant_id()'
                                      ' AND clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), %L))',
                                      policy, rel, tenant_column, code);
            CONTINUE;
        END IF;
        -- The row's tenant must be the context tenant, so the module check needs no row
        -- data: written as initPlans it runs once per query, not once per row (see
        -- docs/benchmarks.md for the forms measured).
        EXECUTE pg_catalog.format('CREATE POLICY %I ON %s USING (%I = (SELECT clinres.current_tenant_id())'
                                  ' AND (SELECT clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), %L)))',
                                  policy, rel, tenant_column, code);
    END LOOP;
    RETURN policy;
END
$$;
COMMENT ON FUNCTION clinres.enable_module_rls(regclass, text, name) IS
    'enables row-level security on tbl and each of its partitions: a row is visible when its tenant is the context tenant and the context user has the module; returns the policy''s name';

-- The access cache and what keeps it fresh.
CREATE OR REPLACE FUNCTION clinres.access_cache_stats(
        OUT hits bigint, OUT misses bigint, OUT invalidations bigint, OUT evictions bigint,
        OUT entries bigint, OUT bytes bigint, OUT capacity bigint,
        OUT shared_hits bigint, OUT shared_entries bigint, OUT shared_bytes bigint)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_access_cache_stats';
COMMENT ON FUNCTION clinres.access_cache_stats() IS 'this session''s access cache: hits, misses, invalidations, evictions, entries, approximate bytes, capacity; the server''s shared table (clinres preloaded): this session''s hits in it, its filled slots and bytes';

CREATE OR REPLACE FUNCTION clinres.access_cache_invalidate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'clinres_access_cache_invalidate';

-- The doorbells: relations no query plan references, whose relcache invalidations tell every
-- session what to drop from its access cache (cache.cpp). Ringing a catalog table instead would
-- make every cached plan over it (foreign-key checks included) be planned again after each
-- written row.
CREATE SEQUENCE clinres.access_doorbell_globals;
CREATE SEQUENCE clinres.access_doorbell_users;
CREATE SEQUENCE clinres.access_doorbell_tenants;
CREATE SEQUENCE clinres.access_doorbell_log;
COMMENT ON SEQUENCE clinres.access_doorbell_globals IS 'rung (relcache invalidation, never used as a sequence) when modules, roles or permissions change';
COMMENT ON SEQUENCE clinres.access_doorbell_users IS 'rung when users change and the shared change log is not available';
COMMENT ON SEQUENCE clinres.access_doorbell_tenants IS 'rung when tenants change and the shared change log is not available';
COMMENT ON SEQUENCE clinres.access_doorbell_log IS 'rung when the shared change log names the users and tenants that changed';
REVOKE ALL ON SEQUENCE clinres.access_doorbell_globals, clinres.access_doorbell_users, clinres.access_doorbell_tenants,
    clinres.access_doorbell_log FROM PUBLIC;

-- Modules, roles and permissions decide every answer: any change drops everything.
-- A row of a user's or a tenant's tables drops that user or tenant (on users, tenants and
-- user_tenants only when a column that decides access changed: logins, profile edits,
-- counters and the search copies on memberships ring nothing); TRUNCATE drops every user or every tenant. All fire ALWAYS,
-- so that changes under session_replication_role = replica (pg_restore, logical
-- replication) are seen too.
DO $$
DECLARE
    t text;
    r record;
BEGIN
    FOREACH t IN ARRAY ARRAY['modules', 'roles', 'permissions', 'role_permissions'] LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER access_cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE'
                                  ' ON clinres.%I FOR EACH STATEMENT'
                                  ' EXECUTE FUNCTION clinres.access_cache_invalidate(''globals'')', t);
    END LOOP;
    FOR r IN SELECT * FROM (VALUES ('users', 'user', 'id', 'OR OLD.platform_role IS DISTINCT FROM NEW.platform_role'),
                                   ('user_tenants', 'user', 'user_id',
                                    'OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.role_code IS DISTINCT FROM NEW.role_code'),
                                   ('user_modules', 'user', 'user_id', NULL),
                                   ('tenants', 'tenant', 'id', ''),
                                   ('tenant_modules', 'tenant', 'tenant_id', NULL)) v(tbl, kind, col, decisive) LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER access_cache_invalidate AFTER TRUNCATE ON clinres.%I'
                                  ' FOR EACH STATEMENT EXECUTE FUNCTION clinres.access_cache_invalidate(%L)', r.tbl, r.kind);
        EXECUTE pg_catalog.format('CREATE TRIGGER access_cache_invalidate_rows AFTER INSERT OR DELETE%s ON clinres.%I'
                                  ' FOR EACH ROW EXECUTE FUNCTION clinres.access_cache_invalidate(%L, %L)',
                                  CASE WHEN r.decisive IS NULL THEN ' OR UPDATE' ELSE '' END, r.tbl, r.kind, r.col);
        IF r.decisive IS NOT NULL THEN
            EXECUTE pg_catalog.format('CREATE TRIGGER access_cache_invalidate_update AFTER UPDATE ON clinres.%I FOR EACH ROW'
                                      ' WHEN (OLD.%I IS DISTINCT FROM NEW.%I OR OLD.status IS DISTINCT FROM NEW.status %s)'
                                      ' EXECUTE FUNCTION clinres.access_cache_invalidate(%L, %L)',
                                      r.tbl, CASE r.tbl WHEN 'user_tenants' THEN 'tenant_id' ELSE 'id' END,
                                      CASE r.tbl WHEN 'user_tenants' THEN 'tenant_id' ELSE 'id' END, r.decisive, r.kind, r.col);
        END IF;
    END LOOP;
    FOR r IN SELECT tg.tgname, tg.tgrelid::pg_catalog.regclass AS tbl FROM pg_catalog.pg_trigger tg
              WHERE tg.tgfoid OPERATOR(pg_catalog.=) 'clinres.access_cache_invalidate()'::pg_catalog.regprocedure LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', r.tbl, r.tgname);
    END LOOP;
END
$$;

-- ALTER TABLE ... ENABLE TRIGGER ALL (what pg_restore --disable-triggers emits after its
-- DISABLE TRIGGER ALL) leaves the invalidation triggers firing on origin only, so changes
-- made under session_replication_role = replica would reach no session: put ALWAYS back.
CREATE OR REPLACE FUNCTION clinres._access_cache_keep_always() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT tg.tgrelid::pg_catalog.regclass AS tbl, tg.tgname
          FROM pg_catalog.pg_event_trigger_ddl_commands() c
          JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = c.objid
         WHERE c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
           AND tg.tgfoid = 'clinres.access_cache_invalidate()'::pg_catalog.regprocedure
           AND tg.tgenabled <> 'A' AND tg.tgenabled <> 'D'
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', r.tbl, r.tgname);
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

-- Privileges: nothing for PUBLIC. An application's role is granted clinres_app, which may
-- call what an application needs; so must any role that reads a table protected by
-- enable_module_rls (its policy calls has_module, current_user_id and current_tenant_id as
-- the querying role; without EXECUTE the query fails rather than showing rows). The roles
-- that set up RLS need EXECUTE on enable_module_rls and its helpers, granted explicitly.
REVOKE ALL ON FUNCTION clinres.has_module(uuid, uuid, text), clinres.user_modules(uuid, uuid),
    clinres.require_module(uuid, uuid, text), clinres.has_permission(uuid, uuid, text),
    clinres.landing_module(uuid, uuid), clinres._module_code(text),
    clinres.tenants_with_module(text), clinres._module_policy_name(text),
    clinres.enable_module_rls(regclass, text, name), clinres.access_cache_stats(),
    clinres.access_cache_invalidate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.has_module(uuid, uuid, text), clinres.user_modules(uuid, uuid),
    clinres.require_module(uuid, uuid, text), clinres.has_permission(uuid, uuid, text),
    clinres.landing_module(uuid, uuid),
    clinres.tenants_with_module(text), clinres.access_cache_stats() TO clinres_app;
