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
