
-- User management: the write side. Each function checks the context user's permission in the
-- tenant concerned, writes one admin_logs row per changed object in the same transaction and
-- returns the user as get_user shows it afterwards (delete_user: its id; reset_password: the password).

CREATE FUNCTION clinres.create_user(email text, name text, password text DEFAULT NULL, tenant_id uuid DEFAULT NULL,
                                    role_code text DEFAULT 'USER', modules text[] DEFAULT NULL, phone text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT w.user_id FROM clinres._create_or_add_user($1, $2, $7, coalesce($5, 'USER'), $6, $4, 'error', $3) w
$$;
COMMENT ON FUNCTION clinres.create_user(text, text, text, uuid, text, text[], text) IS
    'creates a user as a member of the tenant (default: the context tenant) with a role and modules (NULL: inherit); returns its id';

CREATE FUNCTION clinres.update_user(user_id uuid, changes jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
    k text;
    v jsonb;
    val text;
    f record;
    was jsonb := '{}';
    now_ jsonb := '{}';
BEGIN
    IF changes IS NULL OR pg_catalog.jsonb_typeof(changes) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Allowed keys: name, email, phone.';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(changes) LOOP
        IF k OPERATOR(pg_catalog.<>) ALL (ARRAY['name', 'email', 'phone']) THEN
            RAISE EXCEPTION 'unknown field "%"', k USING ERRCODE = 'invalid_parameter_value', HINT = 'Allowed keys: name, email, phone.';
        END IF;
        IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) ALL (ARRAY['string', 'null']) THEN
            RAISE EXCEPTION 'field "%" must be a string', k USING ERRCODE = 'invalid_parameter_value';
        END IF;
        val := pg_catalog.btrim(changes OPERATOR(pg_catalog.->>) k);
        IF k OPERATOR(pg_catalog.=) 'phone' THEN
            val := NULLIF(val, '');
        END IF;
        SELECT * INTO f FROM clinres._field_problem(k, coalesce(val, CASE WHEN k OPERATOR(pg_catalog.<>) 'phone' THEN '' END)) x;
        IF f.errcode IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = f.errcode, MESSAGE = f.message;
        END IF;
        IF val IS DISTINCT FROM (pg_catalog.to_jsonb(u) OPERATOR(pg_catalog.->>) k) THEN
            was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, pg_catalog.to_jsonb(u) OPERATOR(pg_catalog.->) k);
            now_ := now_ OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, val);
        END IF;
    END LOOP;
    IF now_ OPERATOR(pg_catalog.=) '{}' THEN
        RETURN clinres._user_json(actor, u.id);
    END IF;
    PERFORM clinres._guard_target(actor, u, 'edit', true);
    PERFORM clinres._require_global(actor, u.id, 'user:edit');
    IF now_ ? 'email' AND EXISTS (SELECT FROM clinres.users x WHERE pg_catalog.lower(x.email) OPERATOR(pg_catalog.=) pg_catalog.lower(now_ OPERATOR(pg_catalog.->>) 'email')
                                    AND x.id OPERATOR(pg_catalog.<>) u.id) THEN
        RAISE EXCEPTION 'email "%" is already in use', now_ OPERATOR(pg_catalog.->>) 'email' USING ERRCODE = 'unique_violation';
    END IF;
    IF now_ OPERATOR(pg_catalog.->>) 'phone' IS NOT NULL AND EXISTS (SELECT FROM clinres.users x WHERE x.phone OPERATOR(pg_catalog.=) (now_ OPERATOR(pg_catalog.->>) 'phone')
                                                     AND x.id OPERATOR(pg_catalog.<>) u.id) THEN
        RAISE EXCEPTION 'phone "%" is already in use', now_ OPERATOR(pg_catalog.->>) 'phone' USING ERRCODE = 'unique_violation';
    END IF;
    BEGIN
        UPDATE clinres.users x
           SET email = CASE WHEN now_ ? 'email' THEN now_ OPERATOR(pg_catalog.->>) 'email' ELSE x.email END,
               name = CASE WHEN now_ ? 'name' THEN now_ OPERATOR(pg_catalog.->>) 'name' ELSE x.name END,
               phone = CASE WHEN now_ ? 'phone' THEN now_ OPERATOR(pg_catalog.->>) 'phone' ELSE x.phone END,
               updated_at = pg_catalog.now()
         WHERE x.id OPERATOR(pg_catalog.=) u.id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM clinres._raise_duplicate(now_ OPERATOR(pg_catalog.->>) 'email', now_ OPERATOR(pg_catalog.->>) 'phone');
    END;
    PERFORM clinres._log(actor, clinres.current_tenant_id(), 'user.update', u.id, pg_catalog.jsonb_build_object('before', was, 'after', now_));
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.update_user(uuid, jsonb) IS 'changes the user''s name, email and phone (keys of changes; others are 22023)';

CREATE FUNCTION clinres.set_user_status(user_id uuid, status text, tenant_id uuid DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
    old text;
BEGIN
    IF status IS NULL OR status OPERATOR(pg_catalog.<>) ALL (ARRAY['active', 'disabled']) THEN
        RAISE EXCEPTION 'invalid status "%"', coalesce(status, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'status is active or disabled.';
    END IF;
    PERFORM clinres._guard_target(actor, u, 'change the status of', status OPERATOR(pg_catalog.=) 'active');
    IF tenant_id IS NULL THEN
        PERFORM clinres._require_global(actor, u.id, 'user:edit');
        IF u.status OPERATOR(pg_catalog.<>) status THEN
            UPDATE clinres.users x SET status = set_user_status.status, updated_at = pg_catalog.now() WHERE x.id OPERATOR(pg_catalog.=) u.id;
            PERFORM clinres._log(actor, clinres.current_tenant_id(), 'user.status', u.id,
                                 pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('status', u.status),
                                                               'after', pg_catalog.jsonb_build_object('status', status)));
        END IF;
    ELSE
        PERFORM clinres._require(actor, tenant_id, 'user:edit');
        SELECT ut.status INTO old FROM clinres.user_tenants ut
         WHERE ut.tenant_id OPERATOR(pg_catalog.=) set_user_status.tenant_id AND ut.user_id OPERATOR(pg_catalog.=) u.id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'user "%" is not a member of tenant "%"', u.id, clinres._tenant_code(tenant_id) USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM clinres._require_ceiling(actor, tenant_id, (SELECT ut.role_code FROM clinres.user_tenants ut
                                                            WHERE ut.tenant_id OPERATOR(pg_catalog.=) set_user_status.tenant_id
                                                              AND ut.user_id OPERATOR(pg_catalog.=) u.id));
        IF old OPERATOR(pg_catalog.<>) status THEN
            UPDATE clinres.user_tenants ut SET status = set_user_status.status
             WHERE ut.tenant_id OPERATOR(pg_catalog.=) set_user_status.tenant_id AND ut.user_id OPERATOR(pg_catalog.=) u.id;
            PERFORM clinres._log(actor, tenant_id, 'tenant.status', u.id,
                                 pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('status', old),
                                                               'after', pg_catalog.jsonb_build_object('status', status)));
        END IF;
    END IF;
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.set_user_status(uuid, text, uuid) IS
    'sets the user''s status (tenant_id NULL: the global status) or its membership status in the tenant';

CREATE FUNCTION clinres.reset_password(user_id uuid, new_password text DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
    pw text := coalesce(new_password, clinres._random_password());
    f record;
BEGIN
    SELECT * INTO f FROM clinres._field_problem('password', pw) x;
    IF f.errcode IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = f.errcode, MESSAGE = f.message;
    END IF;
    PERFORM clinres._guard_target(actor, u, 'reset the password of', true);
    PERFORM clinres._require_global(actor, u.id, 'user:edit');
    UPDATE clinres.users x SET password_hash = clinres._bcrypt(pw, clinres._bcrypt_cost()), failed_logins = 0,
                               locked_until = NULL, updated_at = pg_catalog.now()
     WHERE x.id OPERATOR(pg_catalog.=) u.id;
    PERFORM clinres._log(actor, clinres.current_tenant_id(), 'user.password', u.id,
                         pg_catalog.jsonb_build_object('after', pg_catalog.jsonb_build_object('generated', new_password IS NULL)));
    RETURN CASE WHEN new_password IS NULL THEN pw END;
END
$$;
COMMENT ON FUNCTION clinres.reset_password(uuid, text) IS
    'sets a new password (bcrypt, cost clinres.bcrypt_cost) and unlocks the account; with NULL generates one and returns it (once)';

CREATE FUNCTION clinres.delete_user(user_id uuid, tenant_id uuid DEFAULT NULL) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
BEGIN
    PERFORM clinres._guard_target(actor, u, 'delete', false);
    IF tenant_id IS NOT NULL THEN
        PERFORM clinres._remove_member(actor, u, tenant_id, 'user.delete');
        RETURN u.id;
    END IF;
    PERFORM clinres._require_global(actor, u.id, 'user:delete');
    PERFORM clinres._log(actor, ut.tenant_id, 'user.delete', u.id,
                         pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object(
                             'email', u.email, 'name', u.name, 'role_code', ut.role_code,
                             'modules', clinres._module_config(u.id, ut.tenant_id))))
      FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) u.id;
    PERFORM clinres._log(actor, NULL, 'user.delete', u.id,
                         pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object(
                             'email', u.email, 'name', u.name, 'phone', u.phone, 'status', u.status, 'platform_role', u.platform_role)));
    DELETE FROM clinres.users x WHERE x.id OPERATOR(pg_catalog.=) u.id;
    RETURN u.id;
END
$$;
COMMENT ON FUNCTION clinres.delete_user(uuid, uuid) IS
    'removes the user from the tenant (with its module rows), or with tenant_id NULL deletes the user everywhere';

CREATE FUNCTION clinres.assign_tenant(user_id uuid, tenant_id uuid, role_code text DEFAULT 'USER', modules text[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
BEGIN
    PERFORM clinres._tenant_code(tenant_id);
    PERFORM clinres._create_or_add_user(u.email, NULL, NULL, coalesce(role_code, 'USER'), modules, tenant_id, 'add', NULL);
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.assign_tenant(uuid, uuid, text, text[]) IS 'adds the user to a tenant with a role and modules (NULL: inherit)';

CREATE FUNCTION clinres.set_tenant_role(user_id uuid, tenant_id uuid, role_code text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
    r clinres.roles := clinres._role(role_code);
    old text;
    new_tenant_role text;
BEGIN
    PERFORM clinres._require(actor, tenant_id, 'user:edit');
    SELECT ut.role_code INTO old FROM clinres.user_tenants ut
     WHERE ut.tenant_id OPERATOR(pg_catalog.=) set_tenant_role.tenant_id AND ut.user_id OPERATOR(pg_catalog.=) u.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user "%" is not a member of tenant "%"', u.id, clinres._tenant_code(tenant_id) USING ERRCODE = 'no_data_found';
    END IF;
    IF coalesce(u.platform_role, old) OPERATOR(pg_catalog.=) r.code THEN
        RETURN clinres._user_json(actor, u.id);
    END IF;
    PERFORM clinres._guard_target(actor, u, 'change the role of', false);
    PERFORM clinres._require_ceiling(actor, tenant_id, old);
    PERFORM clinres._require_ceiling(actor, tenant_id, r.code);
    -- A platform role lives in users.platform_role (its holder is TENANT_ADMIN of the tenant);
    -- a tenant role given to a platform-role holder takes the platform role away.
    new_tenant_role := CASE WHEN r.scope OPERATOR(pg_catalog.=) 'platform' THEN 'TENANT_ADMIN' ELSE r.code END;
    IF r.scope OPERATOR(pg_catalog.=) 'platform' OR u.platform_role IS NOT NULL THEN
        UPDATE clinres.users x SET platform_role = CASE WHEN r.scope OPERATOR(pg_catalog.=) 'platform' THEN r.code END,
                                   updated_at = pg_catalog.now()
         WHERE x.id OPERATOR(pg_catalog.=) u.id;
    END IF;
    UPDATE clinres.user_tenants ut SET role_code = new_tenant_role
     WHERE ut.tenant_id OPERATOR(pg_catalog.=) set_tenant_role.tenant_id AND ut.user_id OPERATOR(pg_catalog.=) u.id
       AND ut.role_code OPERATOR(pg_catalog.<>) new_tenant_role;
    PERFORM clinres._log(actor, tenant_id, 'tenant.role', u.id,
                         pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('role_code', coalesce(u.platform_role, old)),
                                                       'after', pg_catalog.jsonb_build_object('role_code', r.code)));
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.set_tenant_role(uuid, uuid, text) IS
    'changes the member''s role in the tenant (SUPER_ADMIN: the platform role, granted or taken by a SUPER_ADMIN only)';

-- Removes a membership and its module rows after the checks remove_tenant and delete_user share.
CREATE FUNCTION clinres._remove_member(actor uuid, u clinres.users, tenant_id uuid, action text) RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    m clinres.user_tenants;
BEGIN
    PERFORM clinres._guard_target(actor, u, 'remove', false);
    PERFORM clinres._require(actor, tenant_id, 'user:delete');
    SELECT * INTO m FROM clinres.user_tenants ut
     WHERE ut.tenant_id OPERATOR(pg_catalog.=) _remove_member.tenant_id AND ut.user_id OPERATOR(pg_catalog.=) u.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user "%" is not a member of tenant "%"', u.id, clinres._tenant_code(tenant_id) USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM clinres._require_ceiling(actor, tenant_id, m.role_code);
    PERFORM clinres._log(actor, tenant_id, action, u.id,
                         pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object(
                             'role_code', m.role_code, 'status', m.status, 'modules', clinres._module_config(u.id, tenant_id))));
    DELETE FROM clinres.user_modules um
     WHERE um.tenant_id OPERATOR(pg_catalog.=) _remove_member.tenant_id AND um.user_id OPERATOR(pg_catalog.=) u.id;
    DELETE FROM clinres.user_tenants ut
     WHERE ut.tenant_id OPERATOR(pg_catalog.=) _remove_member.tenant_id AND ut.user_id OPERATOR(pg_catalog.=) u.id;
END
$$;
COMMENT ON FUNCTION clinres._remove_member(uuid, clinres.users, uuid, text) IS
    'checks (user:delete, ceiling, not oneself, platform roles) and removes the membership and its module rows, logged';

CREATE FUNCTION clinres.remove_tenant(user_id uuid, tenant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
BEGIN
    PERFORM clinres._remove_member(actor, u, tenant_id, 'tenant.remove');
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.remove_tenant(uuid, uuid) IS 'removes the user from the tenant with its module rows (the user stays)';

CREATE FUNCTION clinres.set_user_modules(user_id uuid, tenant_id uuid, modules text[]) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    u clinres.users := clinres._visible_user(actor, user_id);
    m clinres.user_tenants;
    codes text[];
    old text[];
    new text[];
BEGIN
    PERFORM clinres._require(actor, tenant_id, 'user:edit');
    SELECT * INTO m FROM clinres.user_tenants ut
     WHERE ut.tenant_id OPERATOR(pg_catalog.=) set_user_modules.tenant_id AND ut.user_id OPERATOR(pg_catalog.=) u.id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user "%" is not a member of tenant "%"', u.id, clinres._tenant_code(tenant_id) USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM clinres._guard_target(actor, u, 'configure the modules of', true);
    PERFORM clinres._require_ceiling(actor, tenant_id, m.role_code);
    codes := clinres._tenant_modules(tenant_id, modules);
    old := clinres._module_config(u.id, tenant_id);
    new := (SELECT pg_catalog.array_agg(c ORDER BY c) FROM pg_catalog.unnest(codes) c);
    IF codes IS NOT NULL AND new IS NULL THEN
        new := '{}';
    END IF;
    IF old IS DISTINCT FROM new THEN
        PERFORM clinres._write_modules(tenant_id, ARRAY[u.id], ARRAY[pg_catalog.array_to_string(codes, E'\x1f')]);
        PERFORM clinres._log(actor, tenant_id, 'tenant.modules', u.id,
                             pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('modules', old),
                                                           'after', pg_catalog.jsonb_build_object('modules', new)));
    END IF;
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.set_user_modules(uuid, uuid, text[]) IS
    'sets the member''s modules in the tenant: NULL inherits every subscribed module, an array allows exactly those';

REVOKE ALL ON FUNCTION clinres.create_user(text, text, text, uuid, text, text[], text), clinres.update_user(uuid, jsonb),
    clinres.set_user_status(uuid, text, uuid), clinres.reset_password(uuid, text), clinres.delete_user(uuid, uuid),
    clinres.assign_tenant(uuid, uuid, text, text[]), clinres.set_tenant_role(uuid, uuid, text),
    clinres._remove_member(uuid, clinres.users, uuid, text), clinres.remove_tenant(uuid, uuid),
    clinres.set_user_modules(uuid, uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.create_user(text, text, text, uuid, text, text[], text), clinres.update_user(uuid, jsonb),
    clinres.set_user_status(uuid, text, uuid), clinres.reset_password(uuid, text), clinres.delete_user(uuid, uuid),
    clinres.assign_tenant(uuid, uuid, text, text[]), clinres.set_tenant_role(uuid, uuid, text), clinres.remove_tenant(uuid, uuid),
    clinres.set_user_modules(uuid, uuid, text[]) TO clinres_app;
