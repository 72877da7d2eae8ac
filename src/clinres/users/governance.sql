
-- Access governance (docs/reference.md, "Access governance"; docs/access-desk.md).


CREATE OR REPLACE FUNCTION clinres._explain_access(user_id uuid, tenant_id uuid, module_code text,
                                                   OUT allowed boolean, OUT reason text, OUT until timestamptz)
    LANGUAGE c STRICT STABLE AS 'MODULE_PATHNAME', 'clinres_explain_access';
COMMENT ON FUNCTION clinres._explain_access(uuid, uuid, text) IS
    'has_module''s rule with the first fact that decides it, unchecked (explain_access checks who asks)';

-- SECURITY DEFINER, like every reader of the catalog; answers only for the context user itself, an
-- actor holding user:view in the tenant (about its members and former members), or on the platform.
CREATE OR REPLACE FUNCTION clinres.explain_access(user_id uuid, tenant_id uuid, module_code text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    e record;
    missing text;
BEGIN
    missing := CASE WHEN explain_access.user_id IS NULL THEN 'user_id' WHEN explain_access.tenant_id IS NULL THEN 'tenant_id'
                    WHEN explain_access.module_code IS NULL THEN 'module_code' END;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'explain_access needs a user, a tenant and a module: % is NULL', missing
            USING ERRCODE = 'invalid_parameter_value', SCHEMA = 'clinres', TABLE = 'field', COLUMN = missing;
    END IF;
    PERFORM clinres._module_code(explain_access.module_code);
    PERFORM clinres._authorize(actor, 'explain', explain_access.tenant_id, explain_access.user_id);
    e := clinres._explain_access(explain_access.user_id, explain_access.tenant_id, explain_access.module_code);
    RETURN pg_catalog.jsonb_build_object('allowed', e.allowed, 'reason', e.reason, 'until', e.until);
END
$$;
COMMENT ON FUNCTION clinres.explain_access(uuid, uuid, text) IS
    'has_module''s answer with the first fact that decides it and until when it holds; for oneself, or with user:view in the tenant';

-- A member's grant of one module as the trail records it: enabled, valid_from, valid_until (NULL: no row).
CREATE OR REPLACE FUNCTION clinres._grant_json(user_id uuid, tenant_id uuid, module_code text) RETURNS jsonb
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT pg_catalog.jsonb_build_object('module', um.module_code, 'enabled', um.is_enabled,
                                         'valid_from', um.valid_from, 'valid_until', um.valid_until)
      FROM clinres.user_modules um WHERE um.tenant_id = $2 AND um.user_id = $1 AND um.module_code = $3
$$;

-- Before a single grant changes a member that inherits every subscribed module: its inheritance
-- written out as enabled rows, so that the member keeps every other module it has now, and logged
-- as set_user_modules logs a configuration (tenant.modules, before: inherit), since the member no
-- longer inherits later subscriptions.
CREATE OR REPLACE FUNCTION clinres._configure_inherited(actor uuid, user_id uuid, tenant_id uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF clinres._module_config($2, $3) IS NOT NULL THEN
        RETURN;
    END IF;
    INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
    SELECT $3, $2, tm.module_code, true FROM clinres.tenant_modules tm
     WHERE tm.tenant_id = $3 AND tm.is_enabled AND (tm.expires_at IS NULL OR tm.expires_at > pg_catalog.now())
     ORDER BY tm.module_code;
    IF clinres._module_config($2, $3) IS NOT NULL THEN
        PERFORM clinres._log($1, $3, 'tenant.modules', $2,
                             pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('modules', NULL),
                                                           'after', pg_catalog.jsonb_build_object('modules', clinres._module_config($2, $3))));
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION clinres.grant_module(user_id uuid, tenant_id uuid, module_code text,
                                                valid_from timestamptz DEFAULT NULL, valid_until timestamptz DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
    code text := clinres._tenant_code(tenant_id);
    m text;
    old jsonb;
    new jsonb;
BEGIN
    PERFORM clinres._authorize(actor, 'modules', tenant_id, u.id);
    m := (clinres._tenant_modules(tenant_id, ARRAY[module_code]))[1];
    PERFORM clinres._check_validity(valid_from, valid_until);
    old := clinres._grant_json(u.id, tenant_id, m);
    PERFORM clinres._configure_inherited(actor, u.id, tenant_id);
    INSERT INTO clinres.user_modules AS um (tenant_id, user_id, module_code, is_enabled, valid_from, valid_until)
    VALUES (tenant_id, u.id, m, true, valid_from, valid_until)
    ON CONFLICT ON CONSTRAINT user_modules_pkey DO UPDATE
       SET is_enabled = true, valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until, updated_at = pg_catalog.now()
     WHERE (um.is_enabled, um.valid_from, um.valid_until) IS DISTINCT FROM (true, EXCLUDED.valid_from, EXCLUDED.valid_until);
    new := clinres._grant_json(u.id, tenant_id, m);
    IF old IS DISTINCT FROM new THEN
        PERFORM clinres._log(actor, tenant_id, 'tenant.module.grant', u.id,
                             pg_catalog.jsonb_build_object('module', m, 'before', old, 'after', new));
    END IF;
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.grant_module(uuid, uuid, text, timestamptz, timestamptz) IS
    'grants the member one module, from valid_from until valid_until (NULL: always); a member that inherited keeps its other modules';

CREATE OR REPLACE FUNCTION clinres.revoke_module(user_id uuid, tenant_id uuid, module_code text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
    code text := clinres._tenant_code(tenant_id);
    m text := clinres._module_code(module_code);
    old jsonb;
    new jsonb;
BEGIN
    PERFORM clinres._authorize(actor, 'modules', tenant_id, u.id);
    old := clinres._grant_json(u.id, tenant_id, m);
    -- Nothing to revoke is an error, before any write: writing out the inheritance of a member
    -- that does not have the module would change its configuration with nothing to audit.
    IF old IS NULL AND clinres._module_config(u.id, tenant_id) IS NULL THEN
        PERFORM clinres._tenant_modules(tenant_id, ARRAY[m]); -- inherited: 22023 unless subscribed
    ELSIF NOT coalesce((old ->> 'enabled')::boolean, false) THEN
        RAISE EXCEPTION 'user "%" has no grant of module "%" in tenant "%" to revoke', u.id, m, code
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'clinres.explain_access(user_id, tenant_id, module_code) tells why it has no access.';
    END IF;
    PERFORM clinres._configure_inherited(actor, u.id, tenant_id);
    UPDATE clinres.user_modules um SET is_enabled = false, valid_from = NULL, valid_until = NULL, updated_at = pg_catalog.now()
     WHERE um.tenant_id = revoke_module.tenant_id AND um.user_id = u.id AND um.module_code = m AND um.is_enabled;
    new := clinres._grant_json(u.id, tenant_id, m);
    IF old IS DISTINCT FROM new THEN
        PERFORM clinres._log(actor, tenant_id, 'tenant.module.revoke', u.id,
                             pg_catalog.jsonb_build_object('module', m, 'before', old, 'after', new));
    END IF;
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.revoke_module(uuid, uuid, text) IS
    'takes one module from the member now (audited as tenant.module.revoke; an expiry needs no call and no write); 22023 when it has none to take';

CREATE OR REPLACE FUNCTION clinres._access_review(tenant_id uuid)
    RETURNS TABLE (user_id uuid, module_code text, source text, valid_from timestamptz, valid_until timestamptz,
                   granted_by uuid, granted_at timestamptz)
    LANGUAGE c STRICT STABLE AS 'MODULE_PATHNAME', 'clinres_access_review';
COMMENT ON FUNCTION clinres._access_review(uuid) IS
    'each member of the tenant and module it may use now, with has_module''s reason and window and who gave it when (one pass over the trail), unchecked (access_review checks who asks)';

-- Who has what in a tenant, complete: one row per member and module it may use now, the source
-- (explain_access's reason), the validity, and who granted it when (the latest trail row that gave
-- it: a single grant or a module configuration naming it, else the membership's creation).
CREATE OR REPLACE FUNCTION clinres.access_review(tenant_id uuid DEFAULT NULL)
    RETURNS TABLE (user_id uuid, email text, name text, role_code text, membership_status text, module_code text,
                   source text, valid_from timestamptz, valid_until timestamptz, granted_by uuid, granted_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce(access_review.tenant_id, clinres.current_tenant_id());
BEGIN
    PERFORM clinres._tenant_code(tenant);
    PERFORM clinres._authorize(actor, 'list', tenant, NULL);
    RETURN QUERY
    WITH a AS MATERIALIZED (SELECT * FROM clinres._access_review(tenant)),
    -- The members' own fields, once per member (not once per module).
    m AS MATERIALIZED (SELECT ut.user_id, u.email, u.name, ut.role_code, ut.status
                         FROM clinres.user_tenants ut JOIN clinres.users u ON u.id = ut.user_id
                        WHERE ut.tenant_id = tenant)
    SELECT a.user_id, m.email, m.name, m.role_code, m.status, a.module_code, a.source, a.valid_from, a.valid_until,
           a.granted_by, a.granted_at
      FROM a
      JOIN m ON m.user_id = a.user_id
      JOIN clinres.modules mo ON mo.code = a.module_code
     ORDER BY m.email, mo.sort_order, mo.code;
END
$$;
COMMENT ON FUNCTION clinres.access_review(uuid) IS
    'every member of the tenant (NULL: the context tenant) and module it may use now: source, validity, who granted it when; needs user:view';

CREATE OR REPLACE FUNCTION clinres.export_access_review(tenant_id uuid DEFAULT NULL, format text DEFAULT 'xlsx') RETURNS bytea
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_export_access_review';
COMMENT ON FUNCTION clinres.export_access_review(uuid, text) IS 'access_review as an .xlsx or CSV file (timestamps in UTC); needs user:view';

REVOKE ALL ON FUNCTION clinres._explain_access(uuid, uuid, text), clinres.explain_access(uuid, uuid, text),
    clinres._access_review(uuid), clinres.access_review(uuid), clinres.export_access_review(uuid, text),
    clinres._grant_json(uuid, uuid, text), clinres._configure_inherited(uuid, uuid, uuid),
    clinres.grant_module(uuid, uuid, text, timestamptz, timestamptz), clinres.revoke_module(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.explain_access(uuid, uuid, text), clinres.access_review(uuid), clinres.export_access_review(uuid, text),
    clinres.grant_module(uuid, uuid, text, timestamptz, timestamptz), clinres.revoke_module(uuid, uuid, text) TO clinres_app;
