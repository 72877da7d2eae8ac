-- The session context (docs/sessions.md): who is asking, in which tenant, for this transaction
-- or session, and the profile a login returns. Its C entry points are session/functions.cpp, its
-- logic session/context.cpp. Installed right after access.sql (config/sql-parts.txt): the
-- user-management parts call these functions.

-- SECURITY DEFINER (it reads the catalog for a caller with no table privileges), so it
-- answers only for the context user, or an actor holding user:view in the tenant (for a
-- member of it) or on the platform.
CREATE OR REPLACE FUNCTION clinres.session_profile(user_id uuid, tenant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres.current_user_id();
BEGIN
    IF actor IS NULL OR NOT clinres._allowed(actor, 'profile', session_profile.tenant_id, session_profile.user_id) THEN
        RAISE EXCEPTION 'permission denied to read the profile of user %', session_profile.user_id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only the context user, or a context user holding user:view in the tenant, may read a profile.',
                  HINT = 'Call clinres.set_context(user_id, tenant_id) first.';
    END IF;
    RETURN (
    SELECT pg_catalog.jsonb_build_object(
        'user', pg_catalog.jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name, 'phone', u.phone,
                                              'status', u.status, 'platform_role', u.platform_role),
        'tenant', pg_catalog.jsonb_build_object('id', t.id, 'code', t.code, 'name', t.name, 'status', t.status),
        'role', CASE WHEN ut.status = 'active' THEN ut.role_code END,
        'permissions', coalesce((SELECT pg_catalog.jsonb_agg(p.code ORDER BY p.code) FROM clinres.permissions p
                                  WHERE clinres.has_permission(u.id, t.id, p.code)), '[]'),
        'modules', coalesce((SELECT pg_catalog.jsonb_agg(m.code ORDER BY m.sort_order, m.code)
                               FROM clinres.user_modules(u.id, t.id) m), '[]'),
        'landing', clinres.landing_module(u.id, t.id))
      FROM clinres.users u
     CROSS JOIN clinres.tenants t
      LEFT JOIN clinres.user_tenants ut ON ut.user_id = u.id AND ut.tenant_id = t.id
     WHERE u.id = session_profile.user_id AND t.id = session_profile.tenant_id);
END
$$;
COMMENT ON FUNCTION clinres.session_profile(uuid, uuid) IS
    'what a login endpoint returns: user (no password hash), tenant, role, permissions, modules, landing; NULL for an unknown user or tenant; only for the context user or an actor with user:view (42501)';

-- Session context. No SET clause naming clinres.user_id/tenant_id: it would confine the SET LOCAL to the call.
CREATE OR REPLACE FUNCTION clinres.set_context(user_id uuid, tenant_id uuid, is_local boolean DEFAULT true) RETURNS uuid
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_set_context';
COMMENT ON FUNCTION clinres.set_context(uuid, uuid, boolean) IS
    'sets the context user and tenant for this transaction (is_local, the default: safe under transaction pooling) or session; returns the user id';

-- PARALLEL RESTRICTED: whether the context is believed (a session-level or unsigned value
-- may not be) is decided in the leader, which knows how it was set; a parallel worker only
-- sees the values. Module policies still scan in parallel: their initPlans run in the leader.
CREATE OR REPLACE FUNCTION clinres.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'clinres_current_user_id';
CREATE OR REPLACE FUNCTION clinres.current_tenant_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'clinres_current_tenant_id';

-- Nothing for PUBLIC; an application's role (clinres_app) sets and reads the context and reads
-- the profile, and so must any role that reads a table protected by enable_module_rls.
REVOKE ALL ON FUNCTION clinres.session_profile(uuid, uuid), clinres.set_context(uuid, uuid, boolean),
    clinres.current_user_id(), clinres.current_tenant_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.session_profile(uuid, uuid), clinres.set_context(uuid, uuid, boolean),
    clinres.current_user_id(), clinres.current_tenant_id() TO clinres_app;
