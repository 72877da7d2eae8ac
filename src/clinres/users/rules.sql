
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
    SELECT t.code INTO c FROM clinres.tenants t WHERE t.id = $1;
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

-- A validity given to assign_tenant, grant_module or an import: NULL ends are open; 22023 unless
-- from < until, and unless until is still to come when ended_ok is false (a validity given through
-- the API that has already ended grants nothing: a wrong year or time zone; an import may carry
-- an ended one, as the export wrote it).
CREATE OR REPLACE FUNCTION clinres._check_validity(valid_from timestamptz, valid_until timestamptz, ended_ok boolean DEFAULT false)
    RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF valid_from >= valid_until THEN
        RAISE EXCEPTION 'valid_from % is not before valid_until %', valid_from, valid_until
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A validity holds from valid_from (included) until valid_until (excluded).';
    END IF;
    IF valid_until <= pg_catalog.now() AND NOT ended_ok THEN
        RAISE EXCEPTION 'valid_until % has already passed', valid_until
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A validity that has ended grants nothing; to take access away, revoke it.';
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION clinres._check_validity(timestamptz, timestamptz, boolean) IS
    'true, or 22023 when valid_from is not before valid_until, or valid_until has passed (unless ended_ok)';

CREATE OR REPLACE FUNCTION clinres._role(role_code text) RETURNS clinres.roles
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    r clinres.roles;
BEGIN
    SELECT * INTO r FROM clinres.roles x WHERE x.code = pg_catalog.upper(pg_catalog.btrim($1));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown role "%"', $1 USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Valid roles: ' ||
                   (SELECT pg_catalog.string_agg(x.code, ', ' ORDER BY x.code) FROM clinres.roles x) || '.';
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION clinres._role(text) IS 'the role with this code (any case); 22023 naming it when unknown';

-- Module codes or names (any case) -> canonical codes, each subscribed by the tenant; NULL stays NULL (inherit).
-- The module a code or name (any case, spaces around ignored) names, its code first: the one
-- reading of a module as an administrator or an import file gives it; NULL when none.
CREATE OR REPLACE FUNCTION clinres._cell_module(given text) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT m.code FROM clinres.modules m
     WHERE m.code = pg_catalog.lower(pg_catalog.btrim($1)) OR pg_catalog.lower(m.name) = pg_catalog.lower(pg_catalog.btrim($1))
     ORDER BY m.code = pg_catalog.lower(pg_catalog.btrim($1)) DESC LIMIT 1
$$;
COMMENT ON FUNCTION clinres._cell_module(text) IS 'the module a code or name (any case) names, its code first; NULL when none';

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
        canon := clinres._cell_module(given);
        IF canon IS NULL THEN
            RAISE EXCEPTION 'unknown module "%"', given USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Valid modules: ' ||
                       (SELECT pg_catalog.string_agg(m.code, ', ' ORDER BY m.sort_order, m.code) FROM clinres.modules m)
                       || '.';
        END IF;
        IF NOT EXISTS (SELECT FROM clinres.tenant_modules tm JOIN clinres.modules m ON m.code = tm.module_code
                        WHERE tm.tenant_id = $1 AND tm.module_code = canon
                          AND tm.is_enabled AND m.is_active
                          AND (tm.expires_at IS NULL OR tm.expires_at > pg_catalog.now())) THEN
            RAISE EXCEPTION 'module "%" is not subscribed by tenant "%"', canon, clinres._tenant_code($1)
                USING ERRCODE = 'invalid_parameter_value', HINT = 'See clinres.module_options(tenant_id).';
        END IF;
        IF NOT canon = ANY (result) THEN
            result := result || canon;
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION clinres._tenant_modules(uuid, text[]) IS
    'canonical module codes of the given codes or names; 22023 for an unknown module or one the tenant does not subscribe';

-- The modules a member may use by its configuration (inherit, or its enabled rows) among the
-- tenant's current subscriptions, in navigation order, at now() (the membership's and the grants'
-- validities applied). User and membership status are not applied.
CREATE OR REPLACE FUNCTION clinres._member_modules(user_id uuid, tenant_id uuid) RETURNS text[]
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT coalesce(pg_catalog.array_agg(m.code ORDER BY m.sort_order, m.code), '{}')
      FROM clinres.tenant_modules tm JOIN clinres.modules m ON m.code = tm.module_code
     WHERE tm.tenant_id = $2 AND tm.is_enabled AND m.is_active
       AND (tm.expires_at IS NULL OR tm.expires_at > pg_catalog.now())
       AND NOT EXISTS (SELECT FROM clinres.user_tenants ut
                        WHERE ut.tenant_id = $2 AND ut.user_id = $1
                          AND (ut.valid_from > pg_catalog.now() OR ut.valid_until <= pg_catalog.now()))
       AND (NOT EXISTS (SELECT FROM clinres.user_modules um
                         WHERE um.tenant_id = $2 AND um.user_id = $1)
            OR EXISTS (SELECT FROM clinres.user_modules um
                        WHERE um.tenant_id = $2 AND um.user_id = $1
                          AND um.module_code = m.code AND um.is_enabled
                          AND (um.valid_from IS NULL OR um.valid_from <= pg_catalog.now())
                          AND (um.valid_until IS NULL OR um.valid_until > pg_catalog.now())))
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
    -- Driven by the ids through the primary key whatever the estimates: a join on unnest($2) was
    -- planned as a scan of every module row of the tenant per id when the statistics were stale
    -- (an import's later batches: quadratic).
    DELETE FROM clinres.user_modules um
     WHERE um.ctid = ANY (ARRAY(SELECT m.ctid FROM pg_catalog.unnest($2) x(id)
                                  CROSS JOIN LATERAL (SELECT k.ctid FROM clinres.user_modules k
                                                       WHERE k.tenant_id = $1 AND k.user_id = x.id OFFSET 0) m));
    INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
    SELECT $1, x.id, s.c, pg_catalog.cardinality(x.codes) > 0
      FROM (SELECT u.id, pg_catalog.string_to_array(u.cfg, E'\x1f') FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) u(id, cfg)
             WHERE u.cfg IS NOT NULL) x(id, codes)
     CROSS JOIN LATERAL (SELECT pg_catalog.unnest(x.codes)
                         UNION SELECT tm.module_code FROM clinres.tenant_modules tm
                          WHERE tm.tenant_id = $1 AND pg_catalog.cardinality(x.codes) = 0) s(c)
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
    IF TG_TABLE_NAME = 'modules' THEN
        INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
        SELECT c.tenant_id, c.user_id, m.code, false
          FROM (SELECT DISTINCT um.tenant_id, um.user_id FROM clinres.user_modules um
                 WHERE um.module_code = OLD.code) c
         CROSS JOIN clinres.modules m
         WHERE m.code <> OLD.code
        ON CONFLICT DO NOTHING;
    ELSE -- fired on a Citus placement: this node's copies (citus/citus.sql)
        EXECUTE pg_catalog.format('INSERT INTO %1$s (tenant_id, user_id, module_code, is_enabled)'
                                  ' SELECT c.tenant_id, c.user_id, m.code, false'
                                  ' FROM (SELECT DISTINCT um.tenant_id, um.user_id FROM %1$s um WHERE um.module_code = $1) c'
                                  ' CROSS JOIN %2$s m WHERE m.code <> $1 ON CONFLICT DO NOTHING',
                                  clinres._local_placement('clinres.user_modules'), clinres._local_placement('clinres.modules'))
          USING OLD.code;
    END IF;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION clinres._keep_module_configs() IS
    'before a module is deleted: its members'' configurations get a disabled row for every other module, so that they do not fall back to inheriting';
CREATE TRIGGER keep_module_configs BEFORE DELETE ON clinres.modules
    FOR EACH ROW EXECUTE FUNCTION clinres._keep_module_configs();

-- The member's configuration as the audit shows it: NULL (inherit) or the enabled codes.
CREATE OR REPLACE FUNCTION clinres._module_config(user_id uuid, tenant_id uuid) RETURNS text[]
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT CASE WHEN pg_catalog.count(*) > 0
                THEN coalesce(pg_catalog.array_agg(um.module_code ORDER BY um.module_code) FILTER (WHERE um.is_enabled), '{}') END
      FROM clinres.user_modules um WHERE um.tenant_id = $2 AND um.user_id = $1
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
                   FROM clinres.user_tenants ut JOIN clinres.tenants t ON t.id = ut.tenant_id
                  WHERE ut.user_id = u.id AND clinres.has_permission($1, t.id, 'user:view')), '[]'))
      FROM clinres.users u WHERE u.id = $2
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
-- (C0, DEL, C1) nor an invisible one that could hide or reorder what a reader sees, the set
-- clinres._invisible_at finds (src/clinres/users/visible_text.hpp, which change reasons share).
CREATE OR REPLACE FUNCTION clinres._invisible_at(value text) RETURNS integer
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_invisible_at';
COMMENT ON FUNCTION clinres._invisible_at(text) IS
    'position (in characters, from 1) of the first control or invisible character a name may not contain; 0 when none';
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
            FROM (SELECT clinres._invisible_at($2) AS at) b)
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
    clinres._visible_user(uuid, uuid, text, uuid), clinres._role(text), clinres._cell_module(text), clinres._tenant_modules(uuid, text[]),
    clinres._member_modules(uuid, uuid), clinres._check_validity(timestamptz, timestamptz, boolean), clinres._write_modules(uuid, uuid[], text[]), clinres._module_config(uuid, uuid),
    clinres._log(uuid, uuid, text, uuid, jsonb), clinres._log_account(uuid, uuid, text, jsonb), clinres._user_json(uuid, uuid),
    clinres._field_problem(text, text), clinres._invisible_at(text), clinres._bcrypt_cost(), clinres._keep_module_configs() FROM PUBLIC;
