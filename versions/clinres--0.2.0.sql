-- clinres catalog: tenants, modules, subscriptions, users, roles, permissions,
-- memberships, per-user module configuration and the audit log (docs/reference.md, "Catalog").
\echo Use "CREATE EXTENSION clinres CASCADE" to load this file. \quit

-- The role an application is granted (GRANT clinres_app TO app_role): EXECUTE on exactly the
-- functions an application calls. Roles belong to the cluster, so another database's
-- CREATE EXTENSION may have made it already; DROP EXTENSION leaves it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'clinres_app') THEN
        CREATE ROLE clinres_app NOLOGIN;
    END IF;
END
$$;

-- Tenants; the PUBLIC tenant has a fixed id so that dumps and fixtures can name it.
CREATE TABLE clinres.tenants (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    code        text NOT NULL UNIQUE CHECK (code OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9_-]*$'),
    name        text NOT NULL CHECK (name OPERATOR(pg_catalog.<>) ''),
    status      text NOT NULL DEFAULT 'active' CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'disabled'])),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    builtin     boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE clinres.tenants IS 'organisations using the platform; PUBLIC is the shared default tenant';

CREATE TABLE clinres.modules (
    code        text PRIMARY KEY CHECK (code OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]*$'),
    name        text NOT NULL,
    schema_name name NOT NULL,
    sort_order  int  NOT NULL DEFAULT 0,
    route       text NOT NULL,
    is_active   boolean NOT NULL DEFAULT true,
    builtin     boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE clinres.modules IS 'business modules of the platform; codes are stored in lower case';

CREATE TABLE clinres.tenant_modules (
    tenant_id   uuid NOT NULL REFERENCES clinres.tenants (id) ON DELETE CASCADE,
    module_code text NOT NULL REFERENCES clinres.modules (code) ON UPDATE CASCADE ON DELETE CASCADE,
    is_enabled  boolean NOT NULL DEFAULT true,
    expires_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    builtin     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, module_code)
);
COMMENT ON TABLE clinres.tenant_modules IS 'subscriptions: a tenant may use a module while is_enabled and not past expires_at (NULL = never expires)';

CREATE TABLE clinres.roles (
    code        text PRIMARY KEY CHECK (code OPERATOR(pg_catalog.~) '^[A-Z][A-Z0-9_]*$'),
    scope       text NOT NULL CHECK (scope OPERATOR(pg_catalog.=) ANY (ARRAY['platform', 'tenant'])),
    name        text NOT NULL,
    builtin     boolean NOT NULL DEFAULT false,
    UNIQUE (code, scope)
);

CREATE TABLE clinres.permissions (
    code        text PRIMARY KEY CHECK (code OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$'),
    description text NOT NULL,
    builtin     boolean NOT NULL DEFAULT false
);

CREATE TABLE clinres.role_permissions (
    role_code       text NOT NULL REFERENCES clinres.roles (code) ON UPDATE CASCADE ON DELETE CASCADE,
    permission_code text NOT NULL REFERENCES clinres.permissions (code) ON UPDATE CASCADE ON DELETE CASCADE,
    builtin     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (role_code, permission_code)
);

-- Users are platform-wide (not tenant-scoped): a Citus reference table.
-- platform_role may only name a platform-scope role: the constant column makes
-- the composite foreign key check the scope.
CREATE TABLE clinres.users (
    id             uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    email          text NOT NULL CHECK (email OPERATOR(pg_catalog.~) '^[^@\s]+@[^@\s]+$'),
    phone          text UNIQUE CHECK (phone OPERATOR(pg_catalog.~) '^\+?[0-9][0-9 -]{4,}$'),
    name           text NOT NULL CHECK (name OPERATOR(pg_catalog.<>) ''),
    password_hash  text CHECK (password_hash OPERATOR(pg_catalog.~) '^\$2[abxy]\$[0-9]{2}\$'),
    status         text NOT NULL DEFAULT 'active' CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'disabled'])),
    platform_role  text,
    platform_scope text NOT NULL DEFAULT 'platform' CHECK (platform_scope OPERATOR(pg_catalog.=) 'platform'),
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    FOREIGN KEY (platform_role, platform_scope) REFERENCES clinres.roles (code, scope)
);
CREATE UNIQUE INDEX users_email_lower_key ON clinres.users (pg_catalog.lower(email));
COMMENT ON COLUMN clinres.users.password_hash IS 'bcrypt hash made with pgcrypto crypt(password, gen_salt(''bf'')); never returned by any clinres function';

CREATE TABLE clinres.user_tenants (
    tenant_id   uuid NOT NULL REFERENCES clinres.tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES clinres.users (id) ON DELETE CASCADE,
    role_code   text NOT NULL DEFAULT 'USER',
    role_scope  text NOT NULL DEFAULT 'tenant' CHECK (role_scope OPERATOR(pg_catalog.=) 'tenant'),
    status      text NOT NULL DEFAULT 'active' CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'disabled'])),
    joined_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (role_code, role_scope) REFERENCES clinres.roles (code, scope) ON UPDATE CASCADE
);
CREATE INDEX user_tenants_user_id_idx ON clinres.user_tenants (user_id);

CREATE TABLE clinres.user_modules (
    tenant_id   uuid NOT NULL REFERENCES clinres.tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES clinres.users (id) ON DELETE CASCADE,
    module_code text NOT NULL REFERENCES clinres.modules (code) ON UPDATE CASCADE ON DELETE CASCADE,
    is_enabled  boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, user_id, module_code),
    CONSTRAINT user_modules_user_id_tenant_id_module_code_key UNIQUE (user_id, tenant_id, module_code)
);
COMMENT ON TABLE clinres.user_modules IS 'per-user module configuration in a tenant: no rows = inherit every subscribed module; any rows = only those with is_enabled';

CREATE TABLE clinres.admin_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    actor_id    uuid,
    tenant_id   uuid,
    action      text NOT NULL,
    target      text,
    detail      jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE clinres.admin_logs IS 'audit of every mutation made through the clinres API';

-- Seeds.
INSERT INTO clinres.tenants (id, code, name)
VALUES ('00000000-0000-0000-0000-000000000001', 'PUBLIC', '公共租户');

INSERT INTO clinres.modules (code, name, schema_name, sort_order, route) VALUES
    ('asl',   'AI智能文献',   'asl_schema',   10, '/asl'),
    ('aia',   'AI智能问答',   'aia_schema',   20, '/aia'),
    ('pkb',   '个人知识库',   'pkb_schema',   30, '/pkb'),
    ('dc',    '数据清洗',     'dc_schema',    40, '/dc'),
    ('rvw',   '审稿系统',     'rvw_schema',   50, '/rvw'),
    ('admin', '运营管理',     'admin_schema', 60, '/admin'),
    ('ssa',   '智能统计分析', 'ssa_schema',   70, '/ssa'),
    ('st',    '统计分析工具', 'st_schema',    80, '/st');

INSERT INTO clinres.tenant_modules (tenant_id, module_code)
SELECT '00000000-0000-0000-0000-000000000001', code FROM clinres.modules;

INSERT INTO clinres.roles (code, scope, name) VALUES
    ('SUPER_ADMIN',  'platform', 'super administrator'),
    ('TENANT_ADMIN', 'tenant',   'tenant administrator'),
    ('USER',         'tenant',   'user');

INSERT INTO clinres.permissions (code, description) VALUES
    ('user:view',   'list and read users'),
    ('user:create', 'create users'),
    ('user:edit',   'edit users, their tenants and their modules'),
    ('user:delete', 'delete users');

INSERT INTO clinres.role_permissions (role_code, permission_code)
SELECT r, p.code FROM pg_catalog.unnest(ARRAY['SUPER_ADMIN', 'TENANT_ADMIN']::pg_catalog.text[]) AS r, clinres.permissions p;

-- The catalog is read through clinres functions only.
REVOKE ALL ON ALL TABLES IN SCHEMA clinres FROM PUBLIC;
GRANT USAGE ON SCHEMA clinres TO PUBLIC;

-- pg_dump: the rows users add are dumped; the seeds are made again by CREATE
-- EXTENSION on restore (so edits to seeded rows are not carried over).
-- Every row made above is a seed; one flag says so, once.
UPDATE clinres.tenants SET builtin = true;
UPDATE clinres.modules SET builtin = true;
UPDATE clinres.tenant_modules SET builtin = true;
UPDATE clinres.roles SET builtin = true;
UPDATE clinres.permissions SET builtin = true;
UPDATE clinres.role_permissions SET builtin = true;
SELECT pg_catalog.pg_extension_config_dump('clinres.tenants', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.modules', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.tenant_modules', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.roles', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.permissions', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.role_permissions', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.users', '');
SELECT pg_catalog.pg_extension_config_dump('clinres.user_tenants', '');
SELECT pg_catalog.pg_extension_config_dump('clinres.user_modules', '');
SELECT pg_catalog.pg_extension_config_dump('clinres.admin_logs', '');
SELECT pg_catalog.pg_extension_config_dump('clinres.admin_logs_id_seq', '');

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

CREATE FUNCTION clinres.require_module(user_id uuid, tenant_id uuid, module_code text) RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_require_module';
COMMENT ON FUNCTION clinres.require_module(uuid, uuid, text) IS
    'true, or raises insufficient_privilege (42501) with the denial marker (schema clinres, table module) unless has_module';

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

-- SECURITY DEFINER (it reads the catalog for a caller with no table privileges), so it
-- answers only for the context user, or an actor holding user:view in the tenant (for a
-- member of it) or on the platform.
CREATE FUNCTION clinres.session_profile(user_id uuid, tenant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres.current_user_id();
BEGIN
    IF actor IS NULL OR (actor IS DISTINCT FROM session_profile.user_id
       AND NOT (clinres.has_permission(actor, session_profile.tenant_id, 'user:view')
                AND EXISTS (SELECT FROM clinres.user_tenants ut
                             WHERE ut.user_id = session_profile.user_id AND ut.tenant_id = session_profile.tenant_id))
       AND NOT EXISTS (SELECT FROM clinres.users a JOIN clinres.role_permissions rp ON rp.role_code = a.platform_role
                        WHERE a.id = actor AND a.status = 'active' AND rp.permission_code = 'user:view')) THEN
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
CREATE FUNCTION clinres.set_context(user_id uuid, tenant_id uuid, is_local boolean DEFAULT true) RETURNS uuid
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_set_context';
COMMENT ON FUNCTION clinres.set_context(uuid, uuid, boolean) IS
    'sets the context user and tenant for this transaction (is_local, the default: safe under transaction pooling) or session; returns the user id';

-- PARALLEL RESTRICTED: whether the context is believed (a session-level or unsigned value
-- may not be) is decided in the leader, which knows how it was set; a parallel worker only
-- sees the values. Module policies still scan in parallel: their initPlans run in the leader.
CREATE FUNCTION clinres.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'clinres_current_user_id';
CREATE FUNCTION clinres.current_tenant_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'clinres_current_tenant_id';

CREATE FUNCTION clinres.tenants_with_module(module_code text) RETURNS SETOF uuid
    LANGUAGE c STRICT STABLE PARALLEL RESTRICTED ROWS 10 AS 'MODULE_PATHNAME', 'clinres_tenants_with_module';
COMMENT ON FUNCTION clinres.tenants_with_module(text) IS
    'tenants in which the context user has the module; for policies of the form tenant_id IN (SELECT clinres.tenants_with_module(...))';

-- The name of the policy enable_module_rls makes for a module: clinres_module_<code>, or,
-- when that would pass the 63 bytes of a name, its first 54 bytes and a hash of the code.
CREATE FUNCTION clinres._module_policy_name(module_code text) RETURNS name
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
CREATE FUNCTION clinres.enable_module_rls(tbl regclass, module_code text, tenant_column name DEFAULT 'tenant_id')
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
                               WHERE d.logicalrelid OPERATOR(pg_catalog.=) ANY (ARRAY[tbl, 'clinres.modules'::pg_catalog.regclass]));
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
            EXECUTE pg_catalog.format('CREATE POLICY %I ON %s USING (%I OPERATOR(pg_catalog.=) clinres.current_tenant_id()'
                                      ' AND clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), %L))',
                                      policy, rel, tenant_column, code);
            CONTINUE;
        END IF;
        -- The row's tenant must be the context tenant, so the module check needs no row
        -- data: written as initPlans it runs once per query, not once per row (see
        -- docs/benchmarks.md for the forms measured).
        EXECUTE pg_catalog.format('CREATE POLICY %I ON %s USING (%I OPERATOR(pg_catalog.=) (SELECT clinres.current_tenant_id())'
                                  ' AND (SELECT clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), %L)))',
                                  policy, rel, tenant_column, code);
    END LOOP;
    RETURN policy;
END
$$;
COMMENT ON FUNCTION clinres.enable_module_rls(regclass, text, name) IS
    'enables row-level security on tbl and each of its partitions: a row is visible when its tenant is the context tenant and the context user has the module; returns the policy''s name';

-- The access cache and what keeps it fresh.
CREATE FUNCTION clinres.access_cache_stats(
        OUT hits bigint, OUT misses bigint, OUT invalidations bigint, OUT evictions bigint,
        OUT entries bigint, OUT bytes bigint, OUT capacity bigint)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_access_cache_stats';
COMMENT ON FUNCTION clinres.access_cache_stats() IS 'this session''s access cache: hits, misses, invalidations, evictions, entries, approximate bytes, capacity';

CREATE FUNCTION clinres.access_cache_invalidate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'clinres_access_cache_invalidate';

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
CREATE FUNCTION clinres._access_cache_keep_always() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT tg.tgrelid::pg_catalog.regclass AS tbl, tg.tgname
          FROM pg_catalog.pg_event_trigger_ddl_commands() c
          JOIN pg_catalog.pg_trigger tg ON tg.tgrelid OPERATOR(pg_catalog.=) c.objid
         WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND tg.tgfoid OPERATOR(pg_catalog.=) 'clinres.access_cache_invalidate()'::pg_catalog.regprocedure
           AND tg.tgenabled OPERATOR(pg_catalog.<>) 'A' AND tg.tgenabled OPERATOR(pg_catalog.<>) 'D'
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
    clinres.landing_module(uuid, uuid), clinres._module_code(text), clinres.session_profile(uuid, uuid),
    clinres.set_context(uuid, uuid, boolean), clinres.current_user_id(), clinres.current_tenant_id(),
    clinres.tenants_with_module(text), clinres._module_policy_name(text),
    clinres.enable_module_rls(regclass, text, name), clinres.access_cache_stats(),
    clinres.access_cache_invalidate() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.has_module(uuid, uuid, text), clinres.user_modules(uuid, uuid),
    clinres.require_module(uuid, uuid, text), clinres.has_permission(uuid, uuid, text),
    clinres.landing_module(uuid, uuid), clinres.session_profile(uuid, uuid),
    clinres.set_context(uuid, uuid, boolean), clinres.current_user_id(), clinres.current_tenant_id(),
    clinres.tenants_with_module(text), clinres.access_cache_stats() TO clinres_app;

-- User management (docs/users.md): catalog additions. Email is already unique regardless of
-- case (users_email_lower_key) and phone unique when set (users_phone_key) since 0.1.0.

-- Written by login (failure counting and lockout); appended, so that an upgraded table equals a fresh one.
ALTER TABLE clinres.users
    ADD COLUMN last_login_at timestamptz,
    ADD COLUMN failed_logins int NOT NULL DEFAULT 0 CHECK (failed_logins OPERATOR(pg_catalog.>=) 0),
    ADD COLUMN locked_until timestamptz;

-- Search: one lower-cased text of email, name and phone digits, stored (computed once per write,
-- so that a search rechecks a plain column) and indexed by trigrams (pg_trgm), so that a
-- substring of three or more characters (Chinese included) finds its users by index.
CREATE FUNCTION clinres._user_search_text(email text, name text, phone text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.lower($1) OPERATOR(pg_catalog.||) E'\n' OPERATOR(pg_catalog.||) pg_catalog.lower($2)
           OPERATOR(pg_catalog.||) E'\n'
           OPERATOR(pg_catalog.||) coalesce(pg_catalog.regexp_replace($3, '[^0-9+]', '', 'g'), '')
$$;
COMMENT ON FUNCTION clinres._user_search_text(text, text, text) IS
    'what list_users searches: lower-cased email and name and the phone''s digits, one per line';
ALTER TABLE clinres.users
    ADD COLUMN search_text text GENERATED ALWAYS AS (clinres._user_search_text(email, name, phone)) STORED;
DO $$
BEGIN
    EXECUTE pg_catalog.format('CREATE INDEX users_search_trgm_idx ON clinres.users USING gin (search_text %I.gin_trgm_ops)',
                              (SELECT n.nspname FROM pg_catalog.pg_extension e
                                 JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                                WHERE e.extname OPERATOR(pg_catalog.=) 'pg_trgm'));
END
$$;

-- The member's users.created_at and users.search_text, copied into its memberships so that a
-- tenant's user list pages and searches within one index range (tenant_id, user_created_at,
-- user_id, with the search text included) without reading each member's users row.
ALTER TABLE clinres.user_tenants ADD COLUMN user_created_at timestamptz, ADD COLUMN user_search_text text;
UPDATE clinres.user_tenants ut SET user_created_at = u.created_at, user_search_text = u.search_text
  FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) ut.user_id;
ALTER TABLE clinres.user_tenants ALTER COLUMN user_created_at SET NOT NULL, ALTER COLUMN user_search_text SET NOT NULL;

CREATE FUNCTION clinres._user_tenants_copy() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    u record;
BEGIN
    SELECT x.created_at, x.search_text INTO u FROM clinres.users x WHERE x.id OPERATOR(pg_catalog.=) NEW.user_id;
    -- An unknown user keeps the given values (or placeholders): the foreign key then reports it.
    NEW.user_created_at := coalesce(u.created_at, NEW.user_created_at, pg_catalog.now());
    NEW.user_search_text := coalesce(u.search_text, NEW.user_search_text, '');
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION clinres._user_tenants_copy() IS
    'keeps user_tenants.user_created_at and user_search_text equal to the member''s users.created_at and search_text';
CREATE TRIGGER user_copy BEFORE INSERT OR UPDATE OF user_id, user_created_at, user_search_text ON clinres.user_tenants
    FOR EACH ROW EXECUTE FUNCTION clinres._user_tenants_copy();

CREATE FUNCTION clinres._users_copy_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    UPDATE clinres.user_tenants ut SET user_created_at = NEW.created_at, user_search_text = NEW.search_text
     WHERE ut.user_id OPERATOR(pg_catalog.=) NEW.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._users_copy_changed() IS 'copies a user''s changed created_at or search text to its memberships';
CREATE TRIGGER user_copy AFTER UPDATE OF created_at, email, name, phone ON clinres.users
    -- Neither column is ever NULL.
    FOR EACH ROW WHEN (OLD.created_at OPERATOR(pg_catalog.<>) NEW.created_at OR OLD.search_text OPERATOR(pg_catalog.<>) NEW.search_text)
    EXECUTE FUNCTION clinres._users_copy_changed();

-- Paging: a tenant's members newest first (search text included for index-only filtering), and
-- all users for a SUPER_ADMIN (id breaks ties).
CREATE INDEX user_tenants_page_idx ON clinres.user_tenants (tenant_id, user_created_at, user_id) INCLUDE (user_search_text);
CREATE INDEX users_created_at_idx ON clinres.users (created_at, id);

-- The audit log is append-only for every role but its owner (the extension's owner).
CREATE FUNCTION clinres._admin_logs_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF current_user OPERATOR(pg_catalog.<>) (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c
                                              WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID) THEN
        RAISE EXCEPTION 'clinres.admin_logs is append-only'
            USING ERRCODE = 'insufficient_privilege', DETAIL = pg_catalog.format('%s by role %s was refused.', TG_OP, current_user);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._admin_logs_append_only() IS 'refuses UPDATE, DELETE and TRUNCATE of admin_logs to every role but its owner';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON clinres.admin_logs
    FOR EACH STATEMENT EXECUTE FUNCTION clinres._admin_logs_append_only();
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
CREATE INDEX admin_logs_tenant_idx ON clinres.admin_logs (tenant_id, id);

-- pgcrypto's functions through its schema (found at install: PostgreSQL 15 has no @extschema:pgcrypto@).
DO $$
DECLARE
    s name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                 JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto');
BEGIN
    EXECUTE pg_catalog.format($f$
CREATE FUNCTION clinres._bcrypt(password text, cost int) RETURNS text
    LANGUAGE sql VOLATILE STRICT SET search_path = pg_catalog, pg_temp
AS 'SELECT %1$I.crypt($1, %1$I.gen_salt(''bf'', $2))'$f$, s);
    EXECUTE pg_catalog.format($f$
CREATE FUNCTION clinres._random_password() RETURNS text
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS 'SELECT pg_catalog.translate(pg_catalog.encode(%1$I.gen_random_bytes(12), ''base64''), ''+/'', ''-_'')'$f$, s);
END
$$;
COMMENT ON FUNCTION clinres._bcrypt(text, int) IS 'bcrypt hash of password with the given cost (pgcrypto crypt and gen_salt)';
COMMENT ON FUNCTION clinres._random_password() IS 'a random 16-character password from 12 bytes of pgcrypto gen_random_bytes';
REVOKE ALL ON FUNCTION clinres._bcrypt(text, int), clinres._random_password(), clinres._user_search_text(text, text, text),
    clinres._user_tenants_copy(), clinres._users_copy_changed(), clinres._admin_logs_append_only() FROM PUBLIC;

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

-- Writes a member's module configuration: NULL = inherit (no rows); an array = exactly those
-- (a row for each subscribed or given module, enabled when given, so that {} means none).
CREATE FUNCTION clinres._write_modules(user_id uuid, tenant_id uuid, codes text[]) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    -- Every write to the catalog invalidates every session's access cache and cached plans:
    -- a new member has no rows to delete, so it is not written to.
    IF EXISTS (SELECT FROM clinres.user_modules um
                WHERE um.tenant_id OPERATOR(pg_catalog.=) $2 AND um.user_id OPERATOR(pg_catalog.=) $1) THEN
        DELETE FROM clinres.user_modules um
         WHERE um.tenant_id OPERATOR(pg_catalog.=) $2 AND um.user_id OPERATOR(pg_catalog.=) $1;
    END IF;
    IF codes IS NOT NULL THEN
        INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
        SELECT $2, $1, c, c OPERATOR(pg_catalog.=) ANY (codes)
          FROM (SELECT tm.module_code FROM clinres.tenant_modules tm WHERE tm.tenant_id OPERATOR(pg_catalog.=) $2
                UNION SELECT pg_catalog.unnest(codes)) s(c);
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._write_modules(uuid, uuid, text[]) IS 'replaces the member''s module configuration (NULL: inherit)';

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

-- Field checks shared by every path that writes a user: the problem as (errcode, message), NULLs when fine.
CREATE FUNCTION clinres._field_problem(field text, value text, OUT errcode text, OUT message text)
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF field OPERATOR(pg_catalog.=) 'email' THEN
        IF value IS NULL OR value OPERATOR(pg_catalog.=) '' THEN
            errcode := '22023'; message := 'email must not be empty';
        ELSIF pg_catalog.length(value) OPERATOR(pg_catalog.>) 254 OR value OPERATOR(pg_catalog.!~) '^[^@\s]+@[^@\s]+$' THEN
            errcode := '22023'; message := pg_catalog.format('invalid email "%s"', pg_catalog.left(value, 254));
        END IF;
    ELSIF field OPERATOR(pg_catalog.=) 'name' THEN
        IF value IS NULL OR value OPERATOR(pg_catalog.=) '' THEN
            errcode := '22023'; message := 'name must not be empty';
        ELSIF pg_catalog.length(value) OPERATOR(pg_catalog.>) 100 THEN
            errcode := '22023'; message := pg_catalog.format('name is %s characters long; at most 100 are allowed', pg_catalog.length(value));
        ELSIF value OPERATOR(pg_catalog.~) '[[:cntrl:]]' THEN
            errcode := '22023'; message := 'name must not contain control characters';
        END IF;
    ELSIF field OPERATOR(pg_catalog.=) 'phone' THEN
        IF value IS NOT NULL AND (pg_catalog.length(value) OPERATOR(pg_catalog.>) 32
                                  OR value OPERATOR(pg_catalog.!~) '^\+?[0-9][0-9 -]{4,}$') THEN
            errcode := '22023'; message := pg_catalog.format('invalid phone "%s"', pg_catalog.left(value, 32));
        END IF;
    ELSIF field OPERATOR(pg_catalog.=) 'password' THEN
        IF value IS NOT NULL AND (pg_catalog.length(value) OPERATOR(pg_catalog.<) 8 OR pg_catalog.octet_length(value) OPERATOR(pg_catalog.>) 72) THEN
            errcode := '22023'; message := 'password must be 8 to 72 bytes long';
        END IF;
    END IF;
END
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
    clinres._write_modules(uuid, uuid, text[]), clinres._module_config(uuid, uuid), clinres._log(uuid, uuid, text, uuid, jsonb),
    clinres._user_json(uuid, uuid), clinres._field_problem(text, text), clinres._bcrypt_cost() FROM PUBLIC;

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

-- User management: the read side (list page, detail page, options, audit page).

-- page >= 1 and 1 <= page_size <= 100, never a silent default; 22023 naming the value.
CREATE FUNCTION clinres._check_page(page int, page_size int) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF page IS NULL OR page OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'invalid page "%"', coalesce(page::text, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pages are numbered from 1.';
    END IF;
    IF page_size IS NULL OR page_size OPERATOR(pg_catalog.<) 1 OR page_size OPERATOR(pg_catalog.>) 100 THEN
        RAISE EXCEPTION 'invalid page_size "%"', coalesce(page_size::text, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'page_size is from 1 to 100.';
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._check_page(int, int) IS '22023 unless page >= 1 and page_size is 1..100';

-- list_users' body (its argument and result names overlap, which PL/pgSQL refuses).
CREATE FUNCTION clinres._list_users(tenant_id uuid, search text, role_code text, status text, module_code text,
                                    page int, page_size int, sort text)
    RETURNS TABLE (o_id uuid, o_email text, o_name text, o_phone text, o_status text, o_role_code text,
                   o_membership_status text, o_modules text[], o_created_at timestamptz, o_last_login_at timestamptz,
                   o_total_count bigint)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp SET jit = off
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := _list_users.tenant_id;
    s text := pg_catalog.btrim(_list_users.search);
    pattern text;
    role text;
    mod text;
    sort_key text;
    sort_dir text;
    parts text[];
    from_sql text;
    where_sql text := '';
    needs_user boolean := false;
    key_sql text;
    page_sql text;
    total bigint;
BEGIN
    PERFORM clinres._check_page(page, page_size);
    parts := pg_catalog.regexp_split_to_array(pg_catalog.lower(pg_catalog.btrim(coalesce(sort, ''))), '\s+');
    sort_key := parts[1];
    sort_dir := coalesce(parts[2], 'asc');
    IF sort IS NULL OR pg_catalog.array_length(parts, 1) OPERATOR(pg_catalog.>) 2
       OR sort_key OPERATOR(pg_catalog.<>) ALL (ARRAY['created_at', 'name', 'email', 'last_login_at'])
       OR sort_dir OPERATOR(pg_catalog.<>) ALL (ARRAY['asc', 'desc']) THEN
        RAISE EXCEPTION 'invalid sort "%"', coalesce(sort, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Sort by created_at, name, email or last_login_at, then asc or desc.';
    END IF;
    IF _list_users.status IS NOT NULL AND _list_users.status OPERATOR(pg_catalog.<>) ALL (ARRAY['active', 'disabled']) THEN
        RAISE EXCEPTION 'invalid status "%"', _list_users.status USING ERRCODE = 'invalid_parameter_value',
            HINT = 'status is active or disabled.';
    END IF;
    IF _list_users.role_code IS NOT NULL THEN
        role := (clinres._role(_list_users.role_code)).code;
    END IF;
    IF _list_users.module_code IS NOT NULL THEN
        mod := clinres._module_code(_list_users.module_code);
    END IF;
    IF s OPERATOR(pg_catalog.=) '' THEN
        s := NULL;
    ELSIF pg_catalog.length(s) OPERATOR(pg_catalog.>) 100 THEN
        RAISE EXCEPTION 'search is % characters long; at most 100 are allowed', pg_catalog.length(s)
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF s OPERATOR(pg_catalog.~) '^[0-9+() -]+$' AND s OPERATOR(pg_catalog.~) '[0-9]' THEN
        s := pg_catalog.regexp_replace(s, '[^0-9+]', '', 'g');   -- phone numbers are searched by their digits
    END IF;
    IF s IS NOT NULL THEN
        pattern := '%' OPERATOR(pg_catalog.||)
                   pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.lower(s), '\', '\\'), '%', '\%'), '_', '\_')
                   OPERATOR(pg_catalog.||) '%';
    END IF;

    IF tenant IS NULL AND NOT clinres._is_super(actor) THEN
        tenant := clinres.current_tenant_id();
        IF tenant IS NULL THEN
            RAISE EXCEPTION 'permission denied: only a SUPER_ADMIN lists users across tenants'
                USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'permission', COLUMN = 'user:view', HINT = 'Pass a tenant_id or set a context tenant.';
        END IF;
    END IF;

    IF tenant IS NOT NULL THEN
        PERFORM clinres._require(actor, tenant, 'user:view');
        -- Members of the tenant; $1 tenant, $2 pattern, $3 role, $4 status, $5 module.
        IF pattern IS NOT NULL THEN
            where_sql := where_sql || ' AND ut.user_search_text OPERATOR(pg_catalog.~~) $2';
        END IF;
        IF role OPERATOR(pg_catalog.=) 'SUPER_ADMIN' OR (role IS NOT NULL AND (SELECT r.scope FROM clinres.roles r WHERE r.code = role) = 'platform') THEN
            where_sql := where_sql || ' AND u.platform_role OPERATOR(pg_catalog.=) $3';
            needs_user := true;
        ELSIF role IS NOT NULL THEN
            where_sql := where_sql || ' AND ut.role_code OPERATOR(pg_catalog.=) $3';
        END IF;
        IF _list_users.status OPERATOR(pg_catalog.=) 'active' THEN
            where_sql := where_sql || ' AND u.status OPERATOR(pg_catalog.=) ''active'' AND ut.status OPERATOR(pg_catalog.=) ''active''';
            needs_user := true;
        ELSIF _list_users.status OPERATOR(pg_catalog.=) 'disabled' THEN
            where_sql := where_sql || ' AND (u.status OPERATOR(pg_catalog.=) ''disabled'' OR ut.status OPERATOR(pg_catalog.=) ''disabled'')';
            needs_user := true;
        END IF;
        IF mod IS NOT NULL THEN
            where_sql := where_sql || ' AND $5 OPERATOR(pg_catalog.=) ANY (clinres._member_modules(ut.user_id, ut.tenant_id))';
        END IF;
        IF sort_key OPERATOR(pg_catalog.<>) 'created_at' THEN
            needs_user := true;
        END IF;
        -- The members' own rows are read only for a status or platform-role filter or a sort
        -- other than created_at; the search text is in the paging index (user_tenants_page_idx).
        from_sql := 'FROM clinres.user_tenants ut'
                    || CASE WHEN needs_user THEN ' JOIN clinres.users u ON u.id OPERATOR(pg_catalog.=) ut.user_id' ELSE '' END
                    || ' WHERE ut.tenant_id OPERATOR(pg_catalog.=) $1' || where_sql;
        key_sql := CASE sort_key WHEN 'created_at' THEN 'ut.user_created_at' WHEN 'name' THEN 'u.name'
                                 WHEN 'email' THEN 'pg_catalog.lower(u.email)' ELSE 'u.last_login_at' END;
        key_sql := key_sql || ' ' || sort_dir || CASE WHEN sort_key = 'last_login_at' THEN ' NULLS LAST' ELSE '' END
                   || ', ut.user_id ' || sort_dir;
        -- Unfiltered: the count is an index-only scan and the page a walk of the paging index.
        -- Filtered (search, role, status, module, another sort): one pass counts and pages.
        IF where_sql OPERATOR(pg_catalog.=) '' AND NOT needs_user THEN
            EXECUTE 'SELECT pg_catalog.count(*) ' || from_sql INTO total USING tenant;
            page_sql := 'SELECT ut.user_id, $8::pg_catalog.int8 AS total ';
        ELSE
            page_sql := 'SELECT ut.user_id, pg_catalog.count(*) OVER () AS total ';
        END IF;
        RETURN QUERY EXECUTE
            'SELECT u.id, u.email, u.name, u.phone, u.status, coalesce(u.platform_role, m.role_code), m.status,'
            ' clinres._member_modules(u.id, m.tenant_id), u.created_at, u.last_login_at, p.total'
            ' FROM (SELECT ut.user_id, ut.total, pg_catalog.row_number() OVER () AS n FROM (' || page_sql || from_sql
            || ' ORDER BY ' || key_sql || ' LIMIT $6 OFFSET $7) ut) p'
            ' JOIN clinres.users u ON u.id OPERATOR(pg_catalog.=) p.user_id'
            ' JOIN clinres.user_tenants m ON m.user_id OPERATOR(pg_catalog.=) p.user_id AND m.tenant_id OPERATOR(pg_catalog.=) $1'
            ' ORDER BY p.n'
            USING tenant, pattern, role, _list_users.status, mod, page_size, (page - 1)::bigint * page_size, total;
        RETURN;
    END IF;

    -- Every user (SUPER_ADMIN only).
    IF pattern IS NOT NULL THEN
        where_sql := where_sql || ' AND u.search_text OPERATOR(pg_catalog.~~) $2';
    END IF;
    IF role IS NOT NULL AND (SELECT r.scope FROM clinres.roles r WHERE r.code = role) = 'platform' THEN
        where_sql := where_sql || ' AND u.platform_role OPERATOR(pg_catalog.=) $3';
    ELSIF role IS NOT NULL THEN
        where_sql := where_sql || ' AND EXISTS (SELECT FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) u.id'
                               || ' AND ut.role_code OPERATOR(pg_catalog.=) $3)';
    END IF;
    IF _list_users.status IS NOT NULL THEN
        where_sql := where_sql || ' AND u.status OPERATOR(pg_catalog.=) $4';
    END IF;
    IF mod IS NOT NULL THEN
        where_sql := where_sql || ' AND (u.platform_role OPERATOR(pg_catalog.=) ''SUPER_ADMIN'' OR EXISTS (SELECT FROM clinres.user_tenants ut'
                               || ' WHERE ut.user_id OPERATOR(pg_catalog.=) u.id AND $5 OPERATOR(pg_catalog.=) ANY (clinres._member_modules(u.id, ut.tenant_id))))';
    END IF;
    from_sql := 'FROM clinres.users u WHERE true' || where_sql;
    key_sql := CASE sort_key WHEN 'created_at' THEN 'u.created_at' WHEN 'name' THEN 'u.name'
                             WHEN 'email' THEN 'pg_catalog.lower(u.email)' ELSE 'u.last_login_at' END;
    key_sql := key_sql || ' ' || sort_dir || CASE WHEN sort_key = 'last_login_at' THEN ' NULLS LAST' ELSE '' END
               || ', u.id ' || sort_dir;
    -- A search narrows by the trigram index: one pass counts and pages. Without one the count
    -- is a scan of every user and the page a walk of users_created_at_idx.
    -- (The counting pass is a subquery, so that the planner cannot walk users_created_at_idx
    -- to stop early: every match is counted anyway.)
    IF pattern IS NULL THEN
        EXECUTE 'SELECT pg_catalog.count(*) ' || from_sql INTO total USING tenant, pattern, role, _list_users.status, mod;
        page_sql := 'SELECT u.id, $8::pg_catalog.int8 AS total ' || from_sql;
    ELSE
        page_sql := 'SELECT u.id, u.total FROM (SELECT u.id, u.created_at, u.name, u.email, u.last_login_at,'
                    ' pg_catalog.count(*) OVER () AS total ' || from_sql || ') u';
    END IF;
    -- modules: the union of the user's memberships' modules, in navigation order.
    RETURN QUERY EXECUTE
        'SELECT u.id, u.email, u.name, u.phone, u.status, u.platform_role, NULL::text,'
        ' (SELECT pg_catalog.array_agg(m.code ORDER BY m.sort_order, m.code) FROM clinres.modules m'
        '   WHERE m.code IN (SELECT pg_catalog.unnest(clinres._member_modules(u.id, ut.tenant_id))'
        '                      FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) u.id)),'
        ' u.created_at, u.last_login_at, p.total'
        ' FROM (SELECT u.id, u.total, pg_catalog.row_number() OVER () AS n FROM (' || page_sql
        || ' ORDER BY ' || key_sql || ' LIMIT $6 OFFSET $7) u) p'
        ' JOIN clinres.users u ON u.id OPERATOR(pg_catalog.=) p.id ORDER BY p.n'
        USING tenant, pattern, role, _list_users.status, mod, page_size, (page - 1)::bigint * page_size, total;
END
$$;
COMMENT ON FUNCTION clinres._list_users(uuid, text, text, text, text, int, int, text) IS 'the body of clinres.list_users';

CREATE FUNCTION clinres.list_users(tenant_id uuid DEFAULT NULL, search text DEFAULT NULL, role_code text DEFAULT NULL,
                                   status text DEFAULT NULL, module_code text DEFAULT NULL, page int DEFAULT 1,
                                   page_size int DEFAULT 20, sort text DEFAULT 'created_at desc')
    RETURNS TABLE (id uuid, email text, name text, phone text, status text, role_code text, membership_status text,
                   modules text[], created_at timestamptz, last_login_at timestamptz, total_count bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT * FROM clinres._list_users($1, $2, $3, $4, $5, $6, $7, $8)
$$;
COMMENT ON FUNCTION clinres.list_users(uuid, text, text, text, text, int, int, text) IS
    'a page of users (a tenant''s members, or every user for a SUPER_ADMIN when tenant_id is NULL) with the exact total_count';

CREATE FUNCTION clinres.get_user(user_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
BEGIN
    PERFORM clinres._visible_user(actor, user_id);
    RETURN clinres._user_json(actor, user_id);
END
$$;
COMMENT ON FUNCTION clinres.get_user(uuid) IS 'the user and each membership the actor may see, with its modules (never a password or hash)';

CREATE FUNCTION clinres.tenant_options() RETURNS TABLE (id uuid, code text, name text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
BEGIN
    RETURN QUERY SELECT t.id, t.code, t.name FROM clinres.tenants t
                  WHERE t.status OPERATOR(pg_catalog.=) 'active'
                    AND (clinres._may(actor, t.id, 'user:create') OR clinres._may(actor, t.id, 'user:edit'))
                  ORDER BY t.code;
END
$$;
COMMENT ON FUNCTION clinres.tenant_options() IS 'the active tenants where the actor may create or edit users (all for a SUPER_ADMIN)';

CREATE FUNCTION clinres.module_options(tenant_id uuid) RETURNS TABLE (code text, name text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce(module_options.tenant_id, clinres.current_tenant_id());
BEGIN
    PERFORM clinres._require(actor, tenant, 'user:view');
    RETURN QUERY SELECT m.code, m.name FROM clinres.tenant_modules tm JOIN clinres.modules m ON m.code OPERATOR(pg_catalog.=) tm.module_code
                  WHERE tm.tenant_id OPERATOR(pg_catalog.=) tenant AND tm.is_enabled AND m.is_active
                    AND (tm.expires_at IS NULL OR tm.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
                  ORDER BY m.sort_order, m.code;
END
$$;
COMMENT ON FUNCTION clinres.module_options(uuid) IS 'the modules the tenant subscribes now (what may be granted to its members)';

-- list_admin_logs' body (its argument and result names overlap, which PL/pgSQL refuses).
CREATE FUNCTION clinres._list_admin_logs(tenant_id uuid, page int, page_size int)
    RETURNS TABLE (o_id bigint, o_created_at timestamptz, o_actor_id uuid, o_actor_email text, o_tenant_id uuid,
                   o_action text, o_target text, o_detail jsonb, o_total_count bigint)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := _list_admin_logs.tenant_id;
    total bigint;
BEGIN
    PERFORM clinres._check_page(page, page_size);
    IF tenant IS NULL AND NOT clinres._is_super(actor) THEN
        tenant := clinres.current_tenant_id();
        IF tenant IS NULL THEN
            RAISE EXCEPTION 'permission denied: only a SUPER_ADMIN reads the audit of every tenant'
                USING ERRCODE = 'insufficient_privilege', SCHEMA = 'clinres', TABLE = 'permission', COLUMN = 'user:view', HINT = 'Pass a tenant_id or set a context tenant.';
        END IF;
    END IF;
    IF tenant IS NOT NULL THEN
        PERFORM clinres._require(actor, tenant, 'user:view');
    END IF;
    SELECT pg_catalog.count(*) INTO total FROM clinres.admin_logs l
     WHERE tenant IS NULL OR l.tenant_id OPERATOR(pg_catalog.=) tenant;
    RETURN QUERY
        SELECT l.id, l.created_at, l.actor_id, a.email, l.tenant_id, l.action, l.target, l.detail, total
          FROM clinres.admin_logs l LEFT JOIN clinres.users a ON a.id OPERATOR(pg_catalog.=) l.actor_id
         WHERE tenant IS NULL OR l.tenant_id OPERATOR(pg_catalog.=) tenant
         ORDER BY l.id DESC LIMIT page_size OFFSET (page - 1)::bigint * page_size;
END
$$;
COMMENT ON FUNCTION clinres._list_admin_logs(uuid, int, int) IS 'the body of clinres.list_admin_logs';

CREATE FUNCTION clinres.list_admin_logs(tenant_id uuid DEFAULT NULL, page int DEFAULT 1, page_size int DEFAULT 20)
    RETURNS TABLE (id bigint, created_at timestamptz, actor_id uuid, actor_email text, tenant_id uuid, action text,
                   target text, detail jsonb, total_count bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT * FROM clinres._list_admin_logs($1, $2, $3)
$$;
COMMENT ON FUNCTION clinres.list_admin_logs(uuid, int, int) IS
    'a page of the audit log, newest first, of a tenant (or of every tenant for a SUPER_ADMIN when tenant_id is NULL)';

REVOKE ALL ON FUNCTION clinres._check_page(int, int), clinres._list_users(uuid, text, text, text, text, int, int, text), clinres.list_users(uuid, text, text, text, text, int, int, text),
    clinres.get_user(uuid), clinres.tenant_options(), clinres.module_options(uuid), clinres._list_admin_logs(uuid, int, int), clinres.list_admin_logs(uuid, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.list_users(uuid, text, text, text, text, int, int, text), clinres.get_user(uuid),
    clinres.tenant_options(), clinres.module_options(uuid), clinres.list_admin_logs(uuid, int, int) TO clinres_app;

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
        PERFORM clinres._write_modules(u.id, tenant_id, codes);
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

-- Batch import and export of users (docs/import.md). The file readers and writers are C++
-- (src/clinres/users/import/); every row goes through clinres._check_user_row and
-- clinres._create_or_add_user, the code path of create_user and assign_tenant.

-- The tenant an import, export or template is for: the given one or the context tenant, after
-- checking that the context user holds the permission there (42501; P0002 for an unknown tenant).
CREATE FUNCTION clinres._import_tenant(tenant_id uuid, permission text) RETURNS uuid
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce($1, clinres.current_tenant_id());
BEGIN
    PERFORM clinres._require(actor, tenant, $2);
    RETURN tenant;
END
$$;
COMMENT ON FUNCTION clinres._import_tenant(uuid, text) IS
    'the given tenant or the context tenant, once the context user is known to hold the permission there';

-- Checks every row of an import without writing: the row check's answer per row, in the order
-- given (ord from 1). Arrays are parallel; a NULL element is a value not given; modules are
-- separated by U+001F. Duplicates within the file are found by the caller.
CREATE FUNCTION clinres._import_check(tenant_id uuid, on_existing text, emails text[], names text[], phones text[],
                                      roles text[], modules text[], passwords text[])
    RETURNS TABLE (ord int, errcode text, message text, action text, user_id uuid)
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT r.ord::int, c.errcode, c.message, c.action, c.user_id
      FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6),
                      pg_catalog.unnest($7), pg_catalog.unnest($8)) WITH ORDINALITY AS r(e, n, p, ro, m, pw, ord)
     CROSS JOIN LATERAL clinres._check_user_row(r.e, r.n, r.p, r.ro, pg_catalog.string_to_array(r.m, E'\x1f'),
                                                $1, $2, r.pw) c
     ORDER BY r.ord
$$;
COMMENT ON FUNCTION clinres._import_check(uuid, text, text[], text[], text[], text[], text[], text[]) IS
    'runs clinres._check_user_row on every row of an import, in order';

-- Writes every row of an import, in order, through the writer create_user uses (which checks
-- each row again and writes its audit row); returns what happened to each.
CREATE FUNCTION clinres._import_write(tenant_id uuid, on_existing text, emails text[], names text[], phones text[],
                                      roles text[], modules text[], passwords text[])
    RETURNS TABLE (ord int, action text, user_id uuid)
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT r.ord::int, w.action, w.user_id
      FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6),
                    pg_catalog.unnest($7), pg_catalog.unnest($8)) WITH ORDINALITY AS r(e, n, p, ro, m, pw, ord)
     CROSS JOIN LATERAL clinres._create_or_add_user(r.e, r.n, r.p, r.ro, pg_catalog.string_to_array(r.m, E'\x1f'),
                                                    $1, $2, r.pw) w
     ORDER BY r.ord
$$;
COMMENT ON FUNCTION clinres._import_write(uuid, text, text[], text[], text[], text[], text[], text[]) IS
    'writes every row of an import with clinres._create_or_add_user, in order';

-- What export_users writes: every member of the tenant as list_users shows them (user:view),
-- oldest first, read page by page through the same function.
CREATE FUNCTION clinres._export_rows(tenant_id uuid)
    RETURNS TABLE (email text, name text, phone text, role_code text, modules text, status text,
                   membership_status text, created_at text, last_login_at text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    page int := 1;
    got bigint;
    total bigint;
BEGIN
    LOOP
        got := 0;
        FOR email, name, phone, role_code, modules, status, membership_status, created_at, last_login_at, total IN
            SELECT l.o_email, l.o_name, l.o_phone, l.o_role_code, pg_catalog.array_to_string(l.o_modules, ','),
                   l.o_status, l.o_membership_status,
                   pg_catalog.to_char(l.o_created_at, 'YYYY-MM-DD HH24:MI:SS'),
                   pg_catalog.to_char(l.o_last_login_at, 'YYYY-MM-DD HH24:MI:SS'), l.o_total_count
              FROM clinres._list_users($1, NULL, NULL, NULL, NULL, page, 100, 'created_at asc') l
        LOOP
            got := got OPERATOR(pg_catalog.+) 1;
            RETURN NEXT;
        END LOOP;
        EXIT WHEN got OPERATOR(pg_catalog.<) 100 OR page::bigint OPERATOR(pg_catalog.*) 100 OPERATOR(pg_catalog.>=) total;
        page := page OPERATOR(pg_catalog.+) 1;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres._export_rows(uuid) IS 'every member of the tenant as list_users shows them, oldest first (what export_users writes)';

-- The roles the context user may grant in the tenant (fewest permissions first) and the modules the
-- tenant subscribes (the template's lists).
CREATE FUNCTION clinres._import_options(tenant_id uuid) RETURNS TABLE (kind text, code text, name text)
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT * FROM (SELECT 'role'::text, r.code, r.name FROM clinres.roles r
                    WHERE r.scope OPERATOR(pg_catalog.=) 'tenant' AND clinres._role_within_ceiling(clinres._actor(), $1, r.code)
                    ORDER BY (SELECT pg_catalog.count(*) FROM clinres.role_permissions rp
                               WHERE rp.role_code OPERATOR(pg_catalog.=) r.code), r.code) roles
    UNION ALL
    SELECT * FROM (SELECT 'module'::text, m.code, m.name FROM clinres.module_options($1) m) modules
$$;
COMMENT ON FUNCTION clinres._import_options(uuid) IS 'the roles the context user may grant in the tenant, then the modules it subscribes';

CREATE FUNCTION clinres.import_users(data bytea, tenant_id uuid DEFAULT NULL, format text DEFAULT NULL,
                                     dry_run boolean DEFAULT false, on_existing text DEFAULT 'error', sheet text DEFAULT NULL)
    RETURNS TABLE (row_no int, email text, name text, action text, user_id uuid, message text)
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_import_users';
COMMENT ON FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text) IS
    'imports users from an .xlsx or CSV file into the tenant, all rows or none; returns one report row per data row';

CREATE FUNCTION clinres.import_template(format text DEFAULT 'xlsx') RETURNS bytea
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_import_template';
COMMENT ON FUNCTION clinres.import_template(text) IS
    'an import file to fill in: the headers, an example row and (xlsx) the context tenant''s roles and modules';

CREATE FUNCTION clinres.export_users(tenant_id uuid DEFAULT NULL, format text DEFAULT 'xlsx') RETURNS bytea
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_export_users';
COMMENT ON FUNCTION clinres.export_users(uuid, text) IS
    'the tenant''s members as list_users shows them, as an .xlsx or CSV file that import_users reads';

REVOKE ALL ON FUNCTION clinres._import_tenant(uuid, text),
    clinres._import_check(uuid, text, text[], text[], text[], text[], text[], text[]),
    clinres._import_write(uuid, text, text[], text[], text[], text[], text[], text[]),
    clinres._export_rows(uuid), clinres._import_options(uuid),
    clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) TO clinres_app;

-- Schema isolation (docs/reference.md, "Schema isolation"): move the platform's tables from public into
-- per-module schemas with ALTER TABLE ... SET SCHEMA, journal every move, verify it,
-- and roll it back. Everything runs with the caller's rights (who must own the
-- tables) in the caller's transaction; identifiers are always quoted with %I or
-- passed as regclass, and nothing is ever dropped with CASCADE.

CREATE TABLE clinres.module_schemas (
    schema_name name PRIMARY KEY,
    module_code text REFERENCES clinres.modules (code) ON UPDATE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('platform', 'common', 'module')),
    description text NOT NULL,
    builtin     boolean NOT NULL DEFAULT false
);
INSERT INTO clinres.module_schemas (schema_name, module_code, kind, description) VALUES
    ('platform_schema', NULL,    'platform', '平台基础层: users, tenants and other platform tables'),
    ('common_schema',   NULL,    'common',   '通用能力层: capabilities shared by the modules'),
    ('asl_schema',      'asl',   'module',   'AI智能文献'),
    ('aia_schema',      'aia',   'module',   'AI智能问答'),
    ('pkb_schema',      'pkb',   'module',   '个人知识库'),
    ('dc_schema',       'dc',    'module',   '数据清洗'),
    ('rvw_schema',      'rvw',   'module',   '审稿系统'),
    ('admin_schema',    'admin', 'module',   '运营管理'),
    ('ssa_schema',      'ssa',   'module',   '智能统计分析'),
    ('st_schema',       'st',    'module',   '统计分析工具');

-- Schemas that clinres created (and so may drop on rollback, when empty).
CREATE TABLE clinres.created_schemas (
    schema_name name PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- The plan: which table goes where. The platform's default mapping applies to
-- whichever of its tables exist in public and are not planned otherwise.
CREATE TABLE clinres.schema_plan (
    source_schema name NOT NULL,
    table_name    name NOT NULL,
    target_schema name NOT NULL,
    planned_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (source_schema, table_name)
);
CREATE TABLE clinres.schema_plan_defaults (
    table_name    name PRIMARY KEY,
    target_schema name NOT NULL REFERENCES clinres.module_schemas (schema_name),
    builtin       boolean NOT NULL DEFAULT false
);
INSERT INTO clinres.schema_plan_defaults (table_name, target_schema) VALUES
    ('users', 'platform_schema'),
    ('projects', 'aia_schema'), ('conversations', 'aia_schema'), ('messages', 'aia_schema'),
    ('general_conversations', 'aia_schema'), ('general_messages', 'aia_schema'),
    ('knowledge_bases', 'pkb_schema'), ('documents', 'pkb_schema');

-- The journal: one row per move, in the order made.
CREATE TABLE clinres.schema_journal (
    step           int PRIMARY KEY,
    table_name     name NOT NULL,
    source_schema  name NOT NULL,
    target_schema  name NOT NULL,
    row_count      bigint NOT NULL,
    row_count_exact boolean NOT NULL,
    compat_view    boolean NOT NULL DEFAULT false,
    moved_at       timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- Refuses a relation that must never be moved; returns its schema and name.
CREATE FUNCTION clinres._check_movable(source regclass, OUT nsp name, OUT rel name)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind "char";
BEGIN
    SELECT n.nspname, c.relname, c.relkind INTO nsp, rel, kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = source;
    IF nsp IN ('pg_catalog', 'information_schema') OR nsp LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'permission denied: % is a system table', source
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = source
                 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') THEN
        RAISE EXCEPTION 'permission denied: % belongs to an extension', source
            USING ERRCODE = 'insufficient_privilege', HINT = 'clinres moves application tables only.';
    END IF;
    IF kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', source USING ERRCODE = 'wrong_object_type';
    END IF;
END
$$;

-- Whether role owns a schema it can trust with its tables: its own, one of a role it is a
-- member of (directly or not), or a superuser's. Superusers are not taken as members of
-- every role here: a superuser migrating into a schema another role made would hand
-- that role the moved tables.
CREATE FUNCTION clinres._trusted_schema_owner(owner oid, role oid) RETURNS boolean
    LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE memberships AS (
        SELECT role AS roleid
        UNION
        SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN memberships ms ON m.member = ms.roleid
    )
    SELECT owner IN (SELECT roleid FROM memberships)
        OR EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid = owner AND r.rolsuper)
$$;
COMMENT ON FUNCTION clinres._trusted_schema_owner(oid, oid) IS
    'true when owner is role, a role that role is a member of, or a superuser';

-- Refuses a target schema that is a system schema, one owned by a role the caller does not
-- act for, or not a module schema unless allowed.
CREATE FUNCTION clinres._check_target(target_schema name, allow_any_schema boolean)
    RETURNS boolean LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner oid;
BEGIN
    IF target_schema IS NULL OR target_schema = '' THEN
        RAISE EXCEPTION 'target schema must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF allow_any_schema IS NULL THEN
        RAISE EXCEPTION 'allow_any_schema must be true or false, not NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF target_schema IN ('pg_catalog', 'information_schema', 'clinres') OR target_schema LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'permission denied: cannot move tables into schema "%"', target_schema
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT allow_any_schema AND NOT EXISTS (SELECT FROM clinres.module_schemas m WHERE m.schema_name = target_schema) THEN
        RAISE EXCEPTION 'schema "%" is not a module schema', target_schema
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of clinres.module_schemas, or pass allow_any_schema => true.';
    END IF;
    SELECT n.nspowner INTO owner FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema;
    IF FOUND AND NOT clinres._trusted_schema_owner(owner, current_user::regrole) THEN
        RAISE EXCEPTION 'permission denied: schema "%" is owned by role %', target_schema, owner::regrole
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Tables moved into it could be dropped by %s, which %s is not a member of.',
                                             owner::regrole, current_user::regrole),
                  HINT = 'Have the schema dropped or given to the migrating role (ALTER SCHEMA ... OWNER TO).';
    END IF;
    RETURN true;
END
$$;

CREATE FUNCTION clinres.plan_table_move(source regclass, target_schema name, allow_any_schema boolean DEFAULT false)
    RETURNS name LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src record;
BEGIN
    SELECT * INTO src FROM clinres._check_movable(source);
    PERFORM clinres._check_target(target_schema, allow_any_schema);
    IF src.nsp = target_schema THEN
        RAISE EXCEPTION 'table % is already in schema "%"', source, target_schema
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO clinres.schema_plan (source_schema, table_name, target_schema)
    VALUES (src.nsp, src.rel, target_schema)
    ON CONFLICT (source_schema, table_name) DO UPDATE SET target_schema = EXCLUDED.target_schema, planned_at = pg_catalog.now();
    RETURN target_schema;
END
$$;
COMMENT ON FUNCTION clinres.plan_table_move(regclass, name, boolean) IS
    'adds (or changes) one move of the plan; the target must be a module schema unless allow_any_schema; returns the target schema';

-- The plan as it stands: explicit moves plus the platform's defaults for tables that
-- exist in public, in the order migrate_schemas would run them (referenced first). The
-- partitions of a planned partitioned table, at every level, move with it. Read by the
-- roles that own the tables, so every call and operator is qualified.
CREATE VIEW clinres.schema_migration_plan AS
WITH RECURSIVE planned AS (
    SELECT p.source_schema, p.table_name, p.target_schema, true AS explicit
      FROM clinres.schema_plan p
    UNION ALL
    SELECT 'public'::pg_catalog.name, d.table_name, d.target_schema, false
      FROM clinres.schema_plan_defaults d
     WHERE pg_catalog.to_regclass(pg_catalog.format('public.%I', d.table_name)) IS NOT NULL
       AND NOT EXISTS (SELECT FROM clinres.schema_plan p
                        WHERE p.source_schema OPERATOR(pg_catalog.=) 'public'::pg_catalog.name
                          AND p.table_name OPERATOR(pg_catalog.=) d.table_name)
       AND NOT EXISTS (SELECT FROM clinres.schema_journal j
                        WHERE j.table_name OPERATOR(pg_catalog.=) d.table_name
                          AND j.source_schema OPERATOR(pg_catalog.=) 'public'::pg_catalog.name)
), roots AS (
    SELECT pl.*, pg_catalog.to_regclass(pg_catalog.format('%I.%I', pl.source_schema, pl.table_name)) AS relid
      FROM planned pl
), resolved AS (
    SELECT r.source_schema, r.table_name, r.target_schema, r.explicit, r.relid FROM roots r
    UNION ALL
    SELECT n.nspname, c.relname, r.target_schema, false, pt.relid
      FROM roots r
     CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.relid) pt
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pt.relid::pg_catalog.oid
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE pt.level OPERATOR(pg_catalog.>) 0
       AND NOT EXISTS (SELECT FROM clinres.schema_plan p
                        WHERE p.source_schema OPERATOR(pg_catalog.=) n.nspname
                          AND p.table_name OPERATOR(pg_catalog.=) c.relname)
), edges AS (   -- referencing -> referenced, both planned
    SELECT DISTINCT c.conrelid AS child, c.confrelid AS parent
      FROM pg_catalog.pg_constraint c
     WHERE c.contype OPERATOR(pg_catalog.=) 'f'::pg_catalog."char"
       AND c.conrelid OPERATOR(pg_catalog.<>) c.confrelid
       AND c.conrelid OPERATOR(pg_catalog.=) ANY (SELECT relid::pg_catalog.oid FROM resolved)
       AND c.confrelid OPERATOR(pg_catalog.=) ANY (SELECT relid::pg_catalog.oid FROM resolved)
), depth AS (
    SELECT r.relid::pg_catalog.oid AS relid, 0 AS level FROM resolved r
    UNION ALL
    SELECT e.child, d.level OPERATOR(pg_catalog.+) 1
      FROM depth d JOIN edges e ON e.parent OPERATOR(pg_catalog.=) d.relid
     WHERE d.level OPERATOR(pg_catalog.<) 100
)
SELECT (pg_catalog.row_number() OVER (ORDER BY pg_catalog.max(d.level), r.source_schema, r.table_name))::int AS step,
       r.source_schema, r.table_name, r.target_schema, r.explicit, r.relid
  FROM resolved r LEFT JOIN depth d ON d.relid OPERATOR(pg_catalog.=) r.relid::pg_catalog.oid
 GROUP BY r.source_schema, r.table_name, r.target_schema, r.explicit, r.relid;
COMMENT ON VIEW clinres.schema_migration_plan IS 'the moves migrate_schemas would make, referenced tables first';

CREATE FUNCTION clinres.create_module_schemas() RETURNS TABLE (schema_name name, created boolean)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    s name;
    n int := 0;
BEGIN
    FOR s IN SELECT m.schema_name FROM clinres.module_schemas m ORDER BY m.kind DESC, m.schema_name LOOP
        schema_name := s;
        created := NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = s);
        IF created THEN
            EXECUTE pg_catalog.format('CREATE SCHEMA %I', s);
            INSERT INTO clinres.created_schemas (schema_name) VALUES (s) ON CONFLICT DO NOTHING;
            n := n + 1;
        END IF;
        RETURN NEXT;
    END LOOP;
    IF n = 0 THEN
        RAISE NOTICE 'all module schemas already exist; nothing was created';
    END IF;
END
$$;
COMMENT ON FUNCTION clinres.create_module_schemas() IS 'creates the module schemas that are missing (idempotent)';

-- Takes ACCESS EXCLUSIVE on tbl, turning a lock timeout into a clear error.
CREATE FUNCTION clinres._lock_for_move(tbl regclass) RETURNS boolean
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', tbl);
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'could not lock table % within lock_timeout (%)', tbl, pg_catalog.current_setting('lock_timeout')
        USING ERRCODE = 'lock_not_available',
              DETAIL = 'Another transaction holds a lock on it; nothing has been moved.',
              HINT = 'Retry when the long-running transaction has ended, or raise lock_timeout.';
END
$$;

CREATE FUNCTION clinres.migrate_schemas(dry_run boolean DEFAULT true, compat_views boolean DEFAULT false,
                                        exact_counts boolean DEFAULT true)
    RETURNS TABLE (step int, source text, target text, row_count bigint, foreign_keys int, indexes int, action text)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p clinres.schema_migration_plan;
    plan clinres.schema_migration_plan[] := ARRAY(SELECT sp FROM clinres.schema_migration_plan sp ORDER BY sp.step);
    base int := coalesce((SELECT pg_catalog.max(j.step) FROM clinres.schema_journal j), 0);
BEGIN
    IF dry_run IS NULL OR compat_views IS NULL OR exact_counts IS NULL THEN
        RAISE EXCEPTION 'dry_run, compat_views and exact_counts must be true or false, not NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Check every move before making any.
    FOREACH p IN ARRAY plan LOOP
        IF p.relid IS NULL THEN
            RAISE EXCEPTION 'planned table %.% does not exist', pg_catalog.quote_ident(p.source_schema), pg_catalog.quote_ident(p.table_name)
                USING ERRCODE = 'undefined_table', HINT = 'Remove it from clinres.schema_plan or create it.';
        END IF;
        PERFORM clinres._check_movable(p.relid);
        -- module-schema membership was checked when the move was planned
        PERFORM clinres._check_target(p.target_schema, true);
        IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', p.target_schema, p.table_name)) IS NOT NULL THEN
            RAISE EXCEPTION 'schema "%" already has a relation named "%"', p.target_schema, p.table_name
                USING ERRCODE = 'duplicate_table', DETAIL = 'Nothing has been moved.';
        END IF;
        IF compat_views AND p.source_schema <> 'public' THEN
            RAISE EXCEPTION 'compatibility views are only made for tables moved out of public'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    -- Lock in plan order, so that concurrent migrations cannot deadlock each other.
    IF NOT dry_run THEN
        FOREACH p IN ARRAY plan LOOP
            PERFORM clinres._lock_for_move(p.relid);
        END LOOP;
    END IF;
    FOREACH p IN ARRAY plan LOOP
        step := base + p.step;
        source := pg_catalog.format('%I.%I', p.source_schema, p.table_name);
        target := pg_catalog.format('%I.%I', p.target_schema, p.table_name);
        IF exact_counts THEN
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', p.relid) INTO row_count;
        ELSE
            row_count := (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class c WHERE c.oid = p.relid);
        END IF;
        foreign_keys := (SELECT pg_catalog.count(*) FROM pg_constraint c WHERE c.contype = 'f' AND (c.conrelid = p.relid OR c.confrelid = p.relid));
        indexes := (SELECT pg_catalog.count(*) FROM pg_index i WHERE i.indrelid = p.relid);
        IF dry_run THEN
            action := 'would move' ||
                      CASE WHEN NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = p.target_schema)
                           THEN pg_catalog.format(' (would create schema %I)', p.target_schema) ELSE '' END ||
                      CASE WHEN compat_views THEN pg_catalog.format('; would leave view public.%I', p.table_name) ELSE '' END;
        ELSE
            IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = p.target_schema) THEN
                EXECUTE pg_catalog.format('CREATE SCHEMA %I', p.target_schema);
                INSERT INTO clinres.created_schemas (schema_name) VALUES (p.target_schema) ON CONFLICT DO NOTHING;
            END IF;
            EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA %I', p.relid, p.target_schema);
            action := 'moved';
            IF compat_views THEN
                PERFORM clinres._create_compat_view(p.relid, p.table_name);
                action := action || pg_catalog.format('; view public.%I', p.table_name);
            END IF;
            INSERT INTO clinres.schema_journal (step, table_name, source_schema, target_schema, row_count, row_count_exact, compat_view)
            VALUES (step, p.table_name, p.source_schema, p.target_schema, row_count, exact_counts, compat_views);
            DELETE FROM clinres.schema_plan sp WHERE sp.source_schema = p.source_schema AND sp.table_name = p.table_name;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.migrate_schemas(boolean, boolean, boolean) IS
    'runs the plan (referenced tables first) with ALTER TABLE ... SET SCHEMA in the caller''s transaction; dry_run (default) changes nothing';

-- Leaves public.<name> as an auto-updatable view of the moved table, with its grants.
CREATE FUNCTION clinres._create_compat_view(tbl regclass, view_name name) RETURNS name
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g record;
BEGIN
    EXECUTE pg_catalog.format('CREATE VIEW public.%I WITH (security_invoker = true) AS SELECT * FROM %s', view_name, tbl);
    EXECUTE pg_catalog.format('COMMENT ON VIEW public.%I IS %L', view_name,
                   pg_catalog.format('clinres compatibility view of %s; dropped by clinres.rollback_schema_migration()', tbl));
    FOR g IN SELECT a.grantee, a.privilege_type FROM pg_class c, pg_catalog.aclexplode(c.relacl) a
              WHERE c.oid = tbl AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
                AND a.grantee <> c.relowner LOOP
        EXECUTE pg_catalog.format('GRANT %s ON public.%I TO %s', g.privilege_type, view_name,
                       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);  -- regrole's text is quoted
    END LOOP;
    RETURN view_name;
END
$$;

CREATE FUNCTION clinres.verify_schema_isolation(exact_counts boolean DEFAULT true)
    RETURNS TABLE (check_name text, object text, ok boolean, detail text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    j record;
    relid regclass;
    nsp oid;
    n bigint;
    r record;
BEGIN
    FOR r IN SELECT m.schema_name, n.nspowner FROM clinres.module_schemas m
               LEFT JOIN pg_namespace n ON n.nspname = m.schema_name ORDER BY m.schema_name LOOP
        check_name := 'schema exists'; object := pg_catalog.quote_ident(r.schema_name);
        ok := r.nspowner IS NOT NULL;
        detail := CASE WHEN ok THEN NULL ELSE 'run clinres.create_module_schemas()' END;
        RETURN NEXT;
        IF ok THEN
            check_name := 'schema owner';
            ok := clinres._trusted_schema_owner(r.nspowner, current_user::regrole);
            detail := pg_catalog.format('owned by %s', r.nspowner::regrole) ||
                      CASE WHEN ok THEN '' ELSE pg_catalog.format(', which %s is not a member of', current_user::regrole) END;
            RETURN NEXT;
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM clinres.schema_journal) THEN
        check_name := 'migration journaled'; object := NULL; ok := false;
        detail := 'no migration has been run'; RETURN NEXT;
    END IF;
    FOR r IN SELECT * FROM clinres.schema_migration_plan ORDER BY 1 LOOP
        check_name := 'plan completed'; object := pg_catalog.format('%I.%I', r.source_schema, r.table_name); ok := false;
        detail := pg_catalog.format('still planned to move to %I', r.target_schema); RETURN NEXT;
    END LOOP;
    FOR j IN SELECT * FROM clinres.schema_journal ORDER BY step LOOP
        relid := pg_catalog.to_regclass(pg_catalog.format('%I.%I', j.target_schema, j.table_name));
        object := pg_catalog.format('%I.%I', j.target_schema, j.table_name);
        check_name := 'table in target'; ok := relid IS NOT NULL;
        detail := CASE WHEN ok THEN NULL ELSE 'not found' END; RETURN NEXT;
        check_name := 'table not in source';
        ok := NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
                           WHERE ns.nspname = j.source_schema AND c.relname = j.table_name AND c.relkind IN ('r', 'p'));
        detail := CASE WHEN ok THEN NULL ELSE pg_catalog.format('a table %I.%I exists', j.source_schema, j.table_name) END;
        RETURN NEXT;
        IF relid IS NULL THEN
            CONTINUE;
        END IF;
        SELECT c.relnamespace INTO nsp FROM pg_class c WHERE c.oid = relid AND c.relkind = 'p';
        IF FOUND THEN
            check_name := 'partitions moved';
            SELECT pg_catalog.count(*), pg_catalog.string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text)
                       FILTER (WHERE c.relnamespace <> nsp)
              INTO n, detail
              FROM pg_catalog.pg_partition_tree(relid) pt JOIN pg_class c ON c.oid = pt.relid
             WHERE pt.level > 0;
            ok := detail IS NULL;
            detail := coalesce('left behind: ' || detail, pg_catalog.format('%s partitions', n));
            RETURN NEXT;
        END IF;
        IF j.row_count_exact AND exact_counts THEN
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', relid) INTO n;
            check_name := 'row count'; ok := n = j.row_count;
            detail := pg_catalog.format('%s rows, %s journaled', n, j.row_count); RETURN NEXT;
        END IF;
        FOR r IN SELECT c.conname, c.convalidated, c.conrelid::regclass AS child, c.confrelid::regclass AS parent,
                        cn.nspname AS child_nsp, pn.nspname AS parent_nsp
                   FROM pg_constraint c
                   JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
                   JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                  WHERE c.contype = 'f' AND c.conrelid = relid ORDER BY c.conname LOOP
            check_name := 'foreign key validated'; object := pg_catalog.format('%s.%I', relid, r.conname); ok := r.convalidated;
            detail := pg_catalog.format('references %s', r.parent) ||
                      CASE WHEN r.child_nsp <> r.parent_nsp THEN ' (cross-schema)' ELSE '' END ||
                      CASE WHEN r.convalidated THEN '' ELSE '; NOT VALID' END;
            RETURN NEXT;
        END LOOP;
        object := pg_catalog.format('%I.%I', j.target_schema, j.table_name);
        check_name := 'indexes valid';
        ok := NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = relid AND NOT (i.indisvalid AND i.indisready));
        detail := pg_catalog.format('%s indexes', (SELECT pg_catalog.count(*) FROM pg_index i WHERE i.indrelid = relid)) ||
                  CASE WHEN ok THEN '' ELSE '; invalid: ' || (SELECT pg_catalog.string_agg(i.indexrelid::regclass::text, ', ')
                                                            FROM pg_index i WHERE i.indrelid = relid AND NOT i.indisvalid) END;
        RETURN NEXT;
        check_name := 'owned sequences moved';
        SELECT pg_catalog.count(*), pg_catalog.string_agg(s.oid::regclass::text, ', ') FILTER (WHERE s.relnamespace <> c.relnamespace)
          INTO n, detail
          FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
          JOIN pg_class c ON c.oid = d.refobjid
         WHERE d.classid = 'pg_class'::regclass AND d.refobjid = relid AND d.deptype IN ('a', 'i');
        ok := detail IS NULL;
        detail := coalesce('left behind: ' || detail, pg_catalog.format('%s sequences', n));
        RETURN NEXT;
        IF j.compat_view THEN
            check_name := 'compatibility view'; object := pg_catalog.format('public.%I', j.table_name);
            ok := EXISTS (SELECT FROM pg_class c WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('public.%I', j.table_name)) AND c.relkind = 'v');
            detail := CASE WHEN ok THEN NULL ELSE 'missing' END; RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.verify_schema_isolation(boolean) IS
    'the migration checklist as a report: one row per check, ok = false with a detail when something is wrong';

CREATE FUNCTION clinres.rollback_schema_migration()
    RETURNS TABLE (step int, source text, target text, action text)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    j record;
    relid regclass;
    s name;
BEGIN
    FOR j IN SELECT * FROM clinres.schema_journal ORDER BY step DESC LOOP
        relid := pg_catalog.to_regclass(pg_catalog.format('%I.%I', j.target_schema, j.table_name));
        IF relid IS NULL THEN
            RAISE EXCEPTION 'journaled table %.% is missing', pg_catalog.quote_ident(j.target_schema), pg_catalog.quote_ident(j.table_name)
                USING ERRCODE = 'undefined_table', DETAIL = 'Nothing has been moved back.';
        END IF;
        PERFORM clinres._lock_for_move(relid);
    END LOOP;
    FOR j IN SELECT * FROM clinres.schema_journal ORDER BY step DESC LOOP
        step := j.step;
        source := pg_catalog.format('%I.%I', j.target_schema, j.table_name);
        target := pg_catalog.format('%I.%I', j.source_schema, j.table_name);
        action := 'moved back';
        IF j.compat_view AND EXISTS (SELECT FROM pg_class c WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('public.%I', j.table_name))
                                                           AND c.relkind = 'v') THEN
            EXECUTE pg_catalog.format('DROP VIEW public.%I', j.table_name);
            action := action || '; view dropped';
        END IF;
        IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', j.source_schema, j.table_name)) IS NOT NULL THEN
            RAISE EXCEPTION 'schema "%" already has a relation named "%"', j.source_schema, j.table_name
                USING ERRCODE = 'duplicate_table', DETAIL = 'Nothing has been moved back.';
        END IF;
        EXECUTE pg_catalog.format('ALTER TABLE %I.%I SET SCHEMA %I', j.target_schema, j.table_name, j.source_schema);
        DELETE FROM clinres.schema_journal sj WHERE sj.step = j.step;
        RETURN NEXT;
    END LOOP;
    -- Drop the schemas clinres created, when empty; never CASCADE.
    FOR s IN SELECT c.schema_name FROM clinres.created_schemas c ORDER BY 1 LOOP
        step := NULL; source := pg_catalog.quote_ident(s); target := NULL;
        BEGIN
            EXECUTE pg_catalog.format('DROP SCHEMA %I', s);
            DELETE FROM clinres.created_schemas c WHERE c.schema_name = s;
            action := 'schema dropped';
        EXCEPTION
            WHEN dependent_objects_still_exist THEN action := 'schema kept: not empty';
            WHEN invalid_schema_name THEN
                DELETE FROM clinres.created_schemas c WHERE c.schema_name = s;
                action := 'schema already gone';
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.rollback_schema_migration() IS
    'moves every journaled table back (reverse order), drops compatibility views and the empty schemas clinres created';

-- pg_dump: the journal, the plan and added schemas travel with the database.
UPDATE clinres.module_schemas SET builtin = true;
UPDATE clinres.schema_plan_defaults SET builtin = true;
SELECT pg_catalog.pg_extension_config_dump('clinres.module_schemas', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.schema_plan_defaults', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.created_schemas', '');
SELECT pg_catalog.pg_extension_config_dump('clinres.schema_plan', '');
SELECT pg_catalog.pg_extension_config_dump('clinres.schema_journal', '');

-- These change other tables' schemas: only for the roles that own those tables, which need
-- EXECUTE on them and on their helpers (the functions named with a leading underscore).
REVOKE ALL ON FUNCTION clinres.plan_table_move(regclass, name, boolean), clinres.create_module_schemas(),
    clinres.migrate_schemas(boolean, boolean, boolean), clinres.rollback_schema_migration(),
    clinres.verify_schema_isolation(boolean), clinres._check_movable(regclass), clinres._check_target(name, boolean),
    clinres._trusted_schema_owner(oid, oid), clinres._lock_for_move(regclass), clinres._create_compat_view(regclass, name)
    FROM PUBLIC;
REVOKE ALL ON clinres.module_schemas, clinres.created_schemas, clinres.schema_plan, clinres.schema_plan_defaults,
    clinres.schema_journal, clinres.schema_migration_plan FROM PUBLIC;

-- Connection usage (docs/reference.md), read in C++ from the backend status array.
CREATE FUNCTION clinres._connection_usage(
        OUT connections int, OUT max_connections int, OUT reserved_connections int, OUT available int,
        OUT usage_pct double precision, OUT alert_level text)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage';
CREATE VIEW clinres.connection_usage AS SELECT * FROM clinres._connection_usage();
COMMENT ON VIEW clinres.connection_usage IS
    'client connections against max_connections - superuser_reserved_connections, with the alert level (ok, warning, critical)';

CREATE FUNCTION clinres._connections_by_client()
    RETURNS TABLE (client_addr inet, application_name text, usename name, datname name, state text, connections int)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connections_by_client';
CREATE VIEW clinres.connections_by_client AS SELECT * FROM clinres._connections_by_client();
COMMENT ON VIEW clinres.connections_by_client IS
    'client connections grouped by machine, application, role, database and state; other roles'' sessions only for pg_read_all_stats';

CREATE FUNCTION clinres.pool_size(max_instances int, max_connections int DEFAULT NULL) RETURNS int
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_pool_size';
COMMENT ON FUNCTION clinres.pool_size(int, int) IS
    'per-instance pool size: usable connections (max_connections - superuser_reserved_connections, or the given total) / max_instances';

CREATE FUNCTION clinres._connection_usage_history(
        OUT sampled_at timestamptz, OUT connections int, OUT max_connections int, OUT reserved_connections int,
        OUT available int, OUT usage_pct double precision, OUT alert_level text, OUT monitor text)
    RETURNS SETOF record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage_history';
CREATE VIEW clinres.connection_usage_history AS SELECT * FROM clinres._connection_usage_history();
COMMENT ON VIEW clinres.connection_usage_history IS
    'samples of the background monitor (clinres in shared_preload_libraries), oldest first';

-- Privileges: an application (clinres_app) reads the usage views and sizes its pool; PUBLIC
-- gets nothing (a view's functions are checked against the querying role, hence both).
REVOKE ALL ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() FROM PUBLIC;
REVOKE ALL ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() TO clinres_app;
GRANT SELECT ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history TO clinres_app;

-- Diagnostics: proves that errors cross the C++/PostgreSQL bridge intact.
CREATE FUNCTION clinres._bridge_selftest(mode text) RETURNS int
    LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'clinres_bridge_selftest';
COMMENT ON FUNCTION clinres._bridge_selftest(text) IS
    'raises an error deep in C++ (cpp), in PostgreSQL under C++ (pg) or a std::exception (std); live = C++ objects not yet destroyed';
REVOKE ALL ON FUNCTION clinres._bridge_selftest(text) FROM PUBLIC;

-- Sessions (docs/sessions.md): login, signed session tokens, one-call requests and
-- clinres's denial marker.

-- The keys that sign session tokens. Only the extension's owner can read them; they
-- are not dumped (a restored database makes a new key, so old tokens stop working).
CREATE TABLE clinres.session_keys (
    id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret      bytea NOT NULL CHECK (pg_catalog.length(secret) OPERATOR(pg_catalog.>=) 32),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    retired_at  timestamptz
);
COMMENT ON TABLE clinres.session_keys IS
    'HMAC keys of session tokens: the newest unretired key signs, any key not past retired_at verifies';
REVOKE ALL ON TABLE clinres.session_keys FROM PUBLIC;

-- The first key, and clinres.login, name pgcrypto's functions through its schema.
DO $$
DECLARE
    crypto name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                     WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto');
BEGIN
    EXECUTE pg_catalog.format('INSERT INTO clinres.session_keys (secret) VALUES (%I.gen_random_bytes(32))', crypto);

    EXECUTE pg_catalog.format($fmt$
CREATE FUNCTION clinres.rotate_session_key(grace interval DEFAULT NULL) RETURNS int
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $body$
DECLARE
    new_id int;
BEGIN
    -- Every earlier key verifies for at most grace from now (a zero grace revokes them all).
    UPDATE clinres.session_keys k
       SET retired_at = LEAST(k.retired_at, pg_catalog.now() OPERATOR(pg_catalog.+)
                        coalesce(grace, pg_catalog.current_setting('clinres.session_ttl', true)::pg_catalog.interval,
                                 '8 hours'));
    DELETE FROM clinres.session_keys k WHERE k.retired_at OPERATOR(pg_catalog.<=) pg_catalog.now();
    INSERT INTO clinres.session_keys (secret) VALUES (%1$I.gen_random_bytes(32)) RETURNING id INTO new_id;
    RETURN new_id;
END
$body$;

CREATE FUNCTION clinres.login(identifier text, password text, tenant_code text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    SET clinres.user_id = '' SET clinres.tenant_id = ''
AS $body$
DECLARE
    dummy text := clinres._dummy_hash(); -- loads clinres, which defines the settings read below
    max_failures int := pg_catalog.current_setting('clinres.login_max_failures')::int;
    lockout interval := pg_catalog.current_setting('clinres.login_lockout')::pg_catalog.interval;
    u record;
    hash text;
    ok boolean;
    tenant uuid;
    token text;
    profile jsonb;
BEGIN
    IF pg_catalog.strpos(identifier, '@') OPERATOR(pg_catalog.>) 0 THEN
        SELECT x.id, x.password_hash, x.status, x.platform_role, x.locked_until INTO u
          FROM clinres.users x
         WHERE pg_catalog.lower(x.email) OPERATOR(pg_catalog.=) pg_catalog.lower(identifier);
    ELSE
        SELECT x.id, x.password_hash, x.status, x.platform_role, x.locked_until INTO u
          FROM clinres.users x
         WHERE x.phone OPERATOR(pg_catalog.=) identifier;
    END IF;
    -- Exactly one bcrypt verification on every path, so that every failure takes as long.
    hash := coalesce(u.password_hash, dummy);
    ok := %1$I.crypt(coalesce(password, ''), hash) OPERATOR(pg_catalog.=) hash
          AND password IS NOT NULL AND u.password_hash IS NOT NULL;
    IF u.id IS NULL OR u.locked_until OPERATOR(pg_catalog.>) pg_catalog.now() THEN
        RETURN NULL;
    END IF;
    IF NOT ok THEN
        -- Counted and kept: nothing raises, so this write commits with the caller.
        UPDATE clinres.users x
           SET failed_logins = CASE WHEN x.failed_logins OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) max_failures
                                    THEN 0 ELSE x.failed_logins OPERATOR(pg_catalog.+) 1 END,
               locked_until = CASE WHEN x.failed_logins OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) max_failures
                                   THEN pg_catalog.now() OPERATOR(pg_catalog.+) lockout END
         WHERE x.id OPERATOR(pg_catalog.=) u.id;
        RETURN NULL;
    END IF;
    IF u.status OPERATOR(pg_catalog.<>) 'active' THEN
        RETURN NULL;
    END IF;
    IF tenant_code IS NOT NULL THEN
        SELECT t.id INTO tenant FROM clinres.tenants t
         WHERE t.code OPERATOR(pg_catalog.=) tenant_code AND t.status OPERATOR(pg_catalog.=) 'active'
           AND (u.platform_role OPERATOR(pg_catalog.=) 'SUPER_ADMIN'
                OR EXISTS (SELECT FROM clinres.user_tenants m
                            WHERE m.user_id OPERATOR(pg_catalog.=) u.id AND m.tenant_id OPERATOR(pg_catalog.=) t.id
                              AND m.status OPERATOR(pg_catalog.=) 'active'));
    ELSE
        -- The landing tenant: an active membership with a module to open first, oldest first.
        SELECT t.id INTO tenant FROM clinres.user_tenants m
          JOIN clinres.tenants t ON t.id OPERATOR(pg_catalog.=) m.tenant_id
         WHERE m.user_id OPERATOR(pg_catalog.=) u.id AND m.status OPERATOR(pg_catalog.=) 'active'
           AND t.status OPERATOR(pg_catalog.=) 'active'
         ORDER BY clinres.landing_module(u.id, t.id) IS NULL, m.joined_at, t.code
         LIMIT 1;
        IF tenant IS NULL AND u.platform_role OPERATOR(pg_catalog.=) 'SUPER_ADMIN' THEN
            SELECT t.id INTO tenant FROM clinres.tenants t
             WHERE t.code OPERATOR(pg_catalog.=) 'PUBLIC' AND t.status OPERATOR(pg_catalog.=) 'active';
        END IF;
    END IF;
    IF tenant IS NULL THEN
        RETURN NULL;
    END IF;
    token := clinres._sign_session(u.id, tenant);
    -- session_profile answers for the context user: the token sets it, confined to this
    -- call by login's SET clauses on the context (the caller's context is untouched).
    PERFORM clinres.set_session(token);
    profile := clinres.session_profile(u.id, tenant) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
        'token', token,
        'token_expires_at', pg_catalog.to_timestamp(pg_catalog.split_part(token, '.', 4)::double precision));
    -- Last: this write tells every session's access cache that users changed.
    UPDATE clinres.users x SET last_login_at = pg_catalog.now(), failed_logins = 0, locked_until = NULL
     WHERE x.id OPERATOR(pg_catalog.=) u.id;
    RETURN profile;
END
$body$;
$fmt$, crypto);
END
$$;
COMMENT ON FUNCTION clinres.rotate_session_key(interval) IS
    'makes a new signing key; earlier keys keep verifying for grace (default clinres.session_ttl), then are deleted; returns the new key id';
COMMENT ON FUNCTION clinres.login(text, text, text) IS
    'email (any case) or phone and password -> session_profile plus a signed session token, or NULL for every kind of failure, in the same time';
REVOKE ALL ON FUNCTION clinres.rotate_session_key(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION clinres.login(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.login(text, text, text) TO clinres_app;

CREATE FUNCTION clinres._dummy_hash() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_dummy_hash';
COMMENT ON FUNCTION clinres._dummy_hash() IS 'a bcrypt setting at clinres.bcrypt_cost that no password matches';
REVOKE ALL ON FUNCTION clinres._dummy_hash() FROM PUBLIC;

CREATE FUNCTION clinres._sign_session(user_id uuid, tenant_id uuid) RETURNS text
    LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'clinres_sign_session';
COMMENT ON FUNCTION clinres._sign_session(uuid, uuid) IS 'a session token for the user and tenant (login calls it; nobody else may)';
REVOKE ALL ON FUNCTION clinres._sign_session(uuid, uuid) FROM PUBLIC;

-- No SET clause naming clinres.user_id/tenant_id: it would confine the SET LOCAL to the call.
CREATE FUNCTION clinres.set_session(token text) RETURNS uuid
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_set_session';
COMMENT ON FUNCTION clinres.set_session(text) IS
    'verifies a session token from login and sets the context for this transaction; returns the user id (28000 if the token is invalid or expired)';
REVOKE ALL ON FUNCTION clinres.set_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.set_session(text) TO clinres_app;

CREATE FUNCTION clinres.begin_request(user_id uuid, tenant_id uuid, module_code text) RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_begin_request';
COMMENT ON FUNCTION clinres.begin_request(uuid, uuid, text) IS
    'set_context for this transaction + require_module in one call; returns user_id, tenant_id, module, role, platform_role, permissions, modules';
REVOKE ALL ON FUNCTION clinres.begin_request(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.begin_request(uuid, uuid, text) TO clinres_app;

CREATE FUNCTION clinres.begin_request(token text, module_code text) RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_begin_request_token';
COMMENT ON FUNCTION clinres.begin_request(text, text) IS
    'set_session + require_module in one call; returns what begin_request(user, tenant, module) returns';
REVOKE ALL ON FUNCTION clinres.begin_request(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.begin_request(text, text) TO clinres_app;

CREATE FUNCTION clinres._deny(kind text, what text, message text, detail text DEFAULT NULL, hint text DEFAULT NULL)
    RETURNS boolean LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_deny';
COMMENT ON FUNCTION clinres._deny(text, text, text, text, text) IS
    'raises 42501 with the denial marker: schema_name clinres, table_name kind, column_name what (for clinres''s own PL/pgSQL)';
REVOKE ALL ON FUNCTION clinres._deny(text, text, text, text, text) FROM PUBLIC;

-- Scale-out on Citus (docs/scale-out.md): the catalog as reference tables, module policies
-- in the form Citus accepts, the context sent to the workers, and a health check.

-- clinres's tables in foreign-key order (a table after every table it references).
CREATE FUNCTION clinres._catalog_tables_in_fk_order() RETURNS SETOF regclass
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE tables AS (
        SELECT c.oid FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                                     AND d.objid OPERATOR(pg_catalog.=) c.oid
                                     AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                                     AND d.deptype OPERATOR(pg_catalog.=) 'e'
          JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                                        AND e.extname OPERATOR(pg_catalog.=) 'clinres'
         WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}')
           AND c.relnamespace OPERATOR(pg_catalog.=) 'clinres'::pg_catalog.regnamespace
    ), refs AS (
        SELECT DISTINCT f.conrelid AS child, f.confrelid AS parent FROM pg_catalog.pg_constraint f
         WHERE f.contype OPERATOR(pg_catalog.=) 'f' AND f.conrelid OPERATOR(pg_catalog.<>) f.confrelid
           AND f.conrelid IN (SELECT oid FROM tables) AND f.confrelid IN (SELECT oid FROM tables)
    ), depth (rel, depth) AS (
        SELECT t.oid, 0 FROM tables t
        UNION ALL
        SELECT r.child, d.depth OPERATOR(pg_catalog.+) 1 FROM depth d JOIN refs r ON r.parent OPERATOR(pg_catalog.=) d.rel
    )
    SELECT d.rel::pg_catalog.regclass FROM depth d
     GROUP BY d.rel ORDER BY pg_catalog.max(d.depth), d.rel::pg_catalog.regclass::pg_catalog.text
$$;
REVOKE ALL ON FUNCTION clinres._catalog_tables_in_fk_order() FROM PUBLIC;

-- Raises 55000 unless this database is a Citus coordinator's; true otherwise.
CREATE FUNCTION clinres._require_citus_coordinator(caller text) RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'extension "citus" is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s works on a Citus coordinator only.', caller),
                  HINT = 'Without Citus there is nothing to do: clinres''s catalog is already where every query reads it.';
    END IF;
    IF (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g) OPERATOR(pg_catalog.<>) 0 THEN
        RAISE EXCEPTION '% must run on the Citus coordinator', caller
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'This node is a Citus worker.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node n WHERE n.groupid OPERATOR(pg_catalog.=) 0) THEN
        RAISE EXCEPTION 'the Citus coordinator is not in pg_dist_node'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Without it the coordinator holds no copy of the reference tables and never hears of catalog changes.',
                  HINT = 'Run SELECT citus_set_coordinator_host(''<host>'', <port>) first.';
    END IF;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION clinres._require_citus_coordinator(text) FROM PUBLIC;

-- Turns the catalog into Citus reference tables (docs/scale-out.md). Runs as the caller
-- (a superuser or the extension's owner) in one transaction; each step is reported
-- (so Citus's notices about each table are kept quiet).
CREATE FUNCTION clinres.distribute() RETURNS TABLE (step int, object text, action text)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $$
DECLARE
    rel pg_catalog.regclass;
    made pg_catalog.regclass[] := '{}';
    pol record;
    is_reference boolean;
    missing int;
BEGIN
    PERFORM clinres._require_citus_coordinator('clinres.distribute()');
    -- Citus refuses tables with triggers, and converts a local foreign-key graph that the
    -- workers (where CREATE EXTENSION already made the tables) cannot take: both settings
    -- for this transaction only.
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM pg_catalog.set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
    step := 0;
    FOR rel IN SELECT t FROM clinres._catalog_tables_in_fk_order() t LOOP
        step := step OPERATOR(pg_catalog.+) 1;
        object := rel::pg_catalog.text;
        SELECT p.partmethod OPERATOR(pg_catalog.=) 'n' AND p.repmodel OPERATOR(pg_catalog.=) 't' INTO is_reference
          FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) rel;
        IF NOT FOUND THEN
            PERFORM pg_catalog.create_reference_table(rel);
            made := made OPERATOR(pg_catalog.||) rel;
            action := 'made a reference table';
        ELSIF is_reference THEN
            action := 'already a reference table';
        ELSE
            RAISE EXCEPTION 'table % is distributed, but not as a reference table', rel
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'clinres''s tables must be reference tables: undistribute it (undistribute_table) and run clinres.distribute() again.';
        END IF;
        RETURN NEXT;
    END LOOP;
    -- The rows a shell kept on the coordinator are hidden by Citus but still on disk.
    FOREACH rel IN ARRAY made LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(rel);
        step := step OPERATOR(pg_catalog.+) 1;
        object := rel::pg_catalog.text;
        action := 'removed the local rows left in the shell';
        RETURN NEXT;
    END LOOP;
    -- A node added after the tables were made has no copy until they are replicated.
    SELECT pg_catalog.count(*) INTO missing FROM pg_catalog.pg_dist_node n
     WHERE n.isactive AND n.noderole OPERATOR(pg_catalog.=) 'primary'
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_dist_shard s
                         JOIN pg_catalog.pg_dist_placement pl ON pl.shardid OPERATOR(pg_catalog.=) s.shardid
                        WHERE s.logicalrelid OPERATOR(pg_catalog.=) 'clinres.modules'::pg_catalog.regclass
                          AND pl.groupid OPERATOR(pg_catalog.=) n.groupid);
    step := step OPERATOR(pg_catalog.+) 1;
    object := 'nodes';
    IF missing OPERATOR(pg_catalog.>) 0 THEN
        PERFORM pg_catalog.replicate_reference_tables('block_writes');
        action := pg_catalog.format('copied the reference tables to %s node(s) that had none', missing);
    ELSE
        action := 'every node has a copy of the reference tables';
    END IF;
    RETURN NEXT;
    -- Module policies with subqueries are refused on distributed tables: rewritten in
    -- the form without them (enable_module_rls chooses it once the catalog is distributed;
    -- called on a partitioned table, it rewrites its partitions too).
    FOR pol IN
        SELECT p.polrelid::pg_catalog.regclass AS tbl, m.code, a.attname
          FROM pg_catalog.pg_policy p
          JOIN clinres.modules m ON p.polname OPERATOR(pg_catalog.=) clinres._module_policy_name(m.code)
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.polrelid AND NOT c.relispartition
          JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass
                                     AND d.objid OPERATOR(pg_catalog.=) p.oid
                                     AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                                     AND d.refobjsubid OPERATOR(pg_catalog.>) 0
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid
                                        AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid
         WHERE pg_catalog.pg_get_expr(p.polqual, p.polrelid) OPERATOR(pg_catalog.~) 'SELECT'
         ORDER BY 1, 2
    LOOP
        PERFORM clinres.enable_module_rls(pol.tbl, pol.code, pol.attname);
        step := step OPERATOR(pg_catalog.+) 1;
        object := pg_catalog.format('policy %s on %s', clinres._module_policy_name(pol.code), pol.tbl);
        action := 'rewritten without subqueries';
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.distribute() IS
    'on a Citus coordinator: makes clinres''s tables reference tables in foreign-key order, copies them to every node and rewrites module policies for distributed tables; reports each step; safe to run again';
REVOKE ALL ON FUNCTION clinres.distribute() FROM PUBLIC;

-- One row per Citus node: whether it can answer clinres's questions.
CREATE FUNCTION clinres.citus_check() RETURNS TABLE (node text, ok boolean, detail text)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    version text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'clinres');
    tables pg_catalog.regclass[];
    distributed int;
    r record;
BEGIN
    PERFORM clinres._require_citus_coordinator('clinres.citus_check()');
    tables := ARRAY(SELECT t FROM clinres._catalog_tables_in_fk_order() t);
    SELECT pg_catalog.count(*) INTO distributed FROM pg_catalog.pg_dist_partition p
     WHERE p.logicalrelid OPERATOR(pg_catalog.=) ANY (tables)
       AND p.partmethod OPERATOR(pg_catalog.=) 'n' AND p.repmodel OPERATOR(pg_catalog.=) 't';
    FOR r IN
        SELECT n.nodename, n.nodeport, n.groupid, v.success, v.result,
               (SELECT pg_catalog.string_agg(t::pg_catalog.text, ', ' ORDER BY t::pg_catalog.text)
                  FROM pg_catalog.unnest(tables) t
                 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_dist_shard s
                                     JOIN pg_catalog.pg_dist_placement pl ON pl.shardid OPERATOR(pg_catalog.=) s.shardid
                                    WHERE s.logicalrelid OPERATOR(pg_catalog.=) t
                                      AND pl.groupid OPERATOR(pg_catalog.=) n.groupid)) AS without_copy
          FROM pg_catalog.pg_dist_node n
          LEFT JOIN pg_catalog.run_command_on_all_nodes(
                $q$SELECT coalesce((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'clinres'), 'none')$q$) v
                 ON v.nodeid OPERATOR(pg_catalog.=) n.nodeid
         WHERE n.isactive AND n.noderole OPERATOR(pg_catalog.=) 'primary'
         ORDER BY n.groupid, n.nodename, n.nodeport
    LOOP
        node := pg_catalog.format('%s:%s%s', r.nodename, r.nodeport, CASE WHEN r.groupid OPERATOR(pg_catalog.=) 0 THEN ' (coordinator)' ELSE '' END);
        ok := false;
        IF r.success IS NOT TRUE THEN
            detail := pg_catalog.format('unreachable: %s', coalesce(r.result, 'no answer'));
        ELSIF r.result OPERATOR(pg_catalog.=) 'none' THEN
            detail := 'extension clinres is not installed';
        ELSIF r.result OPERATOR(pg_catalog.<>) version THEN
            detail := pg_catalog.format('clinres %s, the coordinator has %s: run ALTER EXTENSION clinres UPDATE on the coordinator', r.result, version);
        ELSIF distributed OPERATOR(pg_catalog.<) pg_catalog.cardinality(tables) THEN
            detail := pg_catalog.format('%s of %s catalog tables are reference tables: run SELECT * FROM clinres.distribute()',
                                        distributed, pg_catalog.cardinality(tables));
        ELSIF r.without_copy IS NOT NULL THEN
            detail := pg_catalog.format('no copy of %s: run SELECT * FROM clinres.distribute()', r.without_copy);
        ELSE
            ok := true;
            detail := pg_catalog.format('clinres %s, %s reference tables with a local copy', version, distributed);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.citus_check() IS
    'on a Citus coordinator: one row per node, ok when it has clinres at the coordinator''s version and a copy of every catalog table';
REVOKE ALL ON FUNCTION clinres.citus_check() FROM PUBLIC;
