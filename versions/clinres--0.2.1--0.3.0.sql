-- from 0.2.1
-- The upgrade from the last release (the line above) to the version in development: what cannot
-- be re-run. The build makes versions/clinres--0.2.1--<default_version>.sql from this file, with
-- every function of the SQL parts (scripts/sql-code.py) where the @code line stands, so that a
-- function is written once, in its feature's file. At a release the built script is frozen into
-- versions/ (and versions/SHA256SUMS), and this file starts again from the new release.
\echo Use "ALTER EXTENSION clinres UPDATE" to load this file. \quit

-- One authorization decision (src/clinres/access/decision.cpp): the PL/pgSQL rule copies go.
DROP FUNCTION clinres._is_super(uuid), clinres._may(uuid, uuid, text), clinres._require(uuid, uuid, text),
    clinres._guard_target(uuid, clinres.users, text, boolean), clinres._require_global(uuid, uuid, text),
    clinres._role_within_ceiling(uuid, uuid, text), clinres._require_ceiling(uuid, uuid, text);
-- The denial marker comes from the decision; _deny had no caller left.
DROP FUNCTION clinres._deny(text, text, text, text, text);
-- New arguments.
DROP FUNCTION clinres._visible_user(uuid, uuid), clinres._import_tenant(uuid, text), clinres.delete_user(uuid, uuid);

-- The tenants that removed a user, which may add it back.
CREATE TABLE clinres.former_members (
    tenant_id  uuid NOT NULL REFERENCES clinres.tenants (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES clinres.users (id) ON DELETE CASCADE,
    removed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    removed_by uuid,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX former_members_user_idx ON clinres.former_members (user_id);
COMMENT ON TABLE clinres.former_members IS 'memberships removed by a tenant administrator: that tenant may add the user back';
SELECT pg_catalog.pg_extension_config_dump('clinres.former_members', '');

-- A monitoring role reads the connection views (the functions behind them are granted below).
GRANT SELECT ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history TO pg_monitor;

-- login calls pgcrypto's crypt through a wrapper that names pgcrypto's schema (found here, as at
-- install), so that login itself is a plain function of session.sql and comes with the code below.
DO $$
BEGIN
    EXECUTE pg_catalog.format($f$
CREATE OR REPLACE FUNCTION clinres._crypt(password text, setting text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS 'SELECT %1$I.crypt($1, $2)'$f$,
        (SELECT n.nspname FROM pg_catalog.pg_extension e
           JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
          WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto'));
END
$$;

-- The audit trail (src/clinres/users/trail.sql): the reason and hash columns, and the chains.
ALTER TABLE clinres.admin_logs
    ADD COLUMN change_reason text,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN row_hash bytea;
COMMENT ON COLUMN clinres.admin_logs.prev_hash IS 'row_hash of the previous row of the chain (32 zero bytes for its first row)';
COMMENT ON COLUMN clinres.admin_logs.row_hash IS 'SHA-256 of clinres._admin_log_canonical of this row';
CREATE TABLE clinres.admin_log_chains (
    chain uuid PRIMARY KEY,
    xact  xid8 NOT NULL
);
COMMENT ON TABLE clinres.admin_log_chains IS 'the hash chains of admin_logs: each writer''s claim, which serializes the writers of a chain';
SELECT pg_catalog.pg_extension_config_dump('clinres.admin_log_chains', '');

-- src/clinres/access/access.sql
-- Module access (docs/reference.md). The C functions read the catalog as its owner,
-- so callers need EXECUTE only, never privileges on the tables.
CREATE OR REPLACE FUNCTION clinres.has_module(user_id uuid, tenant_id uuid, module_code text) RETURNS boolean
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_has_module';
COMMENT ON FUNCTION clinres.has_module(uuid, uuid, text) IS
    'true when the user may use the module in the tenant (active user, tenant and module; SUPER_ADMIN, or active member of a subscribing tenant whose own module configuration allows it)';
CREATE OR REPLACE FUNCTION clinres.user_modules(user_id uuid, tenant_id uuid)
    RETURNS TABLE (code text, name text, route text, sort_order int, schema_name name)
    LANGUAGE c STRICT STABLE PARALLEL SAFE ROWS 8 AS 'MODULE_PATHNAME', 'clinres_user_modules';
COMMENT ON FUNCTION clinres.user_modules(uuid, uuid) IS 'the modules has_module allows, in navigation order';
CREATE OR REPLACE FUNCTION clinres.require_module(user_id uuid, tenant_id uuid, module_code text) RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_require_module';
COMMENT ON FUNCTION clinres.require_module(uuid, uuid, text) IS
    'true, or raises insufficient_privilege (42501) with the denial marker (schema clinres, table module) unless has_module';
CREATE OR REPLACE FUNCTION clinres.has_permission(user_id uuid, tenant_id uuid, permission_code text) RETURNS boolean
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_has_permission';
COMMENT ON FUNCTION clinres.has_permission(uuid, uuid, text) IS
    'true when the user''s platform role, or its role as an active member of the tenant, holds the permission (active user and tenant only)';
CREATE OR REPLACE FUNCTION clinres.landing_module(user_id uuid, tenant_id uuid) RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_landing_module';
COMMENT ON FUNCTION clinres.landing_module(uuid, uuid) IS 'the first module in navigation order the user may open, or NULL';
CREATE OR REPLACE FUNCTION clinres._module_code(module_code text) RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_module_code';
COMMENT ON FUNCTION clinres._module_code(text) IS 'the canonical spelling of a module code; 22023 if unknown';
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
CREATE OR REPLACE FUNCTION clinres.tenants_with_module(module_code text) RETURNS SETOF uuid
    LANGUAGE c STRICT STABLE PARALLEL RESTRICTED ROWS 10 AS 'MODULE_PATHNAME', 'clinres_tenants_with_module';
COMMENT ON FUNCTION clinres.tenants_with_module(text) IS
    'tenants in which the context user has the module; for policies of the form tenant_id IN (SELECT clinres.tenants_with_module(...))';
-- The name of the policy enable_module_rls makes for a module: clinres_module_<code>, or,
-- when that would pass the 63 bytes of a name, its first 54 bytes and a hash of the code.
CREATE OR REPLACE FUNCTION clinres._module_policy_name(module_code text) RETURNS name
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
CREATE OR REPLACE FUNCTION clinres.enable_module_rls(tbl regclass, module_code text, tenant_column name DEFAULT 'tenant_id')
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
CREATE OR REPLACE FUNCTION clinres.access_cache_stats(
        OUT hits bigint, OUT misses bigint, OUT invalidations bigint, OUT evictions bigint,
        OUT entries bigint, OUT bytes bigint, OUT capacity bigint)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_access_cache_stats';
COMMENT ON FUNCTION clinres.access_cache_stats() IS 'this session''s access cache: hits, misses, invalidations, evictions, entries, approximate bytes, capacity';
CREATE OR REPLACE FUNCTION clinres.access_cache_invalidate() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'clinres_access_cache_invalidate';
-- ALTER TABLE ... ENABLE TRIGGER ALL (what pg_restore --disable-triggers emits after its
-- DISABLE TRIGGER ALL) leaves the invalidation triggers firing on origin only, so changes
-- made under session_replication_role = replica would reach no session: put ALWAYS back.
CREATE OR REPLACE FUNCTION clinres._access_cache_keep_always() RETURNS event_trigger
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

-- src/clinres/users/catalog.sql
-- Search: one lower-cased text of email, name and phone digits, stored (computed once per write,
-- so that a search rechecks a plain column) and indexed by trigrams (pg_trgm), so that a
-- substring of three or more characters (Chinese included) finds its users by index.
CREATE OR REPLACE FUNCTION clinres._user_search_text(email text, name text, phone text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.lower($1) OPERATOR(pg_catalog.||) E'\n' OPERATOR(pg_catalog.||) pg_catalog.lower($2)
           OPERATOR(pg_catalog.||) E'\n'
           OPERATOR(pg_catalog.||) coalesce(pg_catalog.regexp_replace($3, '[^0-9+]', '', 'g'), '')
$$;
COMMENT ON FUNCTION clinres._user_search_text(text, text, text) IS
    'what list_users searches: lower-cased email and name and the phone''s digits, one per line';
CREATE OR REPLACE FUNCTION clinres._user_tenants_copy() RETURNS trigger
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
CREATE OR REPLACE FUNCTION clinres._users_copy_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    UPDATE clinres.user_tenants ut SET user_created_at = NEW.created_at, user_search_text = NEW.search_text
     WHERE ut.user_id OPERATOR(pg_catalog.=) NEW.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._users_copy_changed() IS 'copies a user''s changed created_at or search text to its memberships';
-- The audit log is append-only for every role but its owner (the extension's owner).
CREATE OR REPLACE FUNCTION clinres._admin_logs_append_only() RETURNS trigger
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
COMMENT ON FUNCTION clinres._bcrypt(text, int) IS 'bcrypt hash of password with the given cost (pgcrypto crypt and gen_salt)';
COMMENT ON FUNCTION clinres._random_password() IS 'a random 16-character password from 12 bytes of pgcrypto gen_random_bytes';
REVOKE ALL ON FUNCTION clinres._bcrypt(text, int), clinres._random_password(), clinres._user_search_text(text, text, text),
    clinres._user_tenants_copy(), clinres._users_copy_changed(), clinres._admin_logs_append_only() FROM PUBLIC;
CREATE OR REPLACE FUNCTION clinres._forget_former_member() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    DELETE FROM clinres.former_members fm USING added a WHERE fm.tenant_id = a.tenant_id AND fm.user_id = a.user_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._forget_former_member() IS 'a member who joins a tenant again is no longer its former member';
REVOKE ALL ON FUNCTION clinres._forget_former_member() FROM PUBLIC;

-- src/clinres/users/trail.sql
-- The canonical form of a row, what row_hash is the SHA-256 of (UTF-8): a JSON array (jsonb's text
-- form) of id, created_at in UTC (ISO 8601, no zone), actor_id, tenant_id, action, target, the
-- SHA-256 of detail's jsonb text in hex, change_reason and prev_hash in hex; NULL is null.
-- Written with qualified names and no SET clause so that the planner inlines it.
CREATE OR REPLACE FUNCTION clinres._admin_log_canonical(id bigint, created_at timestamptz, actor_id uuid, tenant_id uuid,
                                                       action text, target text, detail jsonb, change_reason text, prev_hash bytea)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_array($1, pg_catalog.timezone('UTC', $2), $3, $4, $5, $6,
               pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to($7::pg_catalog.text, 'UTF8')), 'hex'),
               $8, pg_catalog.encode($9, 'hex'))::pg_catalog.text
$$;
COMMENT ON FUNCTION clinres._admin_log_canonical(bigint, timestamptz, uuid, uuid, text, text, jsonb, text, bytea) IS
    'the canonical text of an admin_logs row, whose SHA-256 is its row_hash';
CREATE OR REPLACE FUNCTION clinres._change_reason() RETURNS text
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_change_reason';
COMMENT ON FUNCTION clinres._change_reason() IS
    'clinres.change_reason, trimmed (NULL when unset); 22023 when unset and clinres.require_change_reason is on';
-- Chains the new row: its reason, a claim on its chain, an id above the chain's head (taken again
-- when a writer of the chain committed a higher one while this one waited), prev_hash and row_hash.
-- A row that arrives with its hashes (pg_restore of the table) keeps them; verify_admin_logs judges it.
CREATE OR REPLACE FUNCTION clinres._admin_log_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    head record;
BEGIN
    IF NEW.row_hash IS NOT NULL AND NEW.prev_hash IS NOT NULL THEN
        RETURN NEW;
    END IF;
    NEW.change_reason := coalesce(NEW.change_reason, clinres._change_reason());
    INSERT INTO clinres.admin_log_chains AS c (chain, xact)
    VALUES (coalesce(NEW.tenant_id, '00000000-0000-0000-0000-000000000000'), pg_catalog.pg_current_xact_id())
        ON CONFLICT (chain) DO UPDATE SET xact = excluded.xact WHERE c.xact OPERATOR(pg_catalog.<>) excluded.xact;
    IF NEW.tenant_id IS NULL THEN
        SELECT l.id, l.row_hash INTO head FROM clinres.admin_logs l WHERE l.tenant_id IS NULL ORDER BY l.id DESC LIMIT 1;
    ELSE
        SELECT l.id, l.row_hash INTO head FROM clinres.admin_logs l
         WHERE l.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id ORDER BY l.id DESC LIMIT 1;
    END IF;
    IF head.id IS NOT NULL AND NEW.id OPERATOR(pg_catalog.<=) head.id THEN
        NEW.id := pg_catalog.nextval('clinres.admin_logs_id_seq');
    END IF;
    NEW.prev_hash := coalesce(head.row_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    NEW.row_hash := pg_catalog.sha256(pg_catalog.convert_to(clinres._admin_log_canonical(
        NEW.id, NEW.created_at, NEW.actor_id, NEW.tenant_id, NEW.action, NEW.target, NEW.detail, NEW.change_reason,
        NEW.prev_hash), 'UTF8'));
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION clinres._admin_log_chain() IS
    'before an admin_logs row is inserted: records the change reason and links the row into its tenant''s hash chain';
-- Every chain (tenant_id NULL) or one tenant's: each row's hash recomputed and its link to the
-- row before it in the chain checked; the first row that fails, and why.
CREATE OR REPLACE FUNCTION clinres.verify_admin_logs(tenant_id uuid DEFAULT NULL)
    RETURNS TABLE (tenant_id uuid, rows bigint, ok boolean, first_bad_id bigint, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    WITH r AS (
        SELECT l.id, l.tenant_id, l.prev_hash, l.row_hash,
               pg_catalog.lag(l.row_hash) OVER w AS before_hash, pg_catalog.lag(l.id) OVER w AS before_id,
               pg_catalog.sha256(pg_catalog.convert_to(clinres._admin_log_canonical(
                   l.id, l.created_at, l.actor_id, l.tenant_id, l.action, l.target, l.detail, l.change_reason,
                   l.prev_hash), 'UTF8')) AS computed
          FROM clinres.admin_logs l
         WHERE $1 IS NULL OR l.tenant_id OPERATOR(pg_catalog.=) $1
        WINDOW w AS (PARTITION BY l.tenant_id ORDER BY l.id)
    ), checked AS (
        SELECT r.id, r.tenant_id,
               CASE WHEN r.row_hash IS NULL OR r.computed OPERATOR(pg_catalog.<>) r.row_hash
                    THEN pg_catalog.format('row %s does not match its row_hash: it was changed after it was written', r.id)
                    WHEN r.before_id IS NULL
                         AND r.prev_hash IS DISTINCT FROM '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                    THEN pg_catalog.format('row %s does not start the chain: the rows before it were deleted', r.id)
                    WHEN r.before_id IS NOT NULL AND r.prev_hash IS DISTINCT FROM r.before_hash
                    THEN pg_catalog.format('row %s does not follow row %s: a row between them was deleted, or row %s was changed, or rows were reordered',
                                           r.id, r.before_id, r.before_id)
               END AS problem
          FROM r
    )
    SELECT c.tenant_id, pg_catalog.count(*), pg_catalog.bool_and(c.problem IS NULL),
           pg_catalog.min(c.id) FILTER (WHERE c.problem IS NOT NULL),
           (pg_catalog.array_agg(c.problem ORDER BY c.id) FILTER (WHERE c.problem IS NOT NULL))[1]
      FROM checked c GROUP BY c.tenant_id
    UNION ALL
    -- A chain that was written to and has no row left.
    SELECT nullif(h.chain, '00000000-0000-0000-0000-000000000000'), 0, false, NULL, 'the chain has no rows left: they were deleted'
      FROM clinres.admin_log_chains h
     WHERE ($1 IS NULL OR h.chain OPERATOR(pg_catalog.=) $1)
       AND NOT EXISTS (SELECT FROM clinres.admin_logs l
                        WHERE l.tenant_id IS NOT DISTINCT FROM nullif(h.chain, '00000000-0000-0000-0000-000000000000'))
     ORDER BY 1 NULLS FIRST
$$;
COMMENT ON FUNCTION clinres.verify_admin_logs(uuid) IS
    'checks the hash chain of one tenant''s admin_logs (every chain when NULL): rows, ok, the first bad row and why';
-- What an operator records outside the database: each chain's last row and its hash.
CREATE OR REPLACE FUNCTION clinres.admin_log_head(tenant_id uuid DEFAULT NULL)
    RETURNS TABLE (tenant_id uuid, last_id bigint, head_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT t.tenant_id, h.id, pg_catalog.encode(h.row_hash, 'hex')
      FROM (SELECT nullif(c.chain, '00000000-0000-0000-0000-000000000000') AS tenant_id FROM clinres.admin_log_chains c
             WHERE $1 IS NULL OR c.chain OPERATOR(pg_catalog.=) $1) t
     CROSS JOIN LATERAL (SELECT l.id, l.row_hash FROM clinres.admin_logs l
                          WHERE l.tenant_id OPERATOR(pg_catalog.=) t.tenant_id OR (t.tenant_id IS NULL AND l.tenant_id IS NULL)
                          ORDER BY l.id DESC LIMIT 1) h
     ORDER BY t.tenant_id NULLS FIRST
$$;
COMMENT ON FUNCTION clinres.admin_log_head(uuid) IS
    'the last row of each chain (one tenant''s when given) and its row_hash in hex: what an operator anchors outside the database';
-- What export_admin_logs writes: the rows list_admin_logs would show the context user (the audit
-- decision: a tenant's, or every row for a SUPER_ADMIN when tenant_id is NULL), oldest first, as text.
CREATE OR REPLACE FUNCTION clinres._export_admin_logs(for_tenant uuid)
    RETURNS TABLE (id text, created_at text, actor_id text, actor_email text, tenant_id text, tenant_code text,
                   action text, target text, detail text, change_reason text, prev_hash text, row_hash text,
                   canonical text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := for_tenant;
BEGIN
    IF tenant IS NULL AND NOT clinres._allowed(actor, 'audit', NULL, NULL) THEN
        tenant := clinres.current_tenant_id();
    END IF;
    IF tenant IS NOT NULL THEN
        PERFORM clinres._tenant_code(tenant);
    END IF;
    PERFORM clinres._authorize(actor, 'audit', tenant, NULL);
    RETURN QUERY
        SELECT l.id::text, pg_catalog.to_char(pg_catalog.timezone('UTC', l.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US'),
               l.actor_id::text, a.email, l.tenant_id::text, t.code, l.action, l.target, l.detail::text, l.change_reason,
               pg_catalog.encode(l.prev_hash, 'hex'), pg_catalog.encode(l.row_hash, 'hex'),
               clinres._admin_log_canonical(l.id, l.created_at, l.actor_id, l.tenant_id, l.action, l.target, l.detail,
                                            l.change_reason, l.prev_hash)
          FROM clinres.admin_logs l
          LEFT JOIN clinres.users a ON a.id OPERATOR(pg_catalog.=) l.actor_id
          LEFT JOIN clinres.tenants t ON t.id OPERATOR(pg_catalog.=) l.tenant_id
         WHERE tenant IS NULL OR l.tenant_id OPERATOR(pg_catalog.=) tenant
         ORDER BY l.tenant_id NULLS FIRST, l.id;
END
$$;
COMMENT ON FUNCTION clinres._export_admin_logs(uuid) IS 'the rows export_admin_logs writes, with their hashes and canonical text';
CREATE OR REPLACE FUNCTION clinres.export_admin_logs(tenant_id uuid DEFAULT NULL, format text DEFAULT 'csv') RETURNS bytea
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_export_admin_logs';
COMMENT ON FUNCTION clinres.export_admin_logs(uuid, text) IS
    'the audit trail of a tenant (every chain for a SUPER_ADMIN when NULL) as CSV or .xlsx, with each row''s hashes and canonical text';
REVOKE ALL ON FUNCTION clinres._admin_log_canonical(bigint, timestamptz, uuid, uuid, text, text, jsonb, text, bytea),
    clinres._change_reason(), clinres._admin_log_chain(), clinres.verify_admin_logs(uuid), clinres.admin_log_head(uuid),
    clinres._export_admin_logs(uuid), clinres.export_admin_logs(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.export_admin_logs(uuid, text) TO clinres_app;

-- src/clinres/users/rules.sql
-- User management: who may do what (internal functions; none is granted to anyone).
-- The actor is always the context user (clinres.current_user_id()).

-- The one authorization decision (src/clinres/access/decision.cpp; docs/users.md, "Who may
-- do what"): may the actor do this verb to that user, in that tenant, with that role? Every
-- function below and every management function asks it; none re-states a rule.
CREATE OR REPLACE FUNCTION clinres._authorize(actor uuid, verb text, tenant_id uuid, target uuid, role_code text DEFAULT NULL)
    RETURNS void LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_authorize';
COMMENT ON FUNCTION clinres._authorize(uuid, text, uuid, uuid, text) IS
    'raises the refusal of the decision (42501 with the denial marker, or P0002 for a target that does not exist), or returns';
CREATE OR REPLACE FUNCTION clinres._denial(actor uuid, verb text, tenant_id uuid, target uuid, role_code text DEFAULT NULL)
    RETURNS text LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_denial';
COMMENT ON FUNCTION clinres._denial(uuid, text, uuid, uuid, text) IS 'the refusal''s message, or NULL when the actor may';
CREATE OR REPLACE FUNCTION clinres._allowed(actor uuid, verb text, tenant_id uuid, target uuid, role_code text DEFAULT NULL)
    RETURNS boolean LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_allowed';
COMMENT ON FUNCTION clinres._allowed(uuid, text, uuid, uuid, text) IS 'whether the actor may (the decision as a boolean)';
-- The context user, who must hold the context tenant (an active member of it, or a SUPER_ADMIN).
CREATE OR REPLACE FUNCTION clinres._actor() RETURNS uuid
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    a uuid := clinres.current_user_id();
BEGIN
    PERFORM clinres._authorize(a, 'context', clinres.current_tenant_id(), NULL);
    RETURN a;
END
$$;
COMMENT ON FUNCTION clinres._actor() IS 'the context user; 42501 when there is none, or when it does not hold the context tenant';
-- Serializes administrators acting on each other: what the decision reads about the actor (its
-- account and memberships) is locked until the transaction ends, so that two administrators
-- demoting or deleting each other at once cannot both succeed (one waits, then is refused).
-- A separate statement before the decision, so that the decision reads what the lock waited for.
CREATE OR REPLACE FUNCTION clinres._lock_actor(actor uuid) RETURNS uuid
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT FROM clinres.users u WHERE u.id = $1 FOR SHARE;
    SELECT FROM clinres.user_tenants ut WHERE ut.user_id = $1 FOR SHARE;
    SELECT $1;
$$;
COMMENT ON FUNCTION clinres._lock_actor(uuid) IS
    'locks the actor''s account and memberships FOR SHARE until the transaction ends; returns the actor';
CREATE OR REPLACE FUNCTION clinres._tenant_code(tenant_id uuid) RETURNS text
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
-- The user row, when the actor may see it (a SUPER_ADMIN: every user; anybody else: the
-- members of tenants where it holds user:view). Anything else, an unknown id included, is 42501
-- for a tenant-scoped actor, so that the answer never tells whether a user of another tenant exists.
CREATE OR REPLACE FUNCTION clinres._visible_user(actor uuid, user_id uuid, verb text DEFAULT 'view', tenant_id uuid DEFAULT NULL)
    RETURNS clinres.users
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    u clinres.users;
BEGIN
    IF $2 IS NULL THEN
        RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'user_id';
    END IF;
    PERFORM clinres._authorize($1, $3, $4, $2);
    SELECT * INTO u FROM clinres.users x WHERE x.id = $2;
    RETURN u;
END
$$;
COMMENT ON FUNCTION clinres._visible_user(uuid, uuid, text, uuid) IS
    'the user row when the decision lets the actor see it (verb view, or add to the tenant); P0002 (SUPER_ADMIN) or 42501 otherwise';
CREATE OR REPLACE FUNCTION clinres._role(role_code text) RETURNS clinres.roles
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
-- Module codes or names (any case) -> canonical codes, each subscribed by the tenant; NULL stays NULL (inherit).
CREATE OR REPLACE FUNCTION clinres._tenant_modules(tenant_id uuid, modules text[]) RETURNS text[]
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
CREATE OR REPLACE FUNCTION clinres._member_modules(user_id uuid, tenant_id uuid) RETURNS text[]
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
CREATE OR REPLACE FUNCTION clinres._write_modules(tenant_id uuid, user_ids uuid[], configs text[]) RETURNS void
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
CREATE OR REPLACE FUNCTION clinres._keep_module_configs() RETURNS trigger
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
-- The member's configuration as the audit shows it: NULL (inherit) or the enabled codes.
CREATE OR REPLACE FUNCTION clinres._module_config(user_id uuid, tenant_id uuid) RETURNS text[]
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
                THEN coalesce(pg_catalog.array_agg(um.module_code ORDER BY um.module_code) FILTER (WHERE um.is_enabled), '{}') END
      FROM clinres.user_modules um WHERE um.tenant_id OPERATOR(pg_catalog.=) $2 AND um.user_id OPERATOR(pg_catalog.=) $1
$$;
COMMENT ON FUNCTION clinres._module_config(uuid, uuid) IS 'the member''s module configuration: NULL (inherit) or its enabled codes';
CREATE OR REPLACE FUNCTION clinres._log(actor uuid, tenant_id uuid, action text, target uuid, detail jsonb) RETURNS void
    LANGUAGE sql SET search_path = pg_catalog, clinres, pg_temp
AS $$
    INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
    VALUES ($1, $2, $3, $4::pg_catalog.text, coalesce($5, '{}'))
$$;
COMMENT ON FUNCTION clinres._log(uuid, uuid, text, uuid, jsonb) IS 'appends one audit row (never pass a password or hash)';
-- A change to the account (global fields, password, global status, deletion) is seen by every
-- tenant of the user: one audit row in each, or one platform-wide row (tenant NULL) for a user
-- of no tenant. Never under the context tenant, which the change does not concern.
CREATE OR REPLACE FUNCTION clinres._log_account(actor uuid, target uuid, action text, detail jsonb) RETURNS void
    LANGUAGE sql SET search_path = pg_catalog, clinres, pg_temp
AS $$
    INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
    SELECT $1, t.tenant_id, $3, $2::pg_catalog.text, coalesce($4, '{}')
      FROM (SELECT ut.tenant_id FROM clinres.user_tenants ut WHERE ut.user_id = $2
            UNION ALL SELECT NULL WHERE NOT EXISTS (SELECT FROM clinres.user_tenants ut WHERE ut.user_id = $2)) t
     ORDER BY t.tenant_id
$$;
COMMENT ON FUNCTION clinres._log_account(uuid, uuid, text, jsonb) IS
    'appends the audit row of an account change in every tenant of the user (tenant NULL when it has none)';
-- The user as get_user shows it to the actor: global fields and the memberships in tenants where
-- the actor holds user:view (all for a SUPER_ADMIN), each with its modules.
CREATE OR REPLACE FUNCTION clinres._user_json(actor uuid, user_id uuid) RETURNS jsonb
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
                  WHERE ut.user_id OPERATOR(pg_catalog.=) u.id AND clinres.has_permission($1, t.id, 'user:view')), '[]'))
      FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) $2
$$;
COMMENT ON FUNCTION clinres._user_json(uuid, uuid) IS 'the user and the memberships the actor may see (no password or hash)';
-- A name as every path stores it: a line break or tab (a name typed on two lines of a
-- spreadsheet cell, Alt+Enter, or quoted over two lines in CSV), and any run of them with the
-- spaces around it, becomes one space; then trimmed. Line breaks are CR, LF, VT, FF, U+0085,
-- U+2028 and U+2029. Other control and invisible characters are left for clinres._field_problem
-- to refuse. Plain SQL without a SET clause, like clinres._field_problem.
CREATE OR REPLACE FUNCTION clinres._clean_name(name text) RETURNS text
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT pg_catalog.btrim(pg_catalog.regexp_replace($1, ' *[\t\n\v\f\r\u0085\u2028\u2029][\t\n\v\f\r\u0085\u2028\u2029 ]*', ' ', 'g'))
$$;
COMMENT ON FUNCTION clinres._clean_name(text) IS
    'a name with each run of line breaks and tabs (and the spaces around it) turned into one space, trimmed';
REVOKE ALL ON FUNCTION clinres._clean_name(text) FROM PUBLIC;
-- Field checks shared by every path that writes a user: one row (errcode, message) naming the
-- problem, no row when the value is fine. Plain SQL without a SET clause (every name qualified),
-- so that the planner inlines it into the set-based row check (clinres._check_user_rows).
-- A name is checked as clinres._clean_name leaves it: it must not contain a control character
-- (C0, DEL, C1) nor an invisible one that could hide or reorder what a reader sees: U+200B zero
-- width space, U+200E/U+200F direction marks, U+202A..U+202E bidirectional embeddings and
-- overrides, U+2060..U+2064 word joiner and invisible operators, U+2066..U+2069 bidirectional
-- isolates, U+FEFF. U+200C/U+200D (zero width non-joiner and joiner) are allowed: Persian and
-- Indic names and emoji need them.
CREATE OR REPLACE FUNCTION clinres._field_problem(field text, value text) RETURNS TABLE (errcode text, message text)
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT x.p[1], x.p[2] FROM (SELECT CASE
        WHEN $1 OPERATOR(pg_catalog.=) 'email' THEN CASE
            WHEN $2 IS NULL OR $2 OPERATOR(pg_catalog.=) '' THEN ARRAY['22023', 'email must not be empty']
            WHEN pg_catalog.length($2) OPERATOR(pg_catalog.>) 254 OR $2 OPERATOR(pg_catalog.!~) '^[^@\s]+@[^@\s]+$'
                THEN ARRAY['22023', pg_catalog.format('invalid email "%s"', pg_catalog.left($2, 254))] END
        WHEN $1 OPERATOR(pg_catalog.=) 'name' THEN (SELECT CASE
            WHEN $2 IS NULL OR $2 OPERATOR(pg_catalog.=) '' THEN ARRAY['22023', 'name must not be empty']
            WHEN pg_catalog.length($2) OPERATOR(pg_catalog.>) 100
                THEN ARRAY['22023', pg_catalog.format('name is %s characters long; at most 100 are allowed', pg_catalog.length($2))]
            WHEN b.at OPERATOR(pg_catalog.>) 0
                THEN ARRAY['22023', pg_catalog.format('name must not contain control or invisible characters (U+%s at character %s)',
                                                      pg_catalog.lpad(pg_catalog.upper(pg_catalog.to_hex(pg_catalog.ascii(
                                                          pg_catalog.substr($2, b.at, 1)))), 4, '0'), b.at)] END
            FROM (SELECT pg_catalog.regexp_instr($2, '[\x01-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\u2066-\u2069\ufeff]') AS at) b)
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
    'validates email (<= 254), name (1..100 characters, no control or invisible characters), phone (<= 32) or password (8..72 bytes)';
CREATE OR REPLACE FUNCTION clinres._bcrypt_cost() RETURNS int
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT coalesce(NULLIF(pg_catalog.current_setting('clinres.bcrypt_cost', true), ''), '10')::int
$$;
COMMENT ON FUNCTION clinres._bcrypt_cost() IS 'the bcrypt cost for new passwords: setting clinres.bcrypt_cost (4..31, default 10, superuser-only)';
REVOKE ALL ON FUNCTION clinres._authorize(uuid, text, uuid, uuid, text), clinres._denial(uuid, text, uuid, uuid, text),
    clinres._allowed(uuid, text, uuid, uuid, text), clinres._actor(), clinres._lock_actor(uuid), clinres._tenant_code(uuid),
    clinres._visible_user(uuid, uuid, text, uuid), clinres._role(text), clinres._tenant_modules(uuid, text[]),
    clinres._member_modules(uuid, uuid), clinres._write_modules(uuid, uuid[], text[]), clinres._module_config(uuid, uuid),
    clinres._log(uuid, uuid, text, uuid, jsonb), clinres._log_account(uuid, uuid, text, jsonb), clinres._user_json(uuid, uuid),
    clinres._field_problem(text, text), clinres._bcrypt_cost(), clinres._keep_module_configs() FROM PUBLIC;

-- src/clinres/users/rows.sql
-- Checks rows for the context user without writing anything: one clinres._user_row_check per
-- row, in order. The first problem of a row wins, in this order: the tenant, the same email or
-- phone in an earlier row, the role, the modules, the actor's permission, the fields, then the
-- existing user and membership, the grant ceiling and the phone's uniqueness.
CREATE OR REPLACE FUNCTION clinres._check_user_rows(tenant_id uuid, on_existing text, emails text[], names text[], phones text[],
                                         roles text[], modules text[], passwords text[], row_nos int[] DEFAULT NULL)
    RETURNS SETOF clinres._user_row_check
    -- Without JIT: its per-row subqueries make the estimate high enough to compile for longer than a run takes.
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp SET jit = off
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce(tenant_id, clinres.current_tenant_id());
    tcode text;
    terr text;
    tmsg text;
    may_create boolean;
    may_edit boolean;
BEGIN
    IF on_existing IS NULL OR on_existing OPERATOR(pg_catalog.<>) ALL (ARRAY['error', 'skip', 'update', 'add']) THEN
        terr := '22023'; tmsg := pg_catalog.format('invalid on_existing "%s"', on_existing);
    ELSE
        BEGIN
            tcode := clinres._tenant_code(tenant);
        EXCEPTION WHEN invalid_parameter_value OR no_data_found THEN
            GET STACKED DIAGNOSTICS terr = RETURNED_SQLSTATE, tmsg = MESSAGE_TEXT;
        END;
    END IF;
    may_create := terr IS NULL AND clinres.has_permission(actor, tenant, 'user:create');
    may_edit := terr IS NULL AND clinres.has_permission(actor, tenant, 'user:edit');
    RETURN QUERY
    WITH given AS (
        SELECT x.ord::int AS ord, coalesce(row_nos[x.ord::int], x.ord::int) AS row_no, pg_catalog.btrim(x.e) AS e,
               clinres._clean_name(x.n) AS n, NULLIF(pg_catalog.btrim(x.p), '') AS p, x.ro, x.m, x.pw
          FROM ROWS FROM (pg_catalog.unnest(emails), pg_catalog.unnest(names), pg_catalog.unnest(phones),
                          pg_catalog.unnest(roles), pg_catalog.unnest(modules), pg_catalog.unnest(passwords))
               WITH ORDINALITY AS x(e, n, p, ro, m, pw, ord)
    ), numbered AS (
        -- The first row with the same email (any case) or phone, for the rows after it.
        SELECT g.*,
               CASE WHEN g.e OPERATOR(pg_catalog.<>) '' THEN pg_catalog.first_value(g.row_no) OVER (
                   PARTITION BY pg_catalog.lower(g.e) ORDER BY g.ord) END AS email_row,
               CASE WHEN g.e OPERATOR(pg_catalog.<>) '' THEN pg_catalog.first_value(g.ord) OVER (
                   PARTITION BY pg_catalog.lower(g.e) ORDER BY g.ord) END AS email_ord,
               CASE WHEN g.p IS NOT NULL THEN pg_catalog.first_value(g.row_no) OVER (PARTITION BY g.p ORDER BY g.ord) END AS phone_row,
               CASE WHEN g.p IS NOT NULL THEN pg_catalog.first_value(g.ord) OVER (PARTITION BY g.p ORDER BY g.ord) END AS phone_ord
          FROM given g
    ), mods AS MATERIALIZED (
        SELECT m.code, pg_catalog.lower(m.name) AS lname,
               m.is_active AND EXISTS (SELECT FROM clinres.tenant_modules tm
                                        WHERE tm.tenant_id OPERATOR(pg_catalog.=) tenant AND tm.module_code OPERATOR(pg_catalog.=) m.code
                                          AND tm.is_enabled
                                          AND (tm.expires_at IS NULL OR tm.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())) AS subscribed
          FROM clinres.modules m
    ), ceiling AS MATERIALIZED (
        SELECT ro.code, terr IS NULL AND clinres._allowed(actor, 'grant', tenant, NULL, ro.code) AS ok FROM clinres.roles ro
    ), module_lists AS MATERIALIZED (
        -- Each distinct modules cell once: codes or names -> canonical codes (first appearance
        -- order) and the first unknown or unsubscribed one.
        SELECT l.m, mc.problem, mc.codes
          FROM (SELECT DISTINCT x.m FROM pg_catalog.unnest(modules) x(m) WHERE x.m IS NOT NULL) l
          CROSS JOIN LATERAL (
              SELECT (pg_catalog.array_agg(s.problem ORDER BY s.i) FILTER (WHERE s.problem IS NOT NULL))[1] AS problem,
                     coalesce(pg_catalog.array_agg(s.code ORDER BY s.i) FILTER (WHERE s.first), '{}') AS codes
                FROM (SELECT g.i, c.code,
                             CASE WHEN c.code IS NULL THEN pg_catalog.format('unknown module "%s"', g.given)
                                  WHEN NOT c.subscribed
                                  THEN pg_catalog.format('module "%s" is not subscribed by tenant "%s"', c.code, tcode) END AS problem,
                             pg_catalog.row_number() OVER (PARTITION BY c.code ORDER BY g.i) OPERATOR(pg_catalog.=) 1 AS first
                        FROM pg_catalog.unnest(pg_catalog.string_to_array(l.m, E'\x1f')) WITH ORDINALITY g(given, i)
                        LEFT JOIN LATERAL (
                            SELECT md.code, md.subscribed FROM mods md
                             WHERE md.code OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(g.given))
                                OR md.lname OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(g.given))
                             ORDER BY md.code OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(g.given)) DESC LIMIT 1) c ON true) s
          ) mc
    ), checked AS (
        SELECT r.*, ro.code AS role_code, ro.scope AS role_scope, mc.problem AS module_problem, mc.codes,
               t.id AS target, t.name AS target_name, t.phone AS target_phone, t.platform_role AS target_role,
               mb.user_id IS NOT NULL AS member, mb.role_code AS member_role,
               fe.errcode AS email_errcode, fe.message AS email_message, fp.errcode AS phone_errcode, fp.message AS phone_message,
               fw.errcode AS password_errcode, fw.message AS password_message, fn.errcode AS name_errcode, fn.message AS name_message
          FROM numbered r
          LEFT JOIN clinres.roles ro ON ro.code OPERATOR(pg_catalog.=) pg_catalog.upper(pg_catalog.btrim(coalesce(r.ro, 'USER')))
          LEFT JOIN module_lists mc ON mc.m OPERATOR(pg_catalog.=) r.m
          LEFT JOIN clinres.users t ON pg_catalog.lower(t.email) OPERATOR(pg_catalog.=) pg_catalog.lower(r.e)
          LEFT JOIN clinres.user_tenants mb ON mb.tenant_id OPERATOR(pg_catalog.=) tenant AND mb.user_id OPERATOR(pg_catalog.=) t.id
          LEFT JOIN LATERAL clinres._field_problem('email', r.e) fe ON true
          LEFT JOIN LATERAL clinres._field_problem('phone', r.p) fp ON true
          LEFT JOIN LATERAL clinres._field_problem('password', r.pw) fw ON true
          LEFT JOIN LATERAL clinres._field_problem('name', r.n) fn ON true
    ), decided AS (
        -- The decision on each existing user the row would change (docs/users.md): joining the
        -- tenant (the user must be one the actor may see, or a former member of the tenant), its
        -- role and modules there, and its account (name, phone, password: every tenant of the user).
        SELECT c.*,
               CASE WHEN c.target IS NULL OR on_existing = ANY (ARRAY['error', 'skip']) OR terr IS NOT NULL THEN NULL
                    WHEN NOT c.member THEN clinres._denial(actor, 'add', tenant, c.target, coalesce(c.role_code, 'USER'))
                    ELSE coalesce(CASE WHEN c.ro IS NOT NULL AND c.role_code <> c.member_role
                                       THEN clinres._denial(actor, 'role', tenant, c.target, c.role_code) END,
                                  CASE WHEN c.m IS NOT NULL THEN clinres._denial(actor, 'modules', tenant, c.target) END)
               END AS member_denial,
               CASE WHEN c.target IS NOT NULL AND on_existing = 'update' AND terr IS NULL
                         AND ((c.n IS NOT NULL AND c.n <> c.target_name) OR (c.p IS NOT NULL AND c.p IS DISTINCT FROM c.target_phone))
                    THEN clinres._denial(actor, 'update', NULL, c.target) END AS account_denial,
               CASE WHEN c.target IS NOT NULL AND on_existing = 'update' AND terr IS NULL AND c.pw IS NOT NULL
                    THEN clinres._denial(actor, 'password', NULL, c.target) END AS password_denial
          FROM checked c
    ), judged AS (
        SELECT c.*,
               CASE WHEN c.target IS NULL THEN 'created' WHEN on_existing OPERATOR(pg_catalog.=) 'skip' THEN 'skipped'
                    WHEN NOT c.member THEN 'added' ELSE 'updated' END AS action,
               CASE
                   WHEN terr IS NOT NULL THEN ARRAY[terr, tmsg]
                   WHEN c.email_ord OPERATOR(pg_catalog.<>) c.ord
                   THEN ARRAY['23505', pg_catalog.format('email %s appears again in row %s', c.e, c.email_row)]
                   WHEN c.phone_ord OPERATOR(pg_catalog.<>) c.ord
                   THEN ARRAY['23505', pg_catalog.format('phone %s appears again in row %s', c.p, c.phone_row)]
                   WHEN c.ro IS NOT NULL AND c.role_code IS NULL THEN ARRAY['22023', pg_catalog.format('unknown role "%s"', c.ro)]
                   WHEN c.module_problem IS NOT NULL THEN ARRAY['22023', c.module_problem]
                   -- Nothing about the tenant's members is told to an actor who may not add or edit them.
                   WHEN NOT (may_create OR may_edit)
                   THEN ARRAY['42501', pg_catalog.format('permission denied: "user:create" is required in tenant "%s"', tcode)]
                   WHEN c.email_errcode IS NOT NULL THEN ARRAY[c.email_errcode, c.email_message]
                   WHEN on_existing OPERATOR(pg_catalog.<>) 'add' AND c.phone_errcode IS NOT NULL THEN ARRAY[c.phone_errcode, c.phone_message]
                   WHEN on_existing OPERATOR(pg_catalog.<>) 'add' AND c.password_errcode IS NOT NULL
                   THEN ARRAY[c.password_errcode, c.password_message]
                   -- A new user.
                   WHEN c.target IS NULL AND c.name_errcode IS NOT NULL THEN ARRAY[c.name_errcode, c.name_message]
                   WHEN c.target IS NULL AND NOT may_create
                   THEN ARRAY['42501', pg_catalog.format('permission denied: "user:create" is required in tenant "%s"', tcode)]
                   -- An existing user.
                   WHEN c.target IS NOT NULL AND on_existing OPERATOR(pg_catalog.=) 'error'
                   THEN ARRAY['23505', pg_catalog.format('email "%s" is already in use', c.e)]
                   WHEN c.target IS NOT NULL AND on_existing OPERATOR(pg_catalog.=) 'skip' THEN NULL
                   WHEN c.target IS NOT NULL AND c.member AND on_existing OPERATOR(pg_catalog.=) 'add'
                   THEN ARRAY['23505', pg_catalog.format('user "%s" is already a member of tenant "%s"', c.e, tcode)]
                   WHEN c.target IS NOT NULL AND NOT CASE WHEN c.member THEN may_edit ELSE may_create END
                   THEN ARRAY['42501', pg_catalog.format('permission denied: "%s" is required in tenant "%s"',
                                                         CASE WHEN c.member THEN 'user:edit' ELSE 'user:create' END, tcode)]
                   WHEN c.member_denial IS NOT NULL THEN ARRAY['42501', c.member_denial]
                   WHEN c.target IS NOT NULL AND on_existing = 'update' AND c.n IS NOT NULL AND c.n <> c.target_name
                        AND c.name_errcode IS NOT NULL THEN ARRAY[c.name_errcode, c.name_message]
                   WHEN c.account_denial IS NOT NULL THEN ARRAY['42501', c.account_denial]
                   WHEN c.password_denial IS NOT NULL THEN ARRAY['42501', c.password_denial]
                   -- A new user gets USER when the cell is empty: within the ceiling like any role given.
                   WHEN c.target IS NULL AND NOT (SELECT x.ok FROM ceiling x WHERE x.code = c.role_code)
                   THEN ARRAY['42501', pg_catalog.format('permission denied: role "%s" is above your own in tenant "%s"', c.role_code, tcode)]
                   WHEN c.p IS NOT NULL AND on_existing OPERATOR(pg_catalog.<>) 'add'
                        AND EXISTS (SELECT FROM clinres.users u WHERE u.phone OPERATOR(pg_catalog.=) c.p AND u.id IS DISTINCT FROM c.target)
                   THEN ARRAY['23505', pg_catalog.format('phone "%s" is already in use', c.p)]
               END AS problem
          FROM decided c
    )
    -- Never an id the actor may not see: a user it may not add, change or see stays unnamed.
    SELECT j.ord, j.problem[1], j.problem[2], j.action,
           CASE WHEN j.target IS NULL THEN NULL
                WHEN j.problem IS NULL AND j.action = ANY (ARRAY['added', 'updated']) THEN j.target
                WHEN clinres._allowed(actor, 'view', NULL, j.target) THEN j.target END,
           j.e, j.n, j.p, j.pw,
           j.ro IS NOT NULL, j.role_code, j.role_scope, j.codes
      FROM judged j ORDER BY j.ord;
END
$$;
COMMENT ON FUNCTION clinres._check_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]) IS
    'validates user rows for the context user without writing: per row the first problem or NULLs, the action it would take, the existing user';
-- Raises 23505 naming the field a concurrent writer took (the unique index has the last word).
CREATE OR REPLACE FUNCTION clinres._raise_duplicate(email text, phone text) RETURNS void
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
-- Changes one existing member as a checked 'updated' row says: only what the row gives and
-- differs; logs the change.
CREATE OR REPLACE FUNCTION clinres._update_member(actor uuid, tenant_id uuid, r clinres._user_row_check) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    before clinres.users;
    member clinres.user_tenants;
    before_modules text[];
    changed jsonb := '{}';
    was jsonb := '{}';
BEGIN
    SELECT * INTO before FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) r.user_id;
    SELECT * INTO member FROM clinres.user_tenants ut
     WHERE ut.tenant_id OPERATOR(pg_catalog.=) tenant_id AND ut.user_id OPERATOR(pg_catalog.=) r.user_id;
    IF r.name IS NOT NULL AND r.name OPERATOR(pg_catalog.<>) before.name THEN
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('name', before.name);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('name', r.name);
    END IF;
    IF r.phone IS NOT NULL AND r.phone IS DISTINCT FROM before.phone THEN
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('phone', before.phone);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('phone', r.phone);
    END IF;
    IF changed OPERATOR(pg_catalog.<>) '{}' OR r.password IS NOT NULL THEN
        UPDATE clinres.users u SET name = coalesce(r.name, u.name), phone = coalesce(r.phone, u.phone), updated_at = pg_catalog.now(),
               password_hash = CASE WHEN r.password IS NOT NULL THEN clinres._bcrypt(r.password, clinres._bcrypt_cost()) ELSE u.password_hash END
         WHERE u.id OPERATOR(pg_catalog.=) r.user_id;
        IF r.password IS NOT NULL THEN
            changed := changed OPERATOR(pg_catalog.||) '{"password_set": true}';
        END IF;
        -- The account's fields: every tenant of the user sees the change (as update_user logs it).
        PERFORM clinres._log_account(actor, r.user_id, 'user.update', pg_catalog.jsonb_build_object('before', was, 'after', changed));
        was := '{}';
        changed := '{}';
    END IF;
    IF r.role_given AND r.role_scope OPERATOR(pg_catalog.=) 'tenant' AND r.role_code OPERATOR(pg_catalog.<>) member.role_code THEN
        UPDATE clinres.user_tenants ut SET role_code = r.role_code
         WHERE ut.tenant_id OPERATOR(pg_catalog.=) tenant_id AND ut.user_id OPERATOR(pg_catalog.=) r.user_id;
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('role_code', member.role_code);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('role_code', r.role_code);
    END IF;
    IF r.role_given AND r.role_scope OPERATOR(pg_catalog.=) 'platform' AND before.platform_role IS DISTINCT FROM r.role_code THEN
        UPDATE clinres.users u SET platform_role = r.role_code, updated_at = pg_catalog.now() WHERE u.id OPERATOR(pg_catalog.=) r.user_id;
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('platform_role', before.platform_role);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('platform_role', r.role_code);
    END IF;
    before_modules := clinres._module_config(r.user_id, tenant_id);
    IF r.codes IS NOT NULL AND before_modules IS DISTINCT FROM (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(r.codes) x) THEN
        PERFORM clinres._write_modules(tenant_id, ARRAY[r.user_id], ARRAY[pg_catalog.array_to_string(r.codes, E'\x1f')]);
        was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('modules', before_modules);
        changed := changed OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('modules', clinres._module_config(r.user_id, tenant_id));
    END IF;
    IF changed OPERATOR(pg_catalog.<>) '{}' THEN
        PERFORM clinres._log(actor, tenant_id, 'user.update', r.user_id, pg_catalog.jsonb_build_object('before', was, 'after', changed));
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._update_member(uuid, uuid, clinres._user_row_check) IS
    'changes an existing member as its checked row says (name, phone, password, role, modules) and logs it';
-- The writer: checks every row with clinres._check_user_rows; if any has a problem, writes nothing
-- and returns the checks. Otherwise writes them with clinres._write_checked_rows and returns per row
-- (ord, NULL, NULL, action, user_id, email, name).
CREATE OR REPLACE FUNCTION clinres._write_user_rows(tenant_id uuid, on_existing text, emails text[], names text[], phones text[],
                                         roles text[], modules text[], passwords text[], row_nos int[] DEFAULT NULL)
    RETURNS TABLE (ord int, errcode text, message text, action text, user_id uuid, email text, name text)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    tenant uuid := coalesce($1, clinres.current_tenant_id());
    checks clinres._user_row_check[];
    ids uuid[];
BEGIN
    -- Locked before the check (a later statement) decides: see clinres._lock_actor.
    PERFORM clinres._lock_actor(clinres._actor());
    checks := ARRAY(SELECT c FROM clinres._check_user_rows(tenant, $2, $3, $4, $5, $6, $7, $8, $9) c ORDER BY c.ord);
    IF EXISTS (SELECT FROM pg_catalog.unnest(checks) c WHERE c.errcode IS NOT NULL) THEN
        RETURN QUERY SELECT c.ord, c.errcode, c.message, c.action, c.user_id, c.email, c.name
                       FROM pg_catalog.unnest(checks) c ORDER BY c.ord;
        RETURN;
    END IF;
    ids := clinres._write_checked_rows(tenant, checks);
    RETURN QUERY SELECT c.ord, NULL::text, NULL::text, c.action, ids[c.ord], c.email, c.name
                   FROM pg_catalog.unnest(checks) c ORDER BY c.ord;
END
$$;
COMMENT ON FUNCTION clinres._write_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]) IS
    'checks user rows and, if none has a problem, writes them all (create, add to the tenant, update, skip) with their audit rows';
-- Writes rows clinres._check_user_rows found without problems (checks[i].ord = i), set-based
-- (existing members one by one): users, memberships and module rows, one admin_logs row per
-- created user or membership. Returns each row's user id (new users get theirs now), by ord.
-- import_users calls it once per batch of a file, after checking every batch.
CREATE OR REPLACE FUNCTION clinres._write_checked_rows(tenant_id uuid, checks clinres._user_row_check[]) RETURNS uuid[]
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := $1;
    ids uuid[];
    r clinres._user_row_check;
BEGIN
    -- Every user has its id from here on: new ones get theirs now.
    ids := ARRAY(SELECT coalesce(c.user_id, CASE WHEN c.action OPERATOR(pg_catalog.=) 'created' THEN pg_catalog.gen_random_uuid() END)
                   FROM pg_catalog.unnest(checks) c ORDER BY c.ord);

    BEGIN
        INSERT INTO clinres.users (id, email, name, phone, password_hash, platform_role)
        SELECT ids[c.ord], c.email, c.name, c.phone,
               CASE WHEN c.password IS NOT NULL THEN clinres._bcrypt(c.password, clinres._bcrypt_cost()) END,
               CASE WHEN c.role_scope OPERATOR(pg_catalog.=) 'platform' THEN c.role_code END
          FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) 'created' ORDER BY c.ord;
    EXCEPTION WHEN unique_violation THEN
        -- A concurrent transaction took an email or phone after the check: name the first row it hit.
        FOR r IN SELECT * FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) 'created' ORDER BY c.ord LOOP
            IF EXISTS (SELECT FROM clinres.users u WHERE pg_catalog.lower(u.email) OPERATOR(pg_catalog.=) pg_catalog.lower(r.email)
                                                      OR u.phone OPERATOR(pg_catalog.=) r.phone) THEN
                PERFORM clinres._raise_duplicate(r.email, r.phone);
            END IF;
        END LOOP;
        RAISE;
    END;
    IF EXISTS (SELECT FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) 'added' AND c.role_given
                                                         AND c.role_scope OPERATOR(pg_catalog.=) 'platform') THEN
        UPDATE clinres.users u SET platform_role = c.role_code, updated_at = pg_catalog.now()
          FROM pg_catalog.unnest(checks) c
         WHERE u.id OPERATOR(pg_catalog.=) c.user_id AND c.action OPERATOR(pg_catalog.=) 'added' AND c.role_given
           AND c.role_scope OPERATOR(pg_catalog.=) 'platform';
    END IF;

    -- A platform role's holder joins as TENANT_ADMIN.
    INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
    SELECT tenant, ids[c.ord], CASE WHEN c.role_scope OPERATOR(pg_catalog.=) 'platform' THEN 'TENANT_ADMIN' ELSE c.role_code END
      FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) ANY ('{created,added}') ORDER BY c.ord;
    IF EXISTS (SELECT FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) ANY ('{created,added}') AND c.codes IS NOT NULL) THEN
        PERFORM clinres._write_modules(tenant, pg_catalog.array_agg(ids[c.ord] ORDER BY c.ord),
                                       pg_catalog.array_agg(pg_catalog.array_to_string(c.codes, E'\x1f') ORDER BY c.ord))
           FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) ANY ('{created,added}') AND c.codes IS NOT NULL;
    END IF;
    INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
    SELECT actor, tenant, CASE WHEN c.action OPERATOR(pg_catalog.=) 'created' THEN 'user.create' ELSE 'tenant.assign' END,
           ids[c.ord]::pg_catalog.text,
           pg_catalog.jsonb_build_object('after', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
               'email', c.email, 'name', CASE WHEN c.action OPERATOR(pg_catalog.=) 'created' THEN c.name END,
               'phone', CASE WHEN c.action OPERATOR(pg_catalog.=) 'created' THEN c.phone END,
               'role_code', c.role_code, 'modules', pg_catalog.to_jsonb(c.codes),
               'password_set', CASE WHEN c.action OPERATOR(pg_catalog.=) 'created' THEN c.password IS NOT NULL END)))
      FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) ANY ('{created,added}') ORDER BY c.ord;

    FOR r IN SELECT * FROM pg_catalog.unnest(checks) c WHERE c.action OPERATOR(pg_catalog.=) 'updated' ORDER BY c.ord LOOP
        PERFORM clinres._update_member(actor, tenant, r);
    END LOOP;
    RETURN ids;
END
$$;
COMMENT ON FUNCTION clinres._write_checked_rows(uuid, clinres._user_row_check[]) IS
    'writes checked user rows without problems (create, add to the tenant, update, skip) with their audit rows; their user ids by ord';
-- One row through the writer, its problem raised with its SQLSTATE: create_user and assign_tenant.
CREATE OR REPLACE FUNCTION clinres._create_or_add_user(email text, name text, phone text, role_code text, modules text[],
                                            tenant_id uuid, on_existing text DEFAULT 'error', password text DEFAULT NULL,
                                            OUT action text, OUT user_id uuid)
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    w record;
BEGIN
    SELECT * INTO w FROM clinres._write_user_rows($6, $7, ARRAY[$1], ARRAY[$2], ARRAY[$3], ARRAY[$4],
                                                  ARRAY[pg_catalog.array_to_string($5, E'\x1f', '')], ARRAY[$8]) x;
    IF w.errcode OPERATOR(pg_catalog.=) '42501' THEN
        RAISE EXCEPTION USING ERRCODE = w.errcode, MESSAGE = w.message, SCHEMA = 'clinres', TABLE = 'row', COLUMN = 'user';
    ELSIF w.errcode IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = w.errcode, MESSAGE = w.message;
    END IF;
    action := w.action;
    user_id := w.user_id;
END
$$;
COMMENT ON FUNCTION clinres._create_or_add_user(text, text, text, text, text[], uuid, text, text) IS
    'writes one user row with clinres._write_user_rows, raising its problem: creates, adds to the tenant, updates or skips';
REVOKE ALL ON FUNCTION clinres._raise_duplicate(text, text),
    clinres._check_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]),
    clinres._update_member(uuid, uuid, clinres._user_row_check),
    clinres._write_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]),
    clinres._write_checked_rows(uuid, clinres._user_row_check[]),
    clinres._create_or_add_user(text, text, text, text, text[], uuid, text, text) FROM PUBLIC;

-- src/clinres/users/queries.sql
-- User management: the read side (list page, detail page, options, audit page).

-- page >= 1 and 1 <= page_size <= 100, never a silent default; 22023 naming the value.
CREATE OR REPLACE FUNCTION clinres._check_page(page int, page_size int) RETURNS void
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
CREATE OR REPLACE FUNCTION clinres._list_users(tenant_id uuid, search text, role_code text, status text, module_code text,
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

    -- No tenant: every user for a SUPER_ADMIN, the context tenant's members for anybody else.
    IF tenant IS NULL AND NOT clinres._allowed(actor, 'list', NULL, NULL) THEN
        tenant := clinres.current_tenant_id();
    END IF;
    IF tenant IS NOT NULL THEN
        PERFORM clinres._tenant_code(tenant);
    END IF;
    PERFORM clinres._authorize(actor, 'list', tenant, NULL);

    IF tenant IS NOT NULL THEN
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
CREATE OR REPLACE FUNCTION clinres.list_users(tenant_id uuid DEFAULT NULL, search text DEFAULT NULL, role_code text DEFAULT NULL,
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
CREATE OR REPLACE FUNCTION clinres.get_user(user_id uuid) RETURNS jsonb
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
CREATE OR REPLACE FUNCTION clinres.tenant_options() RETURNS TABLE (id uuid, code text, name text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
BEGIN
    RETURN QUERY SELECT t.id, t.code, t.name FROM clinres.tenants t
                  WHERE t.status OPERATOR(pg_catalog.=) 'active'
                    AND (clinres.has_permission(actor, t.id, 'user:create') OR clinres.has_permission(actor, t.id, 'user:edit'))
                  ORDER BY t.code;
END
$$;
COMMENT ON FUNCTION clinres.tenant_options() IS 'the active tenants where the actor may create or edit users (all for a SUPER_ADMIN)';
CREATE OR REPLACE FUNCTION clinres.module_options(tenant_id uuid) RETURNS TABLE (code text, name text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce(module_options.tenant_id, clinres.current_tenant_id());
BEGIN
    PERFORM clinres._tenant_code(tenant);
    PERFORM clinres._authorize(actor, 'list', tenant, NULL);
    RETURN QUERY SELECT m.code, m.name FROM clinres.tenant_modules tm JOIN clinres.modules m ON m.code OPERATOR(pg_catalog.=) tm.module_code
                  WHERE tm.tenant_id OPERATOR(pg_catalog.=) tenant AND tm.is_enabled AND m.is_active
                    AND (tm.expires_at IS NULL OR tm.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
                  ORDER BY m.sort_order, m.code;
END
$$;
COMMENT ON FUNCTION clinres.module_options(uuid) IS 'the modules the tenant subscribes now (what may be granted to its members)';
-- list_admin_logs' body (its argument and result names overlap, which PL/pgSQL refuses).
CREATE OR REPLACE FUNCTION clinres._list_admin_logs(tenant_id uuid, page int, page_size int)
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
    -- No tenant: every row for a SUPER_ADMIN, the context tenant's rows for anybody else.
    IF tenant IS NULL AND NOT clinres._allowed(actor, 'audit', NULL, NULL) THEN
        tenant := clinres.current_tenant_id();
    END IF;
    IF tenant IS NOT NULL THEN
        PERFORM clinres._tenant_code(tenant);
    END IF;
    PERFORM clinres._authorize(actor, 'audit', tenant, NULL);
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
CREATE OR REPLACE FUNCTION clinres.list_admin_logs(tenant_id uuid DEFAULT NULL, page int DEFAULT 1, page_size int DEFAULT 20)
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

-- src/clinres/users/mutations.sql
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
    IF changes IS NULL OR pg_catalog.jsonb_typeof(changes) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Allowed keys: name, email, phone.', SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'changes';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(changes) LOOP
        IF k OPERATOR(pg_catalog.<>) ALL (ARRAY['name', 'email', 'phone']) THEN
            RAISE EXCEPTION 'unknown field "%"', k USING ERRCODE = 'invalid_parameter_value', HINT = 'Allowed keys: name, email, phone.',
                SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'changes';
        END IF;
        IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) ALL (ARRAY['string', 'null']) THEN
            RAISE EXCEPTION 'field "%" must be a string', k USING ERRCODE = 'invalid_parameter_value',
                SCHEMA = 'clinres', TABLE = 'field', COLUMN = k;
        END IF;
        val := pg_catalog.btrim(changes OPERATOR(pg_catalog.->>) k);
        IF k OPERATOR(pg_catalog.=) 'phone' THEN
            val := NULLIF(val, '');
        ELSIF k OPERATOR(pg_catalog.=) 'name' THEN
            val := clinres._clean_name(val);
        END IF;
        SELECT * INTO f FROM clinres._field_problem(k, coalesce(val, CASE WHEN k OPERATOR(pg_catalog.<>) 'phone' THEN '' END)) x;
        IF f.errcode IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = f.errcode, MESSAGE = f.message, SCHEMA = 'clinres', TABLE = 'field', COLUMN = k;
        END IF;
        IF val IS DISTINCT FROM (pg_catalog.to_jsonb(u) OPERATOR(pg_catalog.->>) k) THEN
            was := was OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, pg_catalog.to_jsonb(u) OPERATOR(pg_catalog.->) k);
            now_ := now_ OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(k, val);
        END IF;
    END LOOP;
    IF now_ OPERATOR(pg_catalog.=) '{}' THEN
        RETURN clinres._user_json(actor, u.id);
    END IF;
    PERFORM clinres._authorize(actor, 'update', NULL, u.id);
    IF now_ ? 'email' AND EXISTS (SELECT FROM clinres.users x WHERE pg_catalog.lower(x.email) OPERATOR(pg_catalog.=) pg_catalog.lower(now_ OPERATOR(pg_catalog.->>) 'email')
                                    AND x.id OPERATOR(pg_catalog.<>) u.id) THEN
        RAISE EXCEPTION 'email "%" is already in use', now_ ->> 'email' USING ERRCODE = 'unique_violation',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'email';
    END IF;
    IF now_ OPERATOR(pg_catalog.->>) 'phone' IS NOT NULL AND EXISTS (SELECT FROM clinres.users x WHERE x.phone OPERATOR(pg_catalog.=) (now_ OPERATOR(pg_catalog.->>) 'phone')
                                                     AND x.id OPERATOR(pg_catalog.<>) u.id) THEN
        RAISE EXCEPTION 'phone "%" is already in use', now_ ->> 'phone' USING ERRCODE = 'unique_violation',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'phone';
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
     WHERE x.id OPERATOR(pg_catalog.=) u.id;
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
CREATE OR REPLACE FUNCTION clinres.assign_tenant(user_id uuid, tenant_id uuid, role_code text DEFAULT 'USER', modules text[] DEFAULT NULL)
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
    PERFORM clinres._create_or_add_user(u.email, NULL, NULL, coalesce(role_code, 'USER'), modules, tenant_id, 'add', NULL);
    RETURN clinres._user_json(actor, u.id);
END
$$;
COMMENT ON FUNCTION clinres.assign_tenant(uuid, uuid, text, text[]) IS
    'adds the user (one the actor may see, or a former member of the tenant) to a tenant with a role and modules (NULL: inherit)';
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
    clinres.assign_tenant(uuid, uuid, text, text[]), clinres.set_tenant_role(uuid, uuid, text),
    clinres._remove_member(uuid, clinres.users, uuid, text), clinres.remove_tenant(uuid, uuid),
    clinres.set_user_modules(uuid, uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.create_user(text, text, text, uuid, text, text[], text), clinres.update_user(uuid, jsonb),
    clinres.set_user_status(uuid, text, uuid), clinres.reset_password(uuid, text), clinres.delete_user(uuid, uuid, boolean),
    clinres.assign_tenant(uuid, uuid, text, text[]), clinres.set_tenant_role(uuid, uuid, text), clinres.remove_tenant(uuid, uuid),
    clinres.set_user_modules(uuid, uuid, text[]) TO clinres_app;

-- src/clinres/users/import.sql
-- Batch import and export of users (docs/import.md). The file readers and writers are C++
-- (src/clinres/users/import/). import_users streams the rows of a file, in batches, into two
-- temporary tables; every batch is checked by clinres._check_user_rows and, when no row of the
-- whole file has a problem, written by clinres._write_checked_rows: the code path of create_user
-- and assign_tenant, with the memory of one batch at a time.

-- The tenant an import, export or template is for: the given one or the context tenant, after
-- checking that the context user holds the permission there (42501; P0002 for an unknown tenant).
CREATE OR REPLACE FUNCTION clinres._import_tenant(tenant_id uuid, verb text) RETURNS uuid
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := coalesce($1, clinres.current_tenant_id());
BEGIN
    PERFORM clinres._tenant_code(tenant);
    PERFORM clinres._authorize(actor, $2, tenant, NULL);
    RETURN tenant;
END
$$;
COMMENT ON FUNCTION clinres._import_tenant(uuid, text) IS
    'the given tenant or the context tenant, once the decision lets the context user do the verb (create, export) there';
-- Creates the staging tables of one import_users call, dropped at its end (and at commit): the
-- rows as read (batch numbers chosen by the reader) and their checks. Plain CREATE: a table of that
-- name made beforehand by anyone else is an error, never used.
CREATE OR REPLACE FUNCTION clinres._import_stage() RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    CREATE TEMPORARY TABLE clinres_import_rows (
        ord int PRIMARY KEY, batch int NOT NULL, row_no int NOT NULL,
        email text, name text, phone text, role text, modules text, password text) ON COMMIT DROP;
    CREATE INDEX ON pg_temp.clinres_import_rows (batch);
    CREATE TEMPORARY TABLE clinres_import_checks (
        ord int PRIMARY KEY, batch int NOT NULL, row_no int NOT NULL, c clinres._user_row_check) ON COMMIT DROP;
    CREATE INDEX ON pg_temp.clinres_import_checks (batch);
END
$$;
COMMENT ON FUNCTION clinres._import_stage() IS 'creates the temporary tables of one import_users call (rows as read, their checks)';
-- Checks the staged rows batch by batch with clinres._check_user_rows into the checks table, then
-- marks the rows whose email (any case) or phone an earlier row of the whole file has, as the row
-- check words it within a batch (a batch sees only itself; a repeat is the first problem a row of
-- a checked tenant can have). Returns the number of rows with a problem.
CREATE OR REPLACE FUNCTION clinres._import_check(tenant_id uuid, on_existing text) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp SET jit = off
AS $$
DECLARE
    batches int;
    problems bigint;
BEGIN
    -- What the decision reads about the actor stays as it is until the import commits, and the
    -- checks below (later statements) read what the lock may have waited for (docs/users.md).
    PERFORM clinres._lock_actor(clinres._actor());
    SELECT pg_catalog.max(s.batch) INTO batches FROM pg_temp.clinres_import_rows s;
    FOR b IN 1..coalesce(batches, 0) LOOP
        INSERT INTO pg_temp.clinres_import_checks (ord, batch, row_no, c)
        SELECT g.first OPERATOR(pg_catalog.+) c.ord OPERATOR(pg_catalog.-) 1, b, g.row_nos[c.ord], c
          FROM (SELECT pg_catalog.min(s.ord) AS first, pg_catalog.array_agg(s.email ORDER BY s.ord) AS e,
                       pg_catalog.array_agg(s.name ORDER BY s.ord) AS n, pg_catalog.array_agg(s.phone ORDER BY s.ord) AS p,
                       pg_catalog.array_agg(s.role ORDER BY s.ord) AS ro, pg_catalog.array_agg(s.modules ORDER BY s.ord) AS m,
                       pg_catalog.array_agg(s.password ORDER BY s.ord) AS pw, pg_catalog.array_agg(s.row_no ORDER BY s.ord) AS row_nos
                  FROM pg_temp.clinres_import_rows s WHERE s.batch OPERATOR(pg_catalog.=) b) g
         CROSS JOIN LATERAL clinres._check_user_rows($1, $2, g.e, g.n, g.p, g.ro, g.m, g.pw, g.row_nos) c;
    END LOOP;
    UPDATE pg_temp.clinres_import_checks k
       SET c.errcode = '23505',
           c.message = CASE WHEN d.email_ord OPERATOR(pg_catalog.<>) d.ord
                            THEN pg_catalog.format('email %s appears again in row %s', d.e, d.email_row)
                            ELSE pg_catalog.format('phone %s appears again in row %s', d.p, d.phone_row) END
      FROM (SELECT f.* FROM (
                SELECT s.ord, pg_catalog.btrim(s.email) AS e, NULLIF(pg_catalog.btrim(s.phone), '') AS p,
                       CASE WHEN pg_catalog.btrim(s.email) OPERATOR(pg_catalog.<>) '' THEN pg_catalog.first_value(s.ord) OVER (
                           PARTITION BY pg_catalog.lower(pg_catalog.btrim(s.email)) ORDER BY s.ord) END AS email_ord,
                       CASE WHEN pg_catalog.btrim(s.email) OPERATOR(pg_catalog.<>) '' THEN pg_catalog.first_value(s.row_no) OVER (
                           PARTITION BY pg_catalog.lower(pg_catalog.btrim(s.email)) ORDER BY s.ord) END AS email_row,
                       CASE WHEN NULLIF(pg_catalog.btrim(s.phone), '') IS NOT NULL THEN pg_catalog.first_value(s.ord) OVER (
                           PARTITION BY NULLIF(pg_catalog.btrim(s.phone), '') ORDER BY s.ord) END AS phone_ord,
                       CASE WHEN NULLIF(pg_catalog.btrim(s.phone), '') IS NOT NULL THEN pg_catalog.first_value(s.row_no) OVER (
                           PARTITION BY NULLIF(pg_catalog.btrim(s.phone), '') ORDER BY s.ord) END AS phone_row
                  FROM pg_temp.clinres_import_rows s) f
             WHERE f.email_ord OPERATOR(pg_catalog.<>) f.ord OR f.phone_ord OPERATOR(pg_catalog.<>) f.ord) d
     WHERE k.ord OPERATOR(pg_catalog.=) d.ord;
    SELECT pg_catalog.count(*) INTO problems FROM pg_temp.clinres_import_checks k WHERE (k.c).errcode IS NOT NULL;
    RETURN problems;
END
$$;
COMMENT ON FUNCTION clinres._import_check(uuid, text) IS
    'checks the staged rows of an import batch by batch, repeats of an email or phone across the whole file included; the rows with a problem';
-- Writes the checked rows batch by batch with clinres._write_checked_rows (the caller has found
-- none with a problem), noting each created user's id; returns the rows written. One statement:
-- an error in a later batch (a concurrent transaction took an email) undoes the earlier ones.
CREATE OR REPLACE FUNCTION clinres._import_write(tenant_id uuid) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp SET jit = off
AS $$
DECLARE
    batches int;
    ids uuid[];
    written bigint := 0;
BEGIN
    SELECT pg_catalog.max(k.batch) INTO batches FROM pg_temp.clinres_import_checks k;
    FOR b IN 1..coalesce(batches, 0) LOOP
        ids := clinres._write_checked_rows($1, ARRAY(SELECT k.c FROM pg_temp.clinres_import_checks k
                                                       WHERE k.batch OPERATOR(pg_catalog.=) b ORDER BY k.ord));
        UPDATE pg_temp.clinres_import_checks k SET c.user_id = ids[(k.c).ord]
         WHERE k.batch OPERATOR(pg_catalog.=) b AND (k.c).action OPERATOR(pg_catalog.=) 'created';
        written := written OPERATOR(pg_catalog.+) pg_catalog.cardinality(ids);
    END LOOP;
    RETURN written;
END
$$;
COMMENT ON FUNCTION clinres._import_write(uuid) IS 'writes the checked rows of an import batch by batch, noting the ids of the users created; the rows written';
-- What export_users writes: every member of the tenant as list_users shows them (user:view),
-- oldest first, read page by page through the same function.
CREATE OR REPLACE FUNCTION clinres._export_rows(tenant_id uuid)
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
CREATE OR REPLACE FUNCTION clinres._import_options(tenant_id uuid) RETURNS TABLE (kind text, code text, name text)
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT * FROM (SELECT 'role'::text, r.code, r.name FROM clinres.roles r
                    WHERE r.scope OPERATOR(pg_catalog.=) 'tenant' AND clinres._allowed(clinres._actor(), 'grant', $1, NULL, r.code)
                    ORDER BY (SELECT pg_catalog.count(*) FROM clinres.role_permissions rp
                               WHERE rp.role_code OPERATOR(pg_catalog.=) r.code), r.code) roles
    UNION ALL
    SELECT * FROM (SELECT 'module'::text, m.code, m.name FROM clinres.module_options($1) m) modules
$$;
COMMENT ON FUNCTION clinres._import_options(uuid) IS 'the roles the context user may grant in the tenant, then the modules it subscribes';
CREATE OR REPLACE FUNCTION clinres.import_users(data bytea, tenant_id uuid DEFAULT NULL, format text DEFAULT NULL,
                                     dry_run boolean DEFAULT false, on_existing text DEFAULT 'error', sheet text DEFAULT NULL)
    RETURNS TABLE (row_no int, email text, name text, action text, user_id uuid, message text)
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_import_users';
COMMENT ON FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text) IS
    'imports users from an .xlsx or CSV file into the tenant, all rows or none; returns one report row per data row';
CREATE OR REPLACE FUNCTION clinres.import_template(format text DEFAULT 'xlsx') RETURNS bytea
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_import_template';
COMMENT ON FUNCTION clinres.import_template(text) IS
    'an import file to fill in: the headers, an example row and (xlsx) the context tenant''s roles and modules';
CREATE OR REPLACE FUNCTION clinres.export_users(tenant_id uuid DEFAULT NULL, format text DEFAULT 'xlsx') RETURNS bytea
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_export_users';
COMMENT ON FUNCTION clinres.export_users(uuid, text) IS
    'the tenant''s members as list_users shows them, as an .xlsx or CSV file that import_users reads';
REVOKE ALL ON FUNCTION clinres._import_tenant(uuid, text), clinres._import_stage(),
    clinres._import_check(uuid, text), clinres._import_write(uuid),
    clinres._export_rows(uuid), clinres._import_options(uuid),
    clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) TO clinres_app;

-- src/clinres/schema/schema.sql
-- Refuses a relation that must never be moved; returns its schema and name.
CREATE OR REPLACE FUNCTION clinres._check_movable(source regclass, OUT nsp name, OUT rel name)
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
CREATE OR REPLACE FUNCTION clinres._trusted_schema_owner(owner oid, role oid) RETURNS boolean
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
CREATE OR REPLACE FUNCTION clinres._check_target(target_schema name, allow_any_schema boolean)
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
CREATE OR REPLACE FUNCTION clinres.plan_table_move(source regclass, target_schema name, allow_any_schema boolean DEFAULT false)
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
COMMENT ON VIEW clinres.schema_migration_plan IS 'the moves migrate_schemas would make, referenced tables first';
CREATE OR REPLACE FUNCTION clinres.create_module_schemas() RETURNS TABLE (schema_name name, created boolean)
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
CREATE OR REPLACE FUNCTION clinres._lock_for_move(tbl regclass) RETURNS boolean
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
CREATE OR REPLACE FUNCTION clinres.migrate_schemas(dry_run boolean DEFAULT true, compat_views boolean DEFAULT false,
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
CREATE OR REPLACE FUNCTION clinres._create_compat_view(tbl regclass, view_name name) RETURNS name
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
CREATE OR REPLACE FUNCTION clinres.verify_schema_isolation(exact_counts boolean DEFAULT true)
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
CREATE OR REPLACE FUNCTION clinres.rollback_schema_migration()
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
-- These change other tables' schemas: only for the roles that own those tables, which need
-- EXECUTE on them and on their helpers (the functions named with a leading underscore).
REVOKE ALL ON FUNCTION clinres.plan_table_move(regclass, name, boolean), clinres.create_module_schemas(),
    clinres.migrate_schemas(boolean, boolean, boolean), clinres.rollback_schema_migration(),
    clinres.verify_schema_isolation(boolean), clinres._check_movable(regclass), clinres._check_target(name, boolean),
    clinres._trusted_schema_owner(oid, oid), clinres._lock_for_move(regclass), clinres._create_compat_view(regclass, name)
    FROM PUBLIC;

-- src/clinres/connections/connections.sql
-- Connection usage (docs/reference.md), read in C++ from the backend status array.
CREATE OR REPLACE FUNCTION clinres._connection_usage(
        OUT connections int, OUT max_connections int, OUT reserved_connections int, OUT available int,
        OUT usage_pct double precision, OUT alert_level text)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage';
COMMENT ON VIEW clinres.connection_usage IS
    'client connections against max_connections - superuser_reserved_connections (- reserved_connections from PostgreSQL 16), with the alert level (ok, warning, critical)';
CREATE OR REPLACE FUNCTION clinres._connections_by_client()
    RETURNS TABLE (client_addr inet, application_name text, usename name, datname name, state text, connections int)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connections_by_client';
COMMENT ON VIEW clinres.connections_by_client IS
    'client connections grouped by machine, application, role, database and state; other roles'' sessions only for pg_read_all_stats';
CREATE OR REPLACE FUNCTION clinres.pool_size(max_instances int, max_connections int DEFAULT NULL) RETURNS int
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_pool_size';
COMMENT ON FUNCTION clinres.pool_size(int, int) IS
    'per-instance pool size: usable connections (max_connections - superuser_reserved_connections - reserved_connections from PostgreSQL 16, or the given total) / max_instances';
CREATE OR REPLACE FUNCTION clinres._connection_usage_history(
        OUT sampled_at timestamptz, OUT connections int, OUT max_connections int, OUT reserved_connections int,
        OUT available int, OUT usage_pct double precision, OUT alert_level text, OUT monitor text)
    RETURNS SETOF record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage_history';
COMMENT ON VIEW clinres.connection_usage_history IS
    'samples of the background monitor (clinres in shared_preload_libraries), oldest first';
-- Privileges: an application (clinres_app) reads the usage views and sizes its pool; PUBLIC
-- gets nothing (a view's functions are checked against the querying role, hence both).
REVOKE ALL ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() TO clinres_app;
-- A monitoring role (a member of pg_monitor, as postgres_exporter runs) reads them too, without
-- clinres_app: connections_by_client shows it every client, since pg_monitor has pg_read_all_stats.
GRANT EXECUTE ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(),
    clinres._connection_usage_history() TO pg_monitor;

-- src/clinres/pg/bridge.sql
-- Diagnostics: proves that errors cross the C++/PostgreSQL bridge intact.
CREATE OR REPLACE FUNCTION clinres._bridge_selftest(mode text) RETURNS int
    LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'clinres_bridge_selftest';
COMMENT ON FUNCTION clinres._bridge_selftest(text) IS
    'raises an error deep in C++ (cpp), in PostgreSQL under C++ (pg) or a std::exception (std); live = C++ objects not yet destroyed';
REVOKE ALL ON FUNCTION clinres._bridge_selftest(text) FROM PUBLIC;

-- src/clinres/session/session.sql
COMMENT ON FUNCTION clinres.rotate_session_key(interval) IS
    'makes a new signing key; earlier keys keep verifying for grace (default clinres.session_ttl), then are deleted; returns the new key id';
COMMENT ON FUNCTION clinres._crypt(text, text) IS 'pgcrypto crypt(password, setting): the hash of password with the setting''s salt and cost';
REVOKE ALL ON FUNCTION clinres._crypt(text, text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION clinres.login(identifier text, password text, tenant_code text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    SET clinres.user_id = '' SET clinres.tenant_id = ''
AS $$
DECLARE
    dummy text := clinres._dummy_hash(); -- loads clinres, which defines the settings login uses
    u record;
    hash text;
    ok boolean;
    outcome text := 'none';
    tenant uuid;
    token text;
    profile jsonb;
BEGIN
    IF pg_catalog.strpos(identifier, '@') OPERATOR(pg_catalog.>) 0 THEN
        SELECT x.id, x.password_hash, x.status, x.platform_role INTO u
          FROM clinres.users x
         WHERE pg_catalog.lower(x.email) OPERATOR(pg_catalog.=) pg_catalog.lower(identifier);
    ELSE
        SELECT x.id, x.password_hash, x.status, x.platform_role INTO u
          FROM clinres.users x
         WHERE x.phone OPERATOR(pg_catalog.=) identifier;
    END IF;
    -- Exactly one bcrypt verification on every path, so that every failure takes as long.
    hash := coalesce(u.password_hash, dummy);
    ok := clinres._crypt(coalesce(password, ''), hash) OPERATOR(pg_catalog.=) hash
          AND password IS NOT NULL AND u.password_hash IS NOT NULL;
    IF u.id IS NOT NULL AND NOT ok THEN
        outcome := 'failure';
    ELSIF ok AND u.status OPERATOR(pg_catalog.=) 'active' THEN
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
        IF tenant IS NOT NULL THEN
            token := clinres._sign_session(u.id, tenant);
            -- session_profile answers for the context user: the token sets it, confined to this
            -- call by login's SET clauses on the context (the caller's context is untouched).
            PERFORM clinres.set_session(token);
            profile := clinres.session_profile(u.id, tenant) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                'token', token,
                'token_expires_at', pg_catalog.to_timestamp(pg_catalog.split_part(token, '.', 4)::double precision));
            outcome := 'success';
        END IF;
    END IF;
    -- Every path, an unknown user's too, records its outcome in a transaction of its own that
    -- has committed when this returns (no rollback of the caller's undoes it), and only there
    -- is the lock decided, on the newest row: a success proceeds only if it reset the count
    -- of an unlocked, active account. NULL (not recorded) fails closed.
    IF NOT coalesce(clinres._record_login(u.id, outcome), false) OR outcome OPERATOR(pg_catalog.<>) 'success' THEN
        RETURN NULL;
    END IF;
    RETURN profile;
END
$$;
COMMENT ON FUNCTION clinres.login(text, text, text) IS
    'email (any case) or phone and password -> session_profile plus a signed session token, or NULL for every kind of failure, in the same time';
REVOKE ALL ON FUNCTION clinres.rotate_session_key(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION clinres.login(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.login(text, text, text) TO clinres_app;
CREATE OR REPLACE FUNCTION clinres._dummy_hash() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_dummy_hash';
COMMENT ON FUNCTION clinres._dummy_hash() IS 'a bcrypt setting at clinres.bcrypt_cost that no password matches';
REVOKE ALL ON FUNCTION clinres._dummy_hash() FROM PUBLIC;
CREATE OR REPLACE FUNCTION clinres._record_login(user_id uuid, outcome text) RETURNS boolean
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_record_login';
COMMENT ON FUNCTION clinres._record_login(uuid, text) IS
    'records a login attempt (success, failure or none) in a transaction of its own, by a background worker; whether it changed the user''s row, NULL if it could not be recorded (login calls it; nobody else may)';
REVOKE ALL ON FUNCTION clinres._record_login(uuid, text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION clinres._sign_session(user_id uuid, tenant_id uuid) RETURNS text
    LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'clinres_sign_session';
COMMENT ON FUNCTION clinres._sign_session(uuid, uuid) IS 'a session token for the user and tenant (login calls it; nobody else may)';
REVOKE ALL ON FUNCTION clinres._sign_session(uuid, uuid) FROM PUBLIC;
-- No SET clause naming clinres.user_id/tenant_id: it would confine the SET LOCAL to the call.
CREATE OR REPLACE FUNCTION clinres.set_session(token text) RETURNS uuid
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_set_session';
COMMENT ON FUNCTION clinres.set_session(text) IS
    'verifies a session token from login and sets the context for this transaction; returns the user id (28000 if the token is invalid or expired)';
REVOKE ALL ON FUNCTION clinres.set_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.set_session(text) TO clinres_app;
CREATE OR REPLACE FUNCTION clinres.begin_request(user_id uuid, tenant_id uuid, module_code text) RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_begin_request';
COMMENT ON FUNCTION clinres.begin_request(uuid, uuid, text) IS
    'set_context for this transaction + require_module in one call; returns user_id, tenant_id, module, role, platform_role, permissions, modules';
REVOKE ALL ON FUNCTION clinres.begin_request(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.begin_request(uuid, uuid, text) TO clinres_app;
CREATE OR REPLACE FUNCTION clinres.begin_request(token text, module_code text) RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_begin_request_token';
COMMENT ON FUNCTION clinres.begin_request(text, text) IS
    'set_session + require_module in one call; returns what begin_request(user, tenant, module) returns';
REVOKE ALL ON FUNCTION clinres.begin_request(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.begin_request(text, text) TO clinres_app;

-- src/clinres/citus/citus.sql
-- Scale-out on Citus (docs/scale-out.md): the catalog as reference tables, module policies
-- in the form Citus accepts, the context sent to the workers, and a health check.

-- clinres's tables in foreign-key order (a table after every table it references).
CREATE OR REPLACE FUNCTION clinres._catalog_tables_in_fk_order() RETURNS SETOF regclass
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
CREATE OR REPLACE FUNCTION clinres._require_citus_coordinator(caller text) RETURNS boolean
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
CREATE OR REPLACE FUNCTION clinres.distribute() RETURNS TABLE (step int, object text, action text)
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
CREATE OR REPLACE FUNCTION clinres.citus_check() RETURNS TABLE (node text, ok boolean, detail text)
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


CREATE TRIGGER forget_former_member AFTER INSERT ON clinres.user_tenants REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION clinres._forget_former_member();

-- The rows written before the trail are chained now, in id order per chain, from the first row of
-- each (the append-only trigger is off meanwhile: the updater need not be the table's owner).
ALTER TABLE clinres.admin_logs DISABLE TRIGGER append_only;
DO $$
DECLARE
    r record;
    zero constant bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    prev bytea;
    chain uuid;
    h bytea;
BEGIN
    FOR r IN SELECT * FROM clinres.admin_logs l ORDER BY l.tenant_id NULLS FIRST, l.id LOOP
        IF prev IS NULL OR r.tenant_id IS DISTINCT FROM chain THEN
            prev := zero;
        END IF;
        h := pg_catalog.sha256(pg_catalog.convert_to(clinres._admin_log_canonical(
            r.id, r.created_at, r.actor_id, r.tenant_id, r.action, r.target, r.detail, r.change_reason, prev), 'UTF8'));
        UPDATE clinres.admin_logs l SET prev_hash = prev, row_hash = h WHERE l.id OPERATOR(pg_catalog.=) r.id;
        prev := h;
        chain := r.tenant_id;
    END LOOP;
    INSERT INTO clinres.admin_log_chains (chain, xact)
    SELECT DISTINCT coalesce(l.tenant_id, '00000000-0000-0000-0000-000000000000'), pg_catalog.pg_current_xact_id()
      FROM clinres.admin_logs l;
END
$$;
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
CREATE TRIGGER chain BEFORE INSERT ON clinres.admin_logs FOR EACH ROW EXECUTE FUNCTION clinres._admin_log_chain();
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER chain;
ALTER TABLE clinres.admin_logs ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL;
