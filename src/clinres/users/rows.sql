
-- The one code path that validates and writes a user row into a tenant: create_user,
-- assign_tenant and import_users all go through it.
--
-- clinres._check_user_row(email, name, phone, role_code, modules, tenant_id, on_existing, password)
--     -> (errcode text, message text, action text, user_id uuid)
-- Checks one row for the context user (the actor) without writing anything:
--   errcode/message: the first problem (SQLSTATE as text and the message create_user would raise),
--                    both NULL when the row may be written;
--   action:          what clinres._create_or_add_user would do: 'created', 'added' (an existing user
--                    joins the tenant), 'updated' (an existing member is changed) or 'skipped';
--   user_id:         the existing user matched by email (any case), NULL when one would be created.
-- tenant_id NULL means the actor's context tenant. role_code NULL means USER for a new member and
-- "unchanged" for an existing one; modules NULL means inherit for a new member and "unchanged" for an
-- existing one. on_existing: 'error' (an existing email is 23505), 'skip', 'update' (join or change
-- the member; its global fields only where the actor may change them) or 'add' (join only; 23505 when
-- already a member; name, phone and password are ignored). Rows earlier in the same transaction are
-- seen, so an import that writes row by row (or under savepoints for a dry run) sees its duplicates.
-- Permissions: joining needs user:create in the tenant, changing an existing member user:edit; the
-- grant ceiling applies to the role and the modules; global fields follow clinres._require_global.
-- Errors the caller would not fix by changing the row (no context user) are raised, not returned.
CREATE FUNCTION clinres._check_user_row(email text, name text, phone text, role_code text, modules text[],
                                        tenant_id uuid, on_existing text DEFAULT 'error', password text DEFAULT NULL,
                                        OUT errcode text, OUT message text, OUT action text, OUT user_id uuid)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce(tenant_id, clinres.current_tenant_id());
    e text := pg_catalog.btrim(email);
    n text := pg_catalog.btrim(name);
    p text := NULLIF(pg_catalog.btrim(phone), '');
    r clinres.roles;
    target clinres.users;
    member clinres.user_tenants;
    codes text[];
    other uuid;
    f record;
BEGIN
    IF on_existing IS NULL OR on_existing OPERATOR(pg_catalog.<>) ALL (ARRAY['error', 'skip', 'update', 'add']) THEN
        errcode := '22023'; message := pg_catalog.format('invalid on_existing "%s"', on_existing); RETURN;
    END IF;
    BEGIN
        PERFORM clinres._tenant_code(tenant);
        IF role_code IS NOT NULL THEN
            r := clinres._role(role_code);
        END IF;
        codes := clinres._tenant_modules(tenant, modules);
    EXCEPTION WHEN invalid_parameter_value OR no_data_found THEN
        GET STACKED DIAGNOSTICS errcode = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        RETURN;
    END;
    -- Nothing about the tenant's members is told to an actor who may not add or edit them.
    IF NOT (clinres._may(actor, tenant, 'user:create') OR clinres._may(actor, tenant, 'user:edit')) THEN
        errcode := '42501'; message := pg_catalog.format('permission denied: "user:create" is required in tenant "%s"', clinres._tenant_code(tenant));
        RETURN;
    END IF;
    SELECT * INTO f FROM clinres._field_problem('email', e) x;
    IF f.errcode IS NULL AND on_existing OPERATOR(pg_catalog.<>) 'add' THEN
        SELECT * INTO f FROM clinres._field_problem('phone', p) x;
        IF f.errcode IS NULL THEN SELECT * INTO f FROM clinres._field_problem('password', password) x; END IF;
    END IF;
    IF f.errcode IS NOT NULL THEN
        errcode := f.errcode; message := f.message; RETURN;
    END IF;

    SELECT * INTO target FROM clinres.users u WHERE pg_catalog.lower(u.email) OPERATOR(pg_catalog.=) pg_catalog.lower(e);
    user_id := target.id;
    IF target.id IS NULL THEN
        action := 'created';
        SELECT * INTO f FROM clinres._field_problem('name', n) x;
        IF f.errcode IS NOT NULL THEN
            errcode := f.errcode; message := f.message; RETURN;
        END IF;
        IF NOT clinres._may(actor, tenant, 'user:create') THEN
            errcode := '42501'; message := pg_catalog.format('permission denied: "user:create" is required in tenant "%s"', clinres._tenant_code(tenant));
            RETURN;
        END IF;
    ELSIF on_existing OPERATOR(pg_catalog.=) 'error' THEN
        errcode := '23505'; message := pg_catalog.format('email "%s" is already in use', e); RETURN;
    ELSIF on_existing OPERATOR(pg_catalog.=) 'skip' THEN
        action := 'skipped'; RETURN;
    ELSE
        SELECT * INTO member FROM clinres.user_tenants ut
         WHERE ut.tenant_id OPERATOR(pg_catalog.=) tenant AND ut.user_id OPERATOR(pg_catalog.=) target.id;
        IF member.user_id IS NOT NULL AND on_existing OPERATOR(pg_catalog.=) 'add' THEN
            errcode := '23505'; message := pg_catalog.format('user "%s" is already a member of tenant "%s"', e, clinres._tenant_code(tenant));
            RETURN;
        END IF;
        action := CASE WHEN member.user_id IS NULL THEN 'added' ELSE 'updated' END;
        IF NOT clinres._may(actor, tenant, CASE WHEN member.user_id IS NULL THEN 'user:create' ELSE 'user:edit' END) THEN
            errcode := '42501';
            message := pg_catalog.format('permission denied: "%s" is required in tenant "%s"',
                                         CASE WHEN member.user_id IS NULL THEN 'user:create' ELSE 'user:edit' END, clinres._tenant_code(tenant));
            RETURN;
        END IF;
        IF target.platform_role IS NOT NULL AND NOT clinres._is_super(actor) THEN
            errcode := '42501'; message := pg_catalog.format('permission denied: only a SUPER_ADMIN may change a user with platform role "%s"', target.platform_role);
            RETURN;
        END IF;
        IF member.user_id IS NOT NULL AND role_code IS NOT NULL AND r.code OPERATOR(pg_catalog.<>) member.role_code THEN
            IF target.id OPERATOR(pg_catalog.=) actor THEN
                errcode := '42501'; message := 'permission denied: nobody may change their own role'; RETURN;
            END IF;
            IF NOT clinres._role_within_ceiling(actor, tenant, member.role_code) THEN
                errcode := '42501'; message := pg_catalog.format('permission denied: role "%s" is above your own in tenant "%s"', member.role_code, clinres._tenant_code(tenant));
                RETURN;
            END IF;
        END IF;
        IF on_existing OPERATOR(pg_catalog.=) 'update'
           AND ((n IS NOT NULL AND n OPERATOR(pg_catalog.<>) target.name) OR (p IS NOT NULL AND p IS DISTINCT FROM target.phone)
                OR password IS NOT NULL) THEN
            IF n IS NOT NULL THEN
                SELECT * INTO f FROM clinres._field_problem('name', n) x;
                IF f.errcode IS NOT NULL THEN
                    errcode := f.errcode; message := f.message; RETURN;
                END IF;
            END IF;
            IF NOT clinres._is_super(actor) AND EXISTS (
                   SELECT FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) target.id
                      AND ut.tenant_id OPERATOR(pg_catalog.<>) tenant AND NOT clinres._may(actor, ut.tenant_id, 'user:edit')) THEN
                errcode := '42501';
                message := pg_catalog.format('permission denied: "user:edit" is required in every tenant of user "%s" to change its name, phone or password', e);
                RETURN;
            END IF;
        END IF;
    END IF;

    IF role_code IS NOT NULL AND NOT clinres._role_within_ceiling(actor, tenant, r.code) THEN
        errcode := '42501'; message := pg_catalog.format('permission denied: role "%s" is above your own in tenant "%s"', r.code, clinres._tenant_code(tenant));
        RETURN;
    END IF;
    IF p IS NOT NULL AND on_existing OPERATOR(pg_catalog.<>) 'add' THEN
        SELECT u.id INTO other FROM clinres.users u WHERE u.phone OPERATOR(pg_catalog.=) p AND u.id IS DISTINCT FROM target.id;
        IF FOUND THEN
            errcode := '23505'; message := pg_catalog.format('phone "%s" is already in use', p); RETURN;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._check_user_row(text, text, text, text, text[], uuid, text, text) IS
    'validates one user row for the context user without writing: (errcode, message) of the first problem or NULLs, the action it would take, the existing user';

-- Raises 23505 naming the field a concurrent writer took (the unique index has the last word).
CREATE FUNCTION clinres._raise_duplicate(email text, phone text) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM clinres.users u WHERE pg_catalog.lower(u.email) OPERATOR(pg_catalog.=) pg_catalog.lower($1)) THEN
        RAISE EXCEPTION 'email "%" is already in use', $1 USING ERRCODE = 'unique_violation';
    END IF;
    RAISE EXCEPTION 'phone "%" is already in use', $2 USING ERRCODE = 'unique_violation';
END
$$;
COMMENT ON FUNCTION clinres._raise_duplicate(text, text) IS '23505 naming the email or, failing that, the phone as already in use';

-- The writer: runs clinres._check_user_row, raises its problem with its SQLSTATE, else writes the
-- user, membership and module rows and one admin_logs row, and returns (action, user_id).
CREATE FUNCTION clinres._create_or_add_user(email text, name text, phone text, role_code text, modules text[],
                                            tenant_id uuid, on_existing text DEFAULT 'error', password text DEFAULT NULL,
                                            OUT action text, OUT user_id uuid)
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce(tenant_id, clinres.current_tenant_id());
    e text := pg_catalog.btrim(email);
    n text := pg_catalog.btrim(name);
    p text := NULLIF(pg_catalog.btrim(phone), '');
    c record;
    r clinres.roles;
    codes text[];
    before clinres.users;
    member clinres.user_tenants;
    before_modules text[];
    changed jsonb := '{}';
    was jsonb := '{}';
BEGIN
    SELECT * INTO c FROM clinres._check_user_row(email, name, phone, role_code, modules, tenant, on_existing, password) x;
    IF c.errcode OPERATOR(pg_catalog.=) '42501' THEN
        RAISE EXCEPTION USING ERRCODE = c.errcode, MESSAGE = c.message, SCHEMA = 'clinres', TABLE = 'row', COLUMN = 'user';
    ELSIF c.errcode IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = c.errcode, MESSAGE = c.message;
    END IF;
    action := c.action;
    user_id := c.user_id;
    IF action OPERATOR(pg_catalog.=) 'skipped' THEN
        RETURN;
    END IF;
    r := clinres._role(coalesce(role_code, 'USER'));
    codes := clinres._tenant_modules(tenant, modules);

    IF action OPERATOR(pg_catalog.=) 'created' THEN
        BEGIN
            INSERT INTO clinres.users (email, name, phone, password_hash, platform_role)
            VALUES (e, n, p, CASE WHEN password IS NOT NULL THEN clinres._bcrypt(password, clinres._bcrypt_cost()) END,
                    CASE WHEN r.scope OPERATOR(pg_catalog.=) 'platform' THEN r.code END)
            RETURNING id INTO user_id;
        EXCEPTION WHEN unique_violation THEN
            -- A concurrent transaction took the email or phone after the check.
            PERFORM clinres._raise_duplicate(e, p);
        END;
    ELSIF action OPERATOR(pg_catalog.=) 'added' AND r.scope OPERATOR(pg_catalog.=) 'platform' AND role_code IS NOT NULL THEN
        UPDATE clinres.users u SET platform_role = r.code, updated_at = pg_catalog.now() WHERE u.id OPERATOR(pg_catalog.=) user_id;
    END IF;

    IF action OPERATOR(pg_catalog.<>) 'updated' THEN
        -- A platform role's holder joins as TENANT_ADMIN.
        INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
        VALUES (tenant, user_id, CASE WHEN r.scope OPERATOR(pg_catalog.=) 'platform' THEN 'TENANT_ADMIN' ELSE r.code END);
        IF codes IS NOT NULL THEN
            PERFORM clinres._write_modules(user_id, tenant, codes);
        END IF;
        PERFORM clinres._log(actor, tenant, CASE WHEN action OPERATOR(pg_catalog.=) 'created' THEN 'user.create' ELSE 'tenant.assign' END,
                             user_id, pg_catalog.jsonb_build_object('after', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                                 'email', e, 'name', CASE WHEN action OPERATOR(pg_catalog.=) 'created' THEN n END,
                                 'phone', CASE WHEN action OPERATOR(pg_catalog.=) 'created' THEN p END,
                                 'role_code', r.code, 'modules', pg_catalog.to_jsonb(codes),
                                 'password_set', CASE WHEN action OPERATOR(pg_catalog.=) 'created' THEN password IS NOT NULL END))));
        RETURN;
    END IF;

    -- updated: an existing member; only what the row gives and differs is changed.
    SELECT * INTO before FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) user_id;
    SELECT * INTO member FROM clinres.user_tenants ut WHERE ut.tenant_id OPERATOR(pg_catalog.=) tenant AND ut.user_id OPERATOR(pg_catalog.=) user_id;
    IF n IS NOT NULL AND n OPERATOR(pg_catalog.<>) before.name THEN
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('name', before.name);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('name', n);
    END IF;
    IF p IS NOT NULL AND p IS DISTINCT FROM before.phone THEN
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('phone', before.phone);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('phone', p);
    END IF;
    IF changed OPERATOR(pg_catalog.<>) '{}' OR password IS NOT NULL THEN
        UPDATE clinres.users u SET name = coalesce(n, u.name), phone = coalesce(p, u.phone), updated_at = pg_catalog.now(),
               password_hash = CASE WHEN password IS NOT NULL THEN clinres._bcrypt(password, clinres._bcrypt_cost()) ELSE u.password_hash END
         WHERE u.id OPERATOR(pg_catalog.=) user_id;
        IF password IS NOT NULL THEN
            changed := changed OPERATOR(pg_catalog.||) '{"password_set": true}';
        END IF;
    END IF;
    IF role_code IS NOT NULL AND r.scope OPERATOR(pg_catalog.=) 'tenant' AND r.code OPERATOR(pg_catalog.<>) member.role_code THEN
        UPDATE clinres.user_tenants ut SET role_code = r.code
         WHERE ut.tenant_id OPERATOR(pg_catalog.=) tenant AND ut.user_id OPERATOR(pg_catalog.=) user_id;
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('role_code', member.role_code);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('role_code', r.code);
    END IF;
    IF role_code IS NOT NULL AND r.scope OPERATOR(pg_catalog.=) 'platform' AND before.platform_role IS DISTINCT FROM r.code THEN
        UPDATE clinres.users u SET platform_role = r.code, updated_at = pg_catalog.now() WHERE u.id OPERATOR(pg_catalog.=) user_id;
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('platform_role', before.platform_role);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('platform_role', r.code);
    END IF;
    before_modules := clinres._module_config(user_id, tenant);
    IF codes IS NOT NULL AND before_modules IS DISTINCT FROM (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(codes) x) THEN
        PERFORM clinres._write_modules(user_id, tenant, codes);
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('modules', before_modules);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('modules', clinres._module_config(user_id, tenant));
    END IF;
    IF changed OPERATOR(pg_catalog.<>) '{}' THEN
        PERFORM clinres._log(actor, tenant, 'user.update', user_id, pg_catalog.jsonb_build_object('before', was, 'after', changed));
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._create_or_add_user(text, text, text, text, text[], uuid, text, text) IS
    'writes one user row checked by clinres._check_user_row (raising its problem): creates, adds to the tenant, updates or skips; logs it';
REVOKE ALL ON FUNCTION clinres._raise_duplicate(text, text), clinres._check_user_row(text, text, text, text, text[], uuid, text, text),
    clinres._create_or_add_user(text, text, text, text, text[], uuid, text, text) FROM PUBLIC;
