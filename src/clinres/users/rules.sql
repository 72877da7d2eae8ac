
-- User management: who may do what (internal functions; none is granted to anyone).
-- The actor is always the context user (clinres.current_user_id()).

CREATE FUNCTION clinres._actor() RETURNS uuid
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    a uuid := clinres.current_user_id();
BEGIN
    IF a IS NULL THEN
        RAISE EXCEPTION 'permission denied: no context user'
            USING ERRCODE = 'insufficient_privilege', HINT = 'Call clinres.set_context(user_id, tenant_id) first.';
    END IF;
    RETURN a;
END
$$;
COMMENT ON FUNCTION clinres._actor() IS 'the context user; 42501 when there is none';

CREATE FUNCTION clinres._is_super(user_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT coalesce((SELECT u.platform_role OPERATOR(pg_catalog.=) 'SUPER_ADMIN' AND u.status OPERATOR(pg_catalog.=) 'active'
                       FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) $1), false)
$$;
COMMENT ON FUNCTION clinres._is_super(uuid) IS 'true when the user is an active SUPER_ADMIN';

CREATE FUNCTION clinres._may(actor uuid, tenant_id uuid, permission text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT clinres._is_super($1) OR coalesce(clinres.has_permission($1, $2, $3), false)
$$;
COMMENT ON FUNCTION clinres._may(uuid, uuid, text) IS
    'whether the actor holds the permission in the tenant (an active SUPER_ADMIN holds every permission in every tenant)';

CREATE FUNCTION clinres._tenant_code(tenant_id uuid) RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    c text;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be null' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass a tenant or set one with clinres.set_context.';
    END IF;
    SELECT t.code INTO c FROM clinres.tenants t WHERE t.id OPERATOR(pg_catalog.=) $1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tenant "%" does not exist', $1 USING ERRCODE = 'no_data_found';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION clinres._tenant_code(uuid) IS 'the code of an existing tenant; 22023 for NULL, P0002 when unknown';

CREATE FUNCTION clinres._require(actor uuid, tenant_id uuid, permission text) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    code text := clinres._tenant_code($2);
BEGIN
    IF NOT clinres._may($1, $2, $3) THEN
        RAISE EXCEPTION 'permission denied: "%" is required in tenant "%"', $3, code
            USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'permission', COLUMN = $3;
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._require(uuid, uuid, text) IS 'P0002 for an unknown tenant, 42501 unless the actor holds the permission there';

-- A user the actor may see: a SUPER_ADMIN sees every user; anybody else the members of the
-- tenants where it holds user:view. Anything else, an unknown id included, is 42501 for a
-- tenant-scoped actor, so that the answer never tells whether a user of another tenant exists.
CREATE FUNCTION clinres._visible_user(actor uuid, user_id uuid) RETURNS clinres.users
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    u clinres.users;
BEGIN
    IF $2 IS NULL THEN
        RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO u FROM clinres.users x WHERE x.id OPERATOR(pg_catalog.=) $2;
    IF clinres._is_super($1) THEN
        IF u.id IS NULL THEN
            RAISE EXCEPTION 'user "%" does not exist', $2 USING ERRCODE = 'no_data_found';
        END IF;
        RETURN u;
    END IF;
    IF u.id IS NULL OR NOT EXISTS (SELECT FROM clinres.user_tenants ut
                                    WHERE ut.user_id OPERATOR(pg_catalog.=) $2 AND clinres._may($1, ut.tenant_id, 'user:view')) THEN
        RAISE EXCEPTION 'permission denied: "user:view" is required in a tenant of user "%"', $2
            USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'permission', COLUMN = 'user:view';
    END IF;
    RETURN u;
END
$$;
COMMENT ON FUNCTION clinres._visible_user(uuid, uuid) IS 'the user row when the actor may see it; P0002 (SUPER_ADMIN) or 42501 otherwise';

-- Acting on a SUPER_ADMIN is for SUPER_ADMINs only; acting on oneself is refused for the given verb.
CREATE FUNCTION clinres._guard_target(actor uuid, target clinres.users, verb text, self_allowed boolean) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF target.platform_role IS NOT NULL AND NOT clinres._is_super(actor) THEN
        RAISE EXCEPTION 'permission denied: only a SUPER_ADMIN may % a user with platform role "%"', verb, target.platform_role
            USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'role', COLUMN = target.platform_role;
    END IF;
    IF NOT self_allowed AND target.id OPERATOR(pg_catalog.=) actor THEN
        RAISE EXCEPTION 'permission denied: nobody may % themselves', verb
            USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'self', COLUMN = verb;
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._guard_target(uuid, clinres.users, text, boolean) IS
    '42501 when a non-SUPER_ADMIN acts on a platform-role user, or when the actor acts on itself where that is refused';

-- Global fields (email, name, phone, password, global status, the user itself): a tenant-scoped
-- actor changes them only for users all of whose memberships lie in tenants where it holds the permission.
CREATE FUNCTION clinres._require_global(actor uuid, target uuid, permission text) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    other text;
BEGIN
    IF clinres._is_super(actor) THEN
        RETURN;
    END IF;
    SELECT t.code INTO other FROM clinres.user_tenants ut JOIN clinres.tenants t ON t.id OPERATOR(pg_catalog.=) ut.tenant_id
     WHERE ut.user_id OPERATOR(pg_catalog.=) target AND NOT clinres._may(actor, ut.tenant_id, permission)
     ORDER BY t.code LIMIT 1;
    IF FOUND OR NOT EXISTS (SELECT FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) target) THEN
        RAISE EXCEPTION 'permission denied: "%" is required in every tenant of user "%"', permission, target
            USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'permission', COLUMN = permission,
                  DETAIL = 'The user belongs to a tenant where you do not hold it; only a SUPER_ADMIN may change the user''s global fields.';
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._require_global(uuid, uuid, text) IS
    '42501 unless the actor is a SUPER_ADMIN or holds the permission in every tenant of the target';

CREATE FUNCTION clinres._role(role_code text) RETURNS clinres.roles
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    r clinres.roles;
BEGIN
    SELECT * INTO r FROM clinres.roles x WHERE x.code OPERATOR(pg_catalog.=) pg_catalog.upper(pg_catalog.btrim($1));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown role "%"', $1 USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Valid roles: ' OPERATOR(pg_catalog.||)
                   (SELECT pg_catalog.string_agg(x.code, ', ' ORDER BY x.code) FROM clinres.roles x) OPERATOR(pg_catalog.||) '.';
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION clinres._role(text) IS 'the role with this code (any case); 22023 naming it when unknown';

-- The grant ceiling: a platform role only by a SUPER_ADMIN; a tenant role only when its
-- permissions are a subset of those of the actor's own active role in that tenant.
CREATE FUNCTION clinres._role_within_ceiling(actor uuid, tenant_id uuid, role_code text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT clinres._is_super($1)
        OR (EXISTS (SELECT FROM clinres.roles r WHERE r.code OPERATOR(pg_catalog.=) $3 AND r.scope OPERATOR(pg_catalog.=) 'tenant')
            AND EXISTS (SELECT FROM clinres.user_tenants ut JOIN clinres.users u ON u.id OPERATOR(pg_catalog.=) ut.user_id
                         WHERE ut.user_id OPERATOR(pg_catalog.=) $1 AND ut.tenant_id OPERATOR(pg_catalog.=) $2
                           AND ut.status OPERATOR(pg_catalog.=) 'active' AND u.status OPERATOR(pg_catalog.=) 'active'
                           AND NOT EXISTS (SELECT FROM clinres.role_permissions rp
                                            WHERE rp.role_code OPERATOR(pg_catalog.=) $3
                                              AND NOT EXISTS (SELECT FROM clinres.role_permissions mine
                                                               WHERE mine.role_code OPERATOR(pg_catalog.=) ut.role_code
                                                                 AND mine.permission_code OPERATOR(pg_catalog.=) rp.permission_code))))
$$;
COMMENT ON FUNCTION clinres._role_within_ceiling(uuid, uuid, text) IS
    'whether the actor may grant (or act on a holder of) the role in the tenant: at or below its own role there';

CREATE FUNCTION clinres._require_ceiling(actor uuid, tenant_id uuid, role_code text) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF NOT clinres._role_within_ceiling($1, $2, $3) THEN
        RAISE EXCEPTION 'permission denied: role "%" is above your own in tenant "%"', $3, clinres._tenant_code($2)
            USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'role', COLUMN = $3;
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._require_ceiling(uuid, uuid, text) IS '42501 unless the role is within the actor''s grant ceiling in the tenant';

-- Module codes or names (any case) -> canonical codes, each subscribed by the tenant; NULL stays NULL (inherit).
CREATE FUNCTION clinres._tenant_modules(tenant_id uuid, modules text[]) RETURNS text[]
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    given text;
    canon text;
    result text[] := '{}';
BEGIN
    IF $2 IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH given IN ARRAY $2 LOOP
        SELECT m.code INTO canon FROM clinres.modules m
         WHERE m.code OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(given))
            OR pg_catalog.lower(m.name) OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(given))
         ORDER BY m.code OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(given)) DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown module "%"', given USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Valid modules: ' OPERATOR(pg_catalog.||)
                       (SELECT pg_catalog.string_agg(m.code, ', ' ORDER BY m.sort_order, m.code) FROM clinres.modules m)
                       OPERATOR(pg_catalog.||) '.';
        END IF;
        IF NOT EXISTS (SELECT FROM clinres.tenant_modules tm JOIN clinres.modules m ON m.code OPERATOR(pg_catalog.=) tm.module_code
                        WHERE tm.tenant_id OPERATOR(pg_catalog.=) $1 AND tm.module_code OPERATOR(pg_catalog.=) canon
                          AND tm.is_enabled AND m.is_active
                          AND (tm.expires_at IS NULL OR tm.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())) THEN
            RAISE EXCEPTION 'module "%" is not subscribed by tenant "%"', canon, clinres._tenant_code($1)
                USING ERRCODE = 'invalid_parameter_value', HINT = 'See clinres.module_options(tenant_id).';
        END IF;
        IF NOT canon OPERATOR(pg_catalog.=) ANY (result) THEN
            result := result OPERATOR(pg_catalog.||) canon;
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION clinres._tenant_modules(uuid, text[]) IS
    'canonical module codes of the given codes or names; 22023 for an unknown module or one the tenant does not subscribe';

-- The modules a member may use by its configuration (inherit, or its enabled rows) among the
-- tenant's current subscriptions, in navigation order. User and membership status are not applied.
CREATE FUNCTION clinres._member_modules(user_id uuid, tenant_id uuid) RETURNS text[]
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT coalesce(pg_catalog.array_agg(m.code ORDER BY m.sort_order, m.code), '{}')
      FROM clinres.tenant_modules tm JOIN clinres.modules m ON m.code OPERATOR(pg_catalog.=) tm.module_code
     WHERE tm.tenant_id OPERATOR(pg_catalog.=) $2 AND tm.is_enabled AND m.is_active
       AND (tm.expires_at IS NULL OR tm.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
       AND (NOT EXISTS (SELECT FROM clinres.user_modules um
                         WHERE um.tenant_id OPERATOR(pg_catalog.=) $2 AND um.user_id OPERATOR(pg_catalog.=) $1)
            OR EXISTS (SELECT FROM clinres.user_modules um
                        WHERE um.tenant_id OPERATOR(pg_catalog.=) $2 AND um.user_id OPERATOR(pg_catalog.=) $1
                          AND um.module_code OPERATOR(pg_catalog.=) m.code AND um.is_enabled))
$$;
COMMENT ON FUNCTION clinres._member_modules(uuid, uuid) IS 'the subscribed modules the member''s own configuration allows, in navigation order';

-- Writes members' module configurations in the tenant: user_ids[i] gets configs[i], its codes
-- separated by U+001F; NULL = inherit (no rows), else exactly those: an enabled row for each given
-- module (having rows at all is what stops the inheritance, so rows for the others would change no
-- answer), and for none ('') a disabled row for each subscribed module. Only rows that exist are
-- deleted.
CREATE FUNCTION clinres._write_modules(tenant_id uuid, user_ids uuid[], configs text[]) RETURNS void
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    DELETE FROM clinres.user_modules um USING pg_catalog.unnest($2) x(id)
     WHERE um.tenant_id OPERATOR(pg_catalog.=) $1 AND um.user_id OPERATOR(pg_catalog.=) x.id;
    INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
    SELECT $1, x.id, s.c, pg_catalog.cardinality(x.codes) OPERATOR(pg_catalog.>) 0
      FROM (SELECT u.id, pg_catalog.string_to_array(u.cfg, E'\x1f') FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) u(id, cfg)
             WHERE u.cfg IS NOT NULL) x(id, codes)
     CROSS JOIN LATERAL (SELECT pg_catalog.unnest(x.codes)
                         UNION SELECT tm.module_code FROM clinres.tenant_modules tm
                          WHERE tm.tenant_id OPERATOR(pg_catalog.=) $1 AND pg_catalog.cardinality(x.codes) OPERATOR(pg_catalog.=) 0) s(c)
     ORDER BY x.id, s.c;
$$;
COMMENT ON FUNCTION clinres._write_modules(uuid, uuid[], text[]) IS 'replaces members'' module configurations (NULL: inherit)';

-- Before a module is deleted (its user_modules rows go with it, ON DELETE CASCADE): every member
-- with a row for it gets a disabled row for each other module it has none for. That changes no
-- answer (having rows is what stops the inheritance; the others were not given), and it keeps a
-- configuration of only deleted modules (several may go in one statement) from becoming no rows,
-- which would inherit every subscription, including ones added later.
CREATE FUNCTION clinres._keep_module_configs() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
    SELECT c.tenant_id, c.user_id, m.code, false
      FROM (SELECT DISTINCT um.tenant_id, um.user_id FROM clinres.user_modules um
             WHERE um.module_code OPERATOR(pg_catalog.=) OLD.code) c
     CROSS JOIN clinres.modules m
     WHERE m.code OPERATOR(pg_catalog.<>) OLD.code
    ON CONFLICT DO NOTHING;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION clinres._keep_module_configs() IS
    'before a module is deleted: its members'' configurations get a disabled row for every other module, so that they do not fall back to inheriting';
CREATE TRIGGER keep_module_configs BEFORE DELETE ON clinres.modules
    FOR EACH ROW EXECUTE FUNCTION clinres._keep_module_configs();

-- The member's configuration as the audit shows it: NULL (inherit) or the enabled codes.
CREATE FUNCTION clinres._module_config(user_id uuid, tenant_id uuid) RETURNS text[]
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
                THEN coalesce(pg_catalog.array_agg(um.module_code ORDER BY um.module_code) FILTER (WHERE um.is_enabled), '{}') END
      FROM clinres.user_modules um WHERE um.tenant_id OPERATOR(pg_catalog.=) $2 AND um.user_id OPERATOR(pg_catalog.=) $1
$$;
COMMENT ON FUNCTION clinres._module_config(uuid, uuid) IS 'the member''s module configuration: NULL (inherit) or its enabled codes';

CREATE FUNCTION clinres._log(actor uuid, tenant_id uuid, action text, target uuid, detail jsonb) RETURNS void
    LANGUAGE sql SET search_path = pg_catalog, clinres, pg_temp
AS $$
    INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
    VALUES ($1, $2, $3, $4::pg_catalog.text, coalesce($5, '{}'))
$$;
COMMENT ON FUNCTION clinres._log(uuid, uuid, text, uuid, jsonb) IS 'appends one audit row (never pass a password or hash)';

-- The user as get_user shows it to the actor: global fields and the memberships in tenants where
-- the actor holds user:view (all for a SUPER_ADMIN), each with its modules.
CREATE FUNCTION clinres._user_json(actor uuid, user_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id', u.id, 'email', u.email, 'name', u.name, 'phone', u.phone, 'status', u.status,
        'platform_role', u.platform_role, 'has_password', u.password_hash IS NOT NULL,
        'created_at', u.created_at, 'updated_at', u.updated_at, 'last_login_at', u.last_login_at,
        'locked_until', u.locked_until,
        'tenants', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'tenant_id', t.id, 'code', t.code, 'name', t.name, 'tenant_status', t.status,
                        'role_code', ut.role_code, 'status', ut.status, 'joined_at', ut.joined_at,
                        'modules', pg_catalog.to_jsonb(clinres._member_modules(u.id, t.id)),
                        'module_config', pg_catalog.to_jsonb(clinres._module_config(u.id, t.id)))
                        ORDER BY t.code)
                   FROM clinres.user_tenants ut JOIN clinres.tenants t ON t.id OPERATOR(pg_catalog.=) ut.tenant_id
                  WHERE ut.user_id OPERATOR(pg_catalog.=) u.id AND clinres._may($1, t.id, 'user:view')), '[]'))
      FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) $2
$$;
COMMENT ON FUNCTION clinres._user_json(uuid, uuid) IS 'the user and the memberships the actor may see (no password or hash)';

-- Field checks shared by every path that writes a user: one row (errcode, message) naming the
-- problem, no row when the value is fine. Plain SQL without a SET clause (every name qualified),
-- so that the planner inlines it into the set-based row check (clinres._check_user_rows).
CREATE FUNCTION clinres._field_problem(field text, value text) RETURNS TABLE (errcode text, message text)
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT x.p[1], x.p[2] FROM (SELECT CASE
        WHEN $1 OPERATOR(pg_catalog.=) 'email' THEN CASE
            WHEN $2 IS NULL OR $2 OPERATOR(pg_catalog.=) '' THEN ARRAY['22023', 'email must not be empty']
            WHEN pg_catalog.length($2) OPERATOR(pg_catalog.>) 254 OR $2 OPERATOR(pg_catalog.!~) '^[^@\s]+@[^@\s]+$'
                THEN ARRAY['22023', pg_catalog.format('invalid email "%s"', pg_catalog.left($2, 254))] END
        WHEN $1 OPERATOR(pg_catalog.=) 'name' THEN CASE
            WHEN $2 IS NULL OR $2 OPERATOR(pg_catalog.=) '' THEN ARRAY['22023', 'name must not be empty']
            WHEN pg_catalog.length($2) OPERATOR(pg_catalog.>) 100
                THEN ARRAY['22023', pg_catalog.format('name is %s characters long; at most 100 are allowed', pg_catalog.length($2))]
            WHEN $2 OPERATOR(pg_catalog.~) '[[:cntrl:]]' THEN ARRAY['22023', 'name must not contain control characters'] END
        WHEN $1 OPERATOR(pg_catalog.=) 'phone' THEN CASE
            WHEN pg_catalog.length($2) OPERATOR(pg_catalog.>) 32 OR $2 OPERATOR(pg_catalog.!~) '^\+?[0-9][0-9 -]{4,}$'
                THEN ARRAY['22023', pg_catalog.format('invalid phone "%s"', pg_catalog.left($2, 32))] END
        WHEN $1 OPERATOR(pg_catalog.=) 'password' THEN CASE
            WHEN pg_catalog.length($2) OPERATOR(pg_catalog.<) 8 OR pg_catalog.octet_length($2) OPERATOR(pg_catalog.>) 72
                THEN ARRAY['22023', 'password must be 8 to 72 bytes long'] END
        END) x(p)
     WHERE x.p IS NOT NULL
$$;
COMMENT ON FUNCTION clinres._field_problem(text, text) IS
    'validates email (<= 254), name (1..100 characters, no control characters), phone (<= 32) or password (8..72 bytes)';

CREATE FUNCTION clinres._bcrypt_cost() RETURNS int
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT coalesce(NULLIF(pg_catalog.current_setting('clinres.bcrypt_cost', true), ''), '10')::int
$$;
COMMENT ON FUNCTION clinres._bcrypt_cost() IS 'the bcrypt cost for new passwords: setting clinres.bcrypt_cost (4..31, default 10, superuser-only)';

REVOKE ALL ON FUNCTION clinres._actor(), clinres._is_super(uuid), clinres._may(uuid, uuid, text), clinres._tenant_code(uuid),
    clinres._require(uuid, uuid, text), clinres._visible_user(uuid, uuid), clinres._guard_target(uuid, clinres.users, text, boolean),
    clinres._require_global(uuid, uuid, text), clinres._role(text), clinres._role_within_ceiling(uuid, uuid, text),
    clinres._require_ceiling(uuid, uuid, text), clinres._tenant_modules(uuid, text[]), clinres._member_modules(uuid, uuid),
    clinres._write_modules(uuid, uuid[], text[]), clinres._module_config(uuid, uuid), clinres._log(uuid, uuid, text, uuid, jsonb),
    clinres._user_json(uuid, uuid), clinres._field_problem(text, text), clinres._bcrypt_cost(),
    clinres._keep_module_configs() FROM PUBLIC;
