
-- Module access (docs/reference.md). The C functions read the catalog as its owner,
-- so callers need EXECUTE only, never privileges on the tables.
CREATE FUNCTION clinres.has_module(user_id uuid, tenant_id uuid, module_code text) RETURNS boolean
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_has_module';
COMMENT ON FUNCTION clinres.has_module(uuid, uuid, text) IS
    'true when the user may use the module in the tenant (active user, tenant and module; SUPER_ADMIN, or active member of a subscribing tenant whose own module configuration allows it)';

CREATE FUNCTION clinres.user_modules(user_id uuid, tenant_id uuid)
    RETURNS TABLE (code text, name text, route text, sort_order int, schema_name name)
    LANGUAGE c STRICT STABLE PARALLEL SAFE ROWS 8 AS 'MODULE_PATHNAME', 'clinres_user_modules';
COMMENT ON FUNCTION clinres.user_modules(uuid, uuid) IS 'the modules has_module allows, in navigation order';

CREATE FUNCTION clinres.require_module(user_id uuid, tenant_id uuid, module_code text) RETURNS void
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_require_module';
COMMENT ON FUNCTION clinres.require_module(uuid, uuid, text) IS 'raises insufficient_privilege (42501) unless has_module';

CREATE FUNCTION clinres.has_permission(user_id uuid, tenant_id uuid, permission_code text) RETURNS boolean
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_has_permission';
COMMENT ON FUNCTION clinres.has_permission(uuid, uuid, text) IS
    'true when the user''s platform role, or its role as an active member of the tenant, holds the permission (active user and tenant only)';

CREATE FUNCTION clinres.landing_module(user_id uuid, tenant_id uuid) RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_landing_module';
COMMENT ON FUNCTION clinres.landing_module(uuid, uuid) IS 'the first module in navigation order the user may open, or NULL';

CREATE FUNCTION clinres._module_code(module_code text) RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_module_code';
COMMENT ON FUNCTION clinres._module_code(text) IS 'the canonical spelling of a module code; 22023 if unknown';

CREATE FUNCTION clinres.session_profile(user_id uuid, tenant_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'user', jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name, 'phone', u.phone,
                                   'status', u.status, 'platform_role', u.platform_role),
        'tenant', jsonb_build_object('id', t.id, 'code', t.code, 'name', t.name, 'status', t.status),
        'role', CASE WHEN ut.status = 'active' THEN ut.role_code END,
        'permissions', coalesce((SELECT jsonb_agg(p.code ORDER BY p.code) FROM clinres.permissions p
                                  WHERE clinres.has_permission(u.id, t.id, p.code)), '[]'),
        'modules', coalesce((SELECT jsonb_agg(m.code ORDER BY m.sort_order, m.code)
                               FROM clinres.user_modules(u.id, t.id) m), '[]'),
        'landing', clinres.landing_module(u.id, t.id))
      FROM clinres.users u
     CROSS JOIN clinres.tenants t
      LEFT JOIN clinres.user_tenants ut ON ut.user_id = u.id AND ut.tenant_id = t.id
     WHERE u.id = $1 AND t.id = $2
$$;
COMMENT ON FUNCTION clinres.session_profile(uuid, uuid) IS
    'what a login endpoint returns: user (no password hash), tenant, role, permissions, modules, landing; NULL for an unknown user or tenant';

-- Session context. No SET clause on set_context: it would undo the set_config.
CREATE FUNCTION clinres.set_context(user_id uuid, tenant_id uuid, is_local boolean DEFAULT true) RETURNS void
    LANGUAGE sql VOLATILE
AS $$
    SELECT pg_catalog.set_config('clinres.user_id', coalesce($1::pg_catalog.text, ''), coalesce($3, true)),
           pg_catalog.set_config('clinres.tenant_id', coalesce($2::pg_catalog.text, ''), coalesce($3, true));
$$;
COMMENT ON FUNCTION clinres.set_context(uuid, uuid, boolean) IS
    'sets the context user and tenant for this transaction (is_local, the default: safe under transaction pooling) or session';

CREATE FUNCTION clinres.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_current_user_id';
CREATE FUNCTION clinres.current_tenant_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_current_tenant_id';

CREATE FUNCTION clinres.tenants_with_module(module_code text) RETURNS SETOF uuid
    LANGUAGE c STRICT STABLE PARALLEL SAFE ROWS 10 AS 'MODULE_PATHNAME', 'clinres_tenants_with_module';
COMMENT ON FUNCTION clinres.tenants_with_module(text) IS
    'tenants in which the context user has the module; for policies of the form tenant_id IN (SELECT clinres.tenants_with_module(...))';

-- Row-level security: runs as the caller, who must own tbl.
CREATE FUNCTION clinres.enable_module_rls(tbl regclass, module_code text, tenant_column name DEFAULT 'tenant_id')
    RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text := clinres._module_code(module_code);
    column_type oid;
BEGIN
    SELECT a.atttypid INTO column_type FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = tenant_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', tenant_column, tbl
            USING ERRCODE = 'undefined_column', HINT = 'Pass the tenant column as the third argument.';
    END IF;
    IF column_type <> 'uuid'::regtype THEN
        RAISE EXCEPTION 'column "%" of relation % has type %, not uuid', tenant_column, tbl, column_type::regtype
            USING ERRCODE = 'datatype_mismatch';
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    IF EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = tbl AND p.polname = 'clinres_module_' || code) THEN
        EXECUTE format('DROP POLICY %I ON %s', 'clinres_module_' || code, tbl);
    END IF;
    -- The row's tenant must be the context tenant, so the module check needs no row
    -- data: written as initPlans it runs once per query, not once per row (see
    -- docs/benchmarks.md for the forms measured).
    EXECUTE format('CREATE POLICY %I ON %s USING (%I OPERATOR(pg_catalog.=) (SELECT clinres.current_tenant_id())'
                   ' AND (SELECT clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), %L)))',
                   'clinres_module_' || code, tbl, tenant_column, code);
END
$$;
COMMENT ON FUNCTION clinres.enable_module_rls(regclass, text, name) IS
    'enables row-level security on tbl: a row is visible when its tenant is the context tenant and the context user has the module';

-- The access cache and what keeps it fresh.
CREATE FUNCTION clinres.access_cache_stats(
        OUT hits bigint, OUT misses bigint, OUT invalidations bigint, OUT evictions bigint,
        OUT entries bigint, OUT bytes bigint, OUT capacity bigint)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_access_cache_stats';
COMMENT ON FUNCTION clinres.access_cache_stats() IS 'this session''s access cache: hits, misses, invalidations, evictions, entries, approximate bytes, capacity';

CREATE FUNCTION clinres.access_cache_invalidate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'clinres_access_cache_invalidate';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'modules', 'tenant_modules', 'users', 'roles', 'permissions',
                             'role_permissions', 'user_tenants', 'user_modules'] LOOP
        EXECUTE format('CREATE TRIGGER access_cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE'
                       ' ON clinres.%I FOR EACH STATEMENT EXECUTE FUNCTION clinres.access_cache_invalidate()', t);
        -- Fire under session_replication_role = replica too (pg_restore, logical replication).
        EXECUTE format('ALTER TABLE clinres.%I ENABLE ALWAYS TRIGGER access_cache_invalidate', t);
    END LOOP;
END
$$;

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
