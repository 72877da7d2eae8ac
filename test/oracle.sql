-- A plain-SQL implementation of the access rules (docs/reference.md), kept as the oracle that the
-- C++ functions are compared with (sql/differential.sql, test/bench). It is
-- written from the contract, not from the C++ code, and is deliberately naive.
CREATE SCHEMA IF NOT EXISTS clinres_oracle;

CREATE OR REPLACE FUNCTION clinres_oracle.has_module(p_user uuid, p_tenant uuid, p_module text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1
          FROM clinres.users u, clinres.tenants t, clinres.modules m
         WHERE u.id = p_user AND u.status = 'active'
           AND t.id = p_tenant AND t.status = 'active'
           AND m.code = lower(p_module) AND m.is_active
           AND (u.platform_role = 'SUPER_ADMIN'
                OR (EXISTS (SELECT 1 FROM clinres.user_tenants ut
                             WHERE ut.user_id = u.id AND ut.tenant_id = t.id AND ut.status = 'active'
                               AND (ut.valid_from IS NULL OR ut.valid_from <= now())
                               AND (ut.valid_until IS NULL OR ut.valid_until > now()))
                    AND EXISTS (SELECT 1 FROM clinres.tenant_modules tm
                                 WHERE tm.tenant_id = t.id AND tm.module_code = m.code AND tm.is_enabled
                                   AND (tm.expires_at IS NULL OR tm.expires_at > now()))
                    AND (NOT EXISTS (SELECT 1 FROM clinres.user_modules um
                                      WHERE um.user_id = u.id AND um.tenant_id = t.id)
                         OR EXISTS (SELECT 1 FROM clinres.user_modules um
                                     WHERE um.user_id = u.id AND um.tenant_id = t.id
                                       AND um.module_code = m.code AND um.is_enabled
                                       AND (um.valid_from IS NULL OR um.valid_from <= now())
                                       AND (um.valid_until IS NULL OR um.valid_until > now()))))))
$$;

CREATE OR REPLACE FUNCTION clinres_oracle.has_permission(p_user uuid, p_tenant uuid, p_permission text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1
          FROM clinres.users u, clinres.tenants t
         WHERE u.id = p_user AND u.status = 'active' AND t.id = p_tenant
           -- A platform role's permissions hold in every tenant, a disabled one too; a tenant
           -- role's only in an active tenant.
           AND (EXISTS (SELECT 1 FROM clinres.role_permissions rp
                         WHERE rp.role_code = u.platform_role AND rp.permission_code = lower(p_permission))
                OR (t.status = 'active'
                    AND EXISTS (SELECT 1 FROM clinres.user_tenants ut JOIN clinres.role_permissions rp ON rp.role_code = ut.role_code
                                 WHERE ut.user_id = u.id AND ut.tenant_id = t.id AND ut.status = 'active'
                                   AND (ut.valid_from IS NULL OR ut.valid_from <= now())
                                   AND (ut.valid_until IS NULL OR ut.valid_until > now())
                                   AND rp.permission_code = lower(p_permission)))))
$$;

CREATE OR REPLACE FUNCTION clinres_oracle.landing_module(p_user uuid, p_tenant uuid)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT m.code FROM clinres.modules m
     WHERE clinres_oracle.has_module(p_user, p_tenant, m.code)
     ORDER BY m.sort_order, m.code LIMIT 1
$$;

-- explain_access's reason (docs/reference.md, "Access governance"): the first of the facts, in the
-- contract's order, that decides has_module.
CREATE OR REPLACE FUNCTION clinres_oracle.access_reason(p_user uuid, p_tenant uuid, p_module text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM clinres.users u WHERE u.id = p_user AND u.status = 'active') THEN 'user_disabled'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.tenants t WHERE t.id = p_tenant AND t.status = 'active') THEN 'tenant_disabled'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.modules m WHERE m.code = lower(p_module) AND m.is_active) THEN 'module_inactive'
        WHEN EXISTS (SELECT 1 FROM clinres.users u WHERE u.id = p_user AND u.platform_role = 'SUPER_ADMIN') THEN 'super_admin'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.user_tenants ut WHERE ut.user_id = p_user AND ut.tenant_id = p_tenant) THEN 'not_member'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.user_tenants ut
                          WHERE ut.user_id = p_user AND ut.tenant_id = p_tenant AND ut.status = 'active') THEN 'membership_disabled'
        WHEN EXISTS (SELECT 1 FROM clinres.user_tenants ut
                      WHERE ut.user_id = p_user AND ut.tenant_id = p_tenant AND ut.valid_from > now()) THEN 'membership_not_yet_valid'
        WHEN EXISTS (SELECT 1 FROM clinres.user_tenants ut
                      WHERE ut.user_id = p_user AND ut.tenant_id = p_tenant AND ut.valid_until <= now()) THEN 'membership_expired'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.tenant_modules tm
                          WHERE tm.tenant_id = p_tenant AND tm.module_code = lower(p_module) AND tm.is_enabled) THEN 'not_subscribed'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.tenant_modules tm
                          WHERE tm.tenant_id = p_tenant AND tm.module_code = lower(p_module) AND tm.is_enabled
                            AND (tm.expires_at IS NULL OR tm.expires_at > now())) THEN 'subscription_expired'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.user_modules um WHERE um.user_id = p_user AND um.tenant_id = p_tenant) THEN 'inherited'
        WHEN NOT EXISTS (SELECT 1 FROM clinres.user_modules um
                          WHERE um.user_id = p_user AND um.tenant_id = p_tenant AND um.module_code = lower(p_module) AND um.is_enabled)
            THEN 'not_granted'
        WHEN EXISTS (SELECT 1 FROM clinres.user_modules um
                      WHERE um.user_id = p_user AND um.tenant_id = p_tenant AND um.module_code = lower(p_module) AND um.is_enabled
                        AND um.valid_from > now()) THEN 'grant_not_yet_valid'
        WHEN EXISTS (SELECT 1 FROM clinres.user_modules um
                      WHERE um.user_id = p_user AND um.tenant_id = p_tenant AND um.module_code = lower(p_module) AND um.is_enabled
                        AND um.valid_until <= now()) THEN 'grant_expired'
        ELSE 'granted'
    END
$$;
