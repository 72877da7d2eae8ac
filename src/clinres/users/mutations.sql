
-- User management: the write side. Each function checks the context user's permission in the
-- tenant concerned, writes one admin_logs row per changed object in the same transaction and
-- returns the user as get_user shows it afterwards (delete_user: its id; reset_password: the password).

CREATE OR REPLACE FUNCTION clinres.create_user(email text, name text, password text DEFAULT NULL, tenant_id uuid DEFAULT NULL,
                                    role_code text DEFAULT 'USER', modules text[] DEFAULT NULL, phone text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT w.user_id FROM clinres._create_or_add_user($1, $2, $7, coalesce($5, 'USER'), $6, $4, 'error', $3) w
$$;
COMMENT ON FUNCTION clinres.create_user(text, text, text, uuid, text, text[], text) IS
    'creates a user as a member of the tenant (default: the context tenant) with a role and modules (NULL: inherit); returns its id';

CREATE OR REPLACE FUNCTION clinres.update_user(user_id uuid, changes jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
    k text;
    v jsonb;
    val text;
    f record;
    was jsonb := '{}';
    now_ jsonb := '{}';
BEGIN
    IF changes IS NULL OR pg_catalog.jsonb_typeof(changes) <> 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Allowed keys: name, email, phone.', SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'changes';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(changes) LOOP
        IF k <> ALL (ARRAY['name', 'email', 'phone']) THEN
            RAISE EXCEPTION 'unknown field "%"', k USING ERRCODE = 'invalid_parameter_value', HINT = 'Allowed keys: name, email, phone.',
                SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'changes';
        END IF;
        IF pg_catalog.jsonb_typeof(v) <> ALL (ARRAY['string', 'null']) THEN
            RAISE EXCEPTION 'field "%" must be a string', k USING ERRCODE = 'invalid_parameter_value',
                SCHEMA = 'clinres', TABLE = 'field', COLUMN = k;
        END IF;
        val := pg_catalog.btrim(changes ->> k);
        IF k = 'phone' THEN
            val := NULLIF(val, '');
        ELSIF k = 'name' THEN
            val := clinres._clean_name(val);
        END IF;
        SELECT * INTO f FROM clinres._field_problem(k, coalesce(val, CASE WHEN k <> 'phone' THEN '' END)) x;
        IF f.errcode IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = f.errcode, MESSAGE = f.message, SCHEMA = 'clinres', TABLE = 'field', COLUMN = k;
        END IF;
        IF val IS DISTINCT FROM (pg_catalog.to_jsonb(u) ->> k) THEN
            was := was || pg_catalog.jsonb_build_object(k, pg_catalog.to_jsonb(u) -> k);
            now_ := now_ || pg_catalog.jsonb_build_object(k, val);
        END IF;
    END LOOP;
    IF now_ = '{}' THEN
        RETURN clinres._user_json(actor, u.id);
    END IF;
    PERFORM clinres._authorize(actor, 'update', NULL, u.id);
    IF now_ ? 'email' AND EXISTS (SELECT FROM clinres.users x WHERE pg_catalog.lower(x.email) = pg_catalog.lower(now_ ->> 'email')
                                    AND x.id <> u.id) THEN
        RAISE EXCEPTION 'email "%" is already in use', now_ ->> 'email' USING ERRCODE = 'unique_violation',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'email';
    END IF;
    IF now_ ->> 'phone' IS NOT NULL AND EXISTS (SELECT FROM clinres.users x WHERE x.phone = (now_ ->> 'phone')
                                                     AND x.id <> u.id) THEN
        RAISE EXCEPTION 'phone "%" is already in use', now_ ->> 'phone' USING ERRCODE = 'unique_violation',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'phone';
    END IF;
    BEGIN
        UPDATE clinres.users x
           SET email = CASE WHEN now_ ? 'email' THEN now_ ->> 'email' ELSE x.email END,
               name = CASE WHEN now_ ? 'name' THEN now_ ->> 'name' ELSE x.name END,
               phone = CASE WHEN now_ ? 'phone' THEN now_ ->> 'phone' ELSE x.phone END,
               updated_at = pg_catalog.now()
         WHERE x.id = u.id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM clinres._raise_duplicate(now_ ->> 'email', now_ ->> 'phone');
    END;
    PERFORM clinres._log_account(actor, u.id, 'user.update', pg_catalog.jsonb_build_object('before', was, 'after', now_));
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.update_user(uuid, jsonb) IS 'changes the user''s name, email and phone (keys of changes; others are 22023)';

CREATE OR REPLACE FUNCTION clinres.set_user_status(user_id uuid, status text, tenant_id uuid DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
    old text;
BEGIN
    IF status IS NULL OR status <> ALL (ARRAY['active', 'disabled']) THEN
        RAISE EXCEPTION 'invalid status "%"', coalesce(status, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'status is active or disabled.', SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'status';
    END IF;
    IF tenant_id IS NULL THEN
        PERFORM clinres._authorize(actor, CASE WHEN status = 'active' THEN 'enable' ELSE 'disable' END, NULL, u.id);
        IF u.status <> status THEN
            UPDATE clinres.users x SET status = set_user_status.status, updated_at = pg_catalog.now() WHERE x.id = u.id;
            PERFORM clinres._log_account(actor, u.id, 'user.status',
                                 pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('status', u.status),
                                                               'after', pg_catalog.jsonb_build_object('status', status)));
        END IF;
    ELSE
        PERFORM clinres._tenant_code(tenant_id);
        PERFORM clinres._authorize(actor, CASE WHEN status = 'active' THEN 'enable_member' ELSE 'disable_member' END, tenant_id, u.id);
        SELECT ut.status INTO old FROM clinres.user_tenants ut
         WHERE ut.tenant_id = set_user_status.tenant_id AND ut.user_id = u.id;
        IF old <> status THEN
            UPDATE clinres.user_tenants ut SET status = set_user_status.status
             WHERE ut.tenant_id = set_user_status.tenant_id AND ut.user_id = u.id;
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

CREATE OR REPLACE FUNCTION clinres.reset_password(user_id uuid, new_password text DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
    pw text := coalesce(new_password, clinres._random_password());
    f record;
BEGIN
    SELECT * INTO f FROM clinres._field_problem('password', pw) x;
    IF f.errcode IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = f.errcode, MESSAGE = f.message, SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'password';
    END IF;
    PERFORM clinres._authorize(actor, 'password', NULL, u.id);
    UPDATE clinres.users x SET password_hash = clinres._bcrypt(pw, clinres._bcrypt_cost()), failed_logins = 0,
                               locked_until = NULL, updated_at = pg_catalog.now()
     WHERE x.id = u.id;
    PERFORM clinres._log_account(actor, u.id, 'user.password',
                         pg_catalog.jsonb_build_object('after', pg_catalog.jsonb_build_object('generated', new_password IS NULL)));
    RETURN CASE WHEN new_password IS NULL THEN pw END;
END
$$;
COMMENT ON FUNCTION clinres.reset_password(uuid, text) IS
    'sets a new password (bcrypt, cost clinres.bcrypt_cost) and unlocks the account; with NULL generates one and returns it (once)';

-- Account-wide deletion is said explicitly (everywhere => true): in 0.2.x a NULL tenant meant
-- "delete the account", which a REST handler missing its tenant did by accident.
CREATE OR REPLACE FUNCTION clinres.delete_user(user_id uuid, tenant_id uuid DEFAULT NULL, everywhere boolean DEFAULT false)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
BEGIN
    IF tenant_id IS NOT NULL AND everywhere THEN
        RAISE EXCEPTION 'tenant_id and everywhere => true exclude each other' USING ERRCODE = 'invalid_parameter_value',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'tenant_id',
            HINT = 'Pass a tenant to remove the user from it, or everywhere => true to delete the account.';
    END IF;
    IF tenant_id IS NOT NULL THEN
        PERFORM clinres._remove_member(actor, u, tenant_id, 'user.delete');
        RETURN u.id;
    END IF;
    IF NOT coalesce(everywhere, false) THEN
        RAISE EXCEPTION 'delete_user needs a tenant, or everywhere => true' USING ERRCODE = 'invalid_parameter_value',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'tenant_id',
            HINT = 'delete_user(id, tenant_id) removes the user from one tenant; delete_user(id, everywhere => true) deletes the account.';
    END IF;
    PERFORM clinres._authorize(actor, 'delete', NULL, u.id);
    PERFORM clinres._log(actor, ut.tenant_id, 'user.delete', u.id,
                         pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object(
                             'email', u.email, 'name', u.name, 'role_code', ut.role_code,
                             'modules', clinres._module_config(u.id, ut.tenant_id))))
      FROM clinres.user_tenants ut WHERE ut.user_id = u.id;
    PERFORM clinres._log(actor, NULL, 'user.delete', u.id,
                         pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object(
                             'email', u.email, 'name', u.name, 'phone', u.phone, 'status', u.status, 'platform_role', u.platform_role)));
    DELETE FROM clinres.users x WHERE x.id = u.id;
    RETURN u.id;
END
$$;
COMMENT ON FUNCTION clinres.delete_user(uuid, uuid, boolean) IS
    'removes the user from the tenant (with its module rows), or with everywhere => true deletes the account';

CREATE OR REPLACE FUNCTION clinres.assign_tenant(user_id uuid, tenant_id uuid, role_code text DEFAULT 'USER', modules text[] DEFAULT NULL,
                                                 valid_from timestamptz DEFAULT NULL, valid_until timestamptz DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    code text := clinres._tenant_code(tenant_id);
    -- A user the actor may see, or one this tenant removed (it may add its former member back).
    u clinres.users := clinres._visible_user(actor, user_id, 'add', tenant_id);
BEGIN
    PERFORM clinres._check_validity(valid_from, valid_until);
    PERFORM clinres._create_or_add_user(u.email, NULL, NULL, coalesce(role_code, 'USER'), modules, tenant_id, 'add', NULL);
    IF valid_from IS NOT NULL OR valid_until IS NOT NULL THEN
        UPDATE clinres.user_tenants ut SET valid_from = assign_tenant.valid_from, valid_until = assign_tenant.valid_until
         WHERE ut.tenant_id = assign_tenant.tenant_id AND ut.user_id = u.id;
        PERFORM clinres._log(actor, tenant_id, 'tenant.validity', u.id,
                             pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('valid_from', NULL, 'valid_until', NULL),
                                                           'after', pg_catalog.jsonb_build_object('valid_from', valid_from,
                                                                                                  'valid_until', valid_until)));
    END IF;
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.assign_tenant(uuid, uuid, text, text[], timestamptz, timestamptz) IS
    'adds the user (one the actor may see, or a former member of the tenant) to a tenant with a role, modules (NULL: inherit) and the membership''s validity (NULL: always)';

CREATE OR REPLACE FUNCTION clinres.set_tenant_role(user_id uuid, tenant_id uuid, role_code text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
    r clinres.roles := clinres._role(role_code);
    code text := clinres._tenant_code(tenant_id);
    old text;
    new_tenant_role text;
BEGIN
    PERFORM clinres._authorize(actor, 'role', tenant_id, u.id, r.code);
    SELECT ut.role_code INTO old FROM clinres.user_tenants ut WHERE ut.tenant_id = set_tenant_role.tenant_id AND ut.user_id = u.id;
    IF coalesce(u.platform_role, old) = r.code THEN
        RETURN clinres._user_json(actor, u.id);
    END IF;
    -- A platform role lives in users.platform_role (its holder is TENANT_ADMIN of the tenant);
    -- a tenant role given to a platform-role holder takes the platform role away.
    new_tenant_role := CASE WHEN r.scope = 'platform' THEN 'TENANT_ADMIN' ELSE r.code END;
    IF r.scope = 'platform' OR u.platform_role IS NOT NULL THEN
        UPDATE clinres.users x SET platform_role = CASE WHEN r.scope = 'platform' THEN r.code END, updated_at = pg_catalog.now()
         WHERE x.id = u.id;
    END IF;
    UPDATE clinres.user_tenants ut SET role_code = new_tenant_role
     WHERE ut.tenant_id = set_tenant_role.tenant_id AND ut.user_id = u.id AND ut.role_code <> new_tenant_role;
    -- A platform role granted or taken is a change to the account: every tenant of the user sees it.
    IF r.scope = 'platform' OR u.platform_role IS NOT NULL THEN
        PERFORM clinres._log_account(actor, u.id, 'tenant.role',
                                     pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('role_code', coalesce(u.platform_role, old)),
                                                                   'after', pg_catalog.jsonb_build_object('role_code', r.code),
                                                                   'tenant_id', tenant_id));
    ELSE
        PERFORM clinres._log(actor, tenant_id, 'tenant.role', u.id,
                             pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('role_code', old),
                                                           'after', pg_catalog.jsonb_build_object('role_code', r.code)));
    END IF;
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.set_tenant_role(uuid, uuid, text) IS
    'changes the member''s role in the tenant (SUPER_ADMIN: the platform role, granted or taken by a SUPER_ADMIN only)';

-- Removes a membership and its module rows once the decision allows it (remove_tenant and
-- delete_user with a tenant); the tenant remembers its former member, so that it may add it back.
CREATE OR REPLACE FUNCTION clinres._remove_member(actor uuid, u clinres.users, tenant_id uuid, action text) RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    code text := clinres._tenant_code(tenant_id);
    m clinres.user_tenants;
BEGIN
    PERFORM clinres._authorize(actor, 'remove', tenant_id, u.id);
    SELECT * INTO m FROM clinres.user_tenants ut WHERE ut.tenant_id = _remove_member.tenant_id AND ut.user_id = u.id;
    PERFORM clinres._log(actor, tenant_id, action, u.id,
                         pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object(
                             'role_code', m.role_code, 'status', m.status, 'modules', clinres._module_config(u.id, tenant_id))));
    DELETE FROM clinres.user_modules um WHERE um.tenant_id = _remove_member.tenant_id AND um.user_id = u.id;
    DELETE FROM clinres.user_tenants ut WHERE ut.tenant_id = _remove_member.tenant_id AND ut.user_id = u.id;
    INSERT INTO clinres.former_members (tenant_id, user_id, removed_by) VALUES (tenant_id, u.id, actor)
        ON CONFLICT ON CONSTRAINT former_members_pkey DO UPDATE SET removed_at = pg_catalog.now(), removed_by = EXCLUDED.removed_by;
END
$$;
COMMENT ON FUNCTION clinres._remove_member(uuid, clinres.users, uuid, text) IS
    'removes the membership and its module rows once the decision allows it, logged; the tenant may add the user back';

CREATE OR REPLACE FUNCTION clinres.remove_tenant(user_id uuid, tenant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
BEGIN
    PERFORM clinres._remove_member(actor, u, tenant_id, 'tenant.remove');
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.remove_tenant(uuid, uuid) IS 'removes the user from the tenant with its module rows (the user stays)';

CREATE OR REPLACE FUNCTION clinres.set_user_modules(user_id uuid, tenant_id uuid, modules text[]) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    u clinres.users := clinres._visible_user(actor, user_id);
    code text := clinres._tenant_code(tenant_id);
    codes text[];
    old text[];
    new text[];
BEGIN
    PERFORM clinres._authorize(actor, 'modules', tenant_id, u.id);
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
    clinres.set_user_status(uuid, text, uuid), clinres.reset_password(uuid, text), clinres.delete_user(uuid, uuid, boolean),
    clinres.assign_tenant(uuid, uuid, text, text[], timestamptz, timestamptz), clinres.set_tenant_role(uuid, uuid, text),
    clinres._remove_member(uuid, clinres.users, uuid, text), clinres.remove_tenant(uuid, uuid),
    clinres.set_user_modules(uuid, uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.create_user(text, text, text, uuid, text, text[], text), clinres.update_user(uuid, jsonb),
    clinres.set_user_status(uuid, text, uuid), clinres.reset_password(uuid, text), clinres.delete_user(uuid, uuid, boolean),
    clinres.assign_tenant(uuid, uuid, text, text[], timestamptz, timestamptz), clinres.set_tenant_role(uuid, uuid, text), clinres.remove_tenant(uuid, uuid),
    clinres.set_user_modules(uuid, uuid, text[]) TO clinres_app;
