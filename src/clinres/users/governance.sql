
-- Access governance (docs/reference.md, "Access governance"; docs/access-desk.md).

CREATE OR REPLACE FUNCTION clinres._explain_access(user_id uuid, tenant_id uuid, module_code text,
                                                   OUT allowed boolean, OUT reason text, OUT until timestamptz)
    LANGUAGE c STRICT STABLE AS 'MODULE_PATHNAME', 'clinres_explain_access';
COMMENT ON FUNCTION clinres._explain_access(uuid, uuid, text) IS
    'has_module''s rule with the first fact that decides it, unchecked (explain_access checks who asks)';

-- SECURITY DEFINER, like every reader of the catalog; answers only for the context user itself, an
-- actor holding user:view in the tenant (about its members and former members), or on the platform.
CREATE OR REPLACE FUNCTION clinres.explain_access(user_id uuid, tenant_id uuid, module_code text) RETURNS jsonb
    LANGUAGE plpgsql STRICT STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    e record;
BEGIN
    PERFORM clinres._module_code(explain_access.module_code);
    PERFORM clinres._authorize(actor, 'explain', explain_access.tenant_id, explain_access.user_id);
    e := clinres._explain_access(explain_access.user_id, explain_access.tenant_id, explain_access.module_code);
    RETURN pg_catalog.jsonb_build_object('allowed', e.allowed, 'reason', e.reason, 'until', e.until);
END
$$;
COMMENT ON FUNCTION clinres.explain_access(uuid, uuid, text) IS
    'has_module''s answer with the first fact that decides it and until when it holds; for oneself, or with user:view in the tenant';

REVOKE ALL ON FUNCTION clinres._explain_access(uuid, uuid, text), clinres.explain_access(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.explain_access(uuid, uuid, text) TO clinres_app;
