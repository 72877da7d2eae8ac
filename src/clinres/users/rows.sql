
-- The one code path that validates and writes user rows into a tenant: create_user and
-- assign_tenant (one row) and import_users (every row of a file) all go through it, set-based.
--
-- Rows are parallel arrays, element i of each being row i: email, name, phone, role_code,
-- modules (codes or names separated by U+001F) and password, plus row_nos, the number a person
-- knows the row by (an import's sheet row; NULL: i), and password_hashes, bcrypt hashes stored
-- as given (an import's password_hash column; NULL: none). tenant_id NULL means the actor's context
-- tenant. role_code NULL means USER for a new member and "unchanged" for an existing one; modules
-- NULL means inherit for a new member and "unchanged" for an existing one. on_existing: 'error'
-- (an existing email is 23505), 'skip', 'update' (join or change the member; its global fields
-- only where the actor may change them) or 'add' (join only; 23505 when already a member; name,
-- phone and password are not applied: the row's note names those given). Permissions: joining needs user:create in the tenant, changing
-- an existing member user:edit; the grant ceiling applies to the role and the modules; global
-- fields follow the account verbs of clinres._authorize. Errors the caller would not fix by changing a row (no
-- context user) are raised, not returned.

-- One checked row: its problem (errcode and message, NULL when it may be written; field, the
-- field at fault), what the writer would do ('created', 'added' to the tenant, 'updated' member,
-- 'skipped'), the existing user matched by email (any case), and the values as the writer uses
-- them (trimmed, resolved). A row without a problem may have a message all the same: the note of
-- an added row naming the fields given that are not applied (field: them, comma-separated).
CREATE TYPE clinres._user_row_check AS (
    ord int, errcode text, message text, action text, user_id uuid,
    email text, name text, phone text, password text,
    role_given boolean, role_code text, role_scope text, codes text[], password_hash text, field text);
COMMENT ON TYPE clinres._user_row_check IS 'one row as clinres._check_user_rows checked it (internal; holds the given password)';

-- Checks rows for the context user without writing anything: one clinres._user_row_check per
-- row, in order. The first problem of a row wins, in this order: the tenant, the same email or
-- phone in an earlier row, the role, the modules, the actor's permission, the fields, then the
-- existing user and membership, the grant ceiling and the phone's uniqueness.
CREATE OR REPLACE FUNCTION clinres._check_user_rows(tenant_id uuid, on_existing text, emails text[], names text[], phones text[],
                                         roles text[], modules text[], passwords text[], row_nos int[] DEFAULT NULL,
                                         password_hashes text[] DEFAULT NULL)
    RETURNS SETOF clinres._user_row_check
    -- Without JIT: its per-row subqueries make the estimate high enough to compile for longer than a run takes.
    -- A generic plan: a custom one is made for every call (the planner sees the exact one-element
    -- arrays of create_user), which cost create_user ~4 ms of its ~5; an import's batches plan alike.
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp SET jit = off
    SET plan_cache_mode = force_generic_plan
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
    IF on_existing IS NULL OR on_existing <> ALL (ARRAY['error', 'skip', 'update', 'add']) THEN
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
               clinres._clean_name(x.n) AS n, NULLIF(pg_catalog.btrim(x.p), '') AS p, x.ro, x.m, x.pw,
               NULLIF(pg_catalog.btrim(x.ph), '') AS ph
          FROM ROWS FROM (pg_catalog.unnest(emails), pg_catalog.unnest(names), pg_catalog.unnest(phones),
                          pg_catalog.unnest(roles), pg_catalog.unnest(modules), pg_catalog.unnest(passwords),
                          pg_catalog.unnest(password_hashes))
               WITH ORDINALITY AS x(e, n, p, ro, m, pw, ph, ord)
    ), numbered AS (
        -- The first row with the same email (any case) or phone, for the rows after it.
        SELECT g.*,
               CASE WHEN g.e <> '' THEN pg_catalog.first_value(g.row_no) OVER (
                   PARTITION BY pg_catalog.lower(g.e) ORDER BY g.ord) END AS email_row,
               CASE WHEN g.e <> '' THEN pg_catalog.first_value(g.ord) OVER (
                   PARTITION BY pg_catalog.lower(g.e) ORDER BY g.ord) END AS email_ord,
               CASE WHEN g.p IS NOT NULL THEN pg_catalog.first_value(g.row_no) OVER (PARTITION BY g.p ORDER BY g.ord) END AS phone_row,
               CASE WHEN g.p IS NOT NULL THEN pg_catalog.first_value(g.ord) OVER (PARTITION BY g.p ORDER BY g.ord) END AS phone_ord
          FROM given g
    ), mods AS MATERIALIZED (
        SELECT m.code,
               m.is_active AND EXISTS (SELECT FROM clinres.tenant_modules tm
                                        WHERE tm.tenant_id = tenant AND tm.module_code = m.code
                                          AND tm.is_enabled
                                          AND (tm.expires_at IS NULL OR tm.expires_at > pg_catalog.now())) AS subscribed
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
                             pg_catalog.row_number() OVER (PARTITION BY c.code ORDER BY g.i) = 1 AS first
                        FROM pg_catalog.unnest(pg_catalog.string_to_array(l.m, E'\x1f')) WITH ORDINALITY g(given, i)
                        LEFT JOIN mods c ON c.code = clinres._cell_module(g.given)) s
          ) mc
    ), checked AS (
        SELECT r.*, ro.code AS role_code, ro.scope AS role_scope, mc.problem AS module_problem, mc.codes,
               t.id AS target, t.name AS target_name, t.phone AS target_phone, t.platform_role AS target_role,
               mb.user_id IS NOT NULL AS member, mb.role_code AS member_role,
               fe.errcode AS email_errcode, fe.message AS email_message, fp.errcode AS phone_errcode, fp.message AS phone_message,
               fw.errcode AS password_errcode, fw.message AS password_message, fn.errcode AS name_errcode, fn.message AS name_message,
               clinres._password_hash_problem(r.ph, r.pw IS NOT NULL) AS hash_problem
          FROM numbered r
          LEFT JOIN clinres.roles ro ON ro.code = pg_catalog.upper(pg_catalog.btrim(coalesce(r.ro, 'USER')))
          LEFT JOIN module_lists mc ON mc.m = r.m
          LEFT JOIN clinres.users t ON pg_catalog.lower(t.email) = pg_catalog.lower(r.e)
          LEFT JOIN clinres.user_tenants mb ON mb.tenant_id = tenant AND mb.user_id = t.id
          LEFT JOIN LATERAL clinres._field_problem('email', r.e) fe ON true
          LEFT JOIN LATERAL clinres._field_problem('phone', r.p) fp ON true
          LEFT JOIN LATERAL clinres._field_problem('password', r.pw) fw ON true
          LEFT JOIN LATERAL clinres._field_problem('name', r.n) fn ON true
    ), decided AS (
        -- The decision on each existing user the row would change (docs/users.md): joining the
        -- tenant (the user must be one the actor may see, or a former member of the tenant), its
        -- role and modules there, and its account (name, phone, password: every tenant of the user).
        SELECT c.*,
               CASE WHEN c.target IS NOT NULL AND on_existing = ANY (ARRAY['update', 'add']) AND terr IS NULL AND NOT c.member
                    THEN clinres._denial(actor, 'add', tenant, c.target, coalesce(c.role_code, 'USER')) END AS add_denial,
               CASE WHEN c.target IS NOT NULL AND on_existing = ANY (ARRAY['update', 'add']) AND terr IS NULL AND c.member
                         AND c.ro IS NOT NULL AND c.role_code <> c.member_role
                    THEN clinres._denial(actor, 'role', tenant, c.target, c.role_code) END AS role_denial,
               CASE WHEN c.target IS NOT NULL AND on_existing = ANY (ARRAY['update', 'add']) AND terr IS NULL AND c.member
                         AND c.m IS NOT NULL
                    THEN clinres._denial(actor, 'modules', tenant, c.target) END AS modules_denial,
               -- An added user's account fields are not applied (the note says so): no decision on them.
               CASE WHEN c.target IS NOT NULL AND c.member AND on_existing = 'update' AND terr IS NULL
                         AND ((c.n IS NOT NULL AND c.n <> c.target_name) OR (c.p IS NOT NULL AND c.p IS DISTINCT FROM c.target_phone))
                    THEN clinres._denial(actor, 'update', NULL, c.target) END AS account_denial,
               CASE WHEN c.target IS NOT NULL AND c.member AND on_existing = 'update' AND terr IS NULL AND (c.pw IS NOT NULL OR c.ph IS NOT NULL)
                    THEN clinres._denial(actor, 'password', NULL, c.target) END AS password_denial
          FROM checked c
    ), judged AS (
        SELECT c.*,
               CASE WHEN c.target IS NULL THEN 'created' WHEN on_existing = 'skip' THEN 'skipped'
                    WHEN NOT c.member THEN 'added' ELSE 'updated' END AS action,
               -- What an added row gives that joining does not apply: the account's fields belong to
               -- every tenant of the user, and an add changes only the membership.
               CASE WHEN c.target IS NOT NULL AND NOT c.member AND on_existing = ANY (ARRAY['update', 'add'])
                    THEN pg_catalog.array_to_string(ARRAY[
                             CASE WHEN c.n IS NOT NULL AND c.n <> c.target_name THEN 'name' END,
                             CASE WHEN c.p IS NOT NULL AND c.p IS DISTINCT FROM c.target_phone THEN 'phone' END,
                             CASE WHEN c.pw IS NOT NULL THEN 'password' END,
                             CASE WHEN c.ph IS NOT NULL THEN 'password_hash' END], ',') END AS not_applied,
               -- The problem: errcode, message and the field it is about ('user': the row's user as a whole).
               CASE
                   WHEN terr IS NOT NULL THEN ARRAY[terr, tmsg, CASE WHEN terr = '22023' AND tmsg LIKE 'invalid on_existing%' THEN 'on_existing' ELSE 'tenant_id' END]
                   WHEN c.email_ord <> c.ord
                   THEN ARRAY['23505', pg_catalog.format('email %s appears again in row %s', c.e, c.email_row), 'email']
                   WHEN c.phone_ord <> c.ord
                   THEN ARRAY['23505', pg_catalog.format('phone %s appears again in row %s', c.p, c.phone_row), 'phone']
                   WHEN c.ro IS NOT NULL AND c.role_code IS NULL THEN ARRAY['22023', pg_catalog.format('unknown role "%s"', c.ro), 'role']
                   WHEN c.module_problem IS NOT NULL THEN ARRAY['22023', c.module_problem, 'modules']
                   -- Nothing about the tenant's members is told to an actor who may not add or edit them.
                   WHEN NOT (may_create OR may_edit)
                   THEN ARRAY['42501', pg_catalog.format('permission denied: "user:create" is required in tenant "%s"', tcode), 'user']
                   WHEN c.email_errcode IS NOT NULL THEN ARRAY[c.email_errcode, c.email_message, 'email']
                   WHEN on_existing <> 'add' AND c.phone_errcode IS NOT NULL THEN ARRAY[c.phone_errcode, c.phone_message, 'phone']
                   WHEN on_existing <> 'add' AND c.password_errcode IS NOT NULL
                   THEN ARRAY[c.password_errcode, c.password_message, 'password']
                   WHEN on_existing <> 'add' AND c.hash_problem IS NOT NULL THEN ARRAY['22023', c.hash_problem, 'password_hash']
                   -- A new user.
                   WHEN c.target IS NULL AND c.name_errcode IS NOT NULL THEN ARRAY[c.name_errcode, c.name_message, 'name']
                   WHEN c.target IS NULL AND NOT may_create
                   THEN ARRAY['42501', pg_catalog.format('permission denied: "user:create" is required in tenant "%s"', tcode), 'user']
                   -- An existing user.
                   WHEN c.target IS NOT NULL AND on_existing = 'error'
                   THEN ARRAY['23505', pg_catalog.format('email "%s" is already in use', c.e), 'email']
                   WHEN c.target IS NOT NULL AND on_existing = 'skip' THEN NULL
                   WHEN c.target IS NOT NULL AND c.member AND on_existing = 'add'
                   THEN ARRAY['23505', pg_catalog.format('user "%s" is already a member of tenant "%s"', c.e, tcode), 'email']
                   WHEN c.target IS NOT NULL AND NOT CASE WHEN c.member THEN may_edit ELSE may_create END
                   THEN ARRAY['42501', pg_catalog.format('permission denied: "%s" is required in tenant "%s"',
                                                         CASE WHEN c.member THEN 'user:edit' ELSE 'user:create' END, tcode), 'user']
                   WHEN c.add_denial IS NOT NULL THEN ARRAY['42501', c.add_denial, 'user']
                   WHEN c.role_denial IS NOT NULL THEN ARRAY['42501', c.role_denial, 'role']
                   WHEN c.modules_denial IS NOT NULL THEN ARRAY['42501', c.modules_denial, 'modules']
                   WHEN c.target IS NOT NULL AND c.member AND on_existing = 'update' AND c.n IS NOT NULL AND c.n <> c.target_name
                        AND c.name_errcode IS NOT NULL THEN ARRAY[c.name_errcode, c.name_message, 'name']
                   WHEN c.account_denial IS NOT NULL THEN ARRAY['42501', c.account_denial, 'user']
                   WHEN c.password_denial IS NOT NULL
                   THEN ARRAY['42501', c.password_denial, CASE WHEN c.ph IS NOT NULL THEN 'password_hash' ELSE 'password' END]
                   -- A new user gets USER when the cell is empty: within the ceiling like any role given.
                   WHEN c.target IS NULL AND NOT (SELECT x.ok FROM ceiling x WHERE x.code = c.role_code)
                   THEN ARRAY['42501', pg_catalog.format('permission denied: role "%s" is above your own in tenant "%s"', c.role_code, tcode), 'role']
                   WHEN c.p IS NOT NULL AND on_existing <> 'add'
                        AND EXISTS (SELECT FROM clinres.users u WHERE u.phone = c.p AND u.id IS DISTINCT FROM c.target)
                   THEN ARRAY['23505', pg_catalog.format('phone "%s" is already in use', c.p), 'phone']
               END AS problem
          FROM decided c
    )
    -- Never an id the actor may not see: a user it may not add, change or see stays unnamed.
    SELECT j.ord, j.problem[1],
           coalesce(j.problem[2], CASE WHEN j.not_applied <> '' THEN pg_catalog.format(
               'not applied to the existing account: %s',
               pg_catalog.replace(j.not_applied, ',', ', ')) END),
           j.action,
           CASE WHEN j.target IS NULL THEN NULL
                WHEN j.problem IS NULL AND j.action = ANY (ARRAY['added', 'updated']) THEN j.target
                WHEN clinres._allowed(actor, 'view', NULL, j.target) THEN j.target END,
           j.e, j.n, j.p, j.pw,
           j.ro IS NOT NULL, j.role_code, j.role_scope, j.codes, j.ph,
           coalesce(j.problem[3], NULLIF(j.not_applied, ''))
      FROM judged j ORDER BY j.ord;
END
$$;
COMMENT ON FUNCTION clinres._check_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[], text[]) IS
    'validates user rows for the context user without writing: per row the first problem or NULLs, the action it would take, the existing user';

-- Raises 23505 naming the field a concurrent writer took (the unique index has the last word).
CREATE OR REPLACE FUNCTION clinres._raise_duplicate(email text, phone text) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM clinres.users u WHERE pg_catalog.lower(u.email) = pg_catalog.lower($1)) THEN
        RAISE EXCEPTION 'email "%" is already in use', $1 USING ERRCODE = 'unique_violation',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'email';
    END IF;
    RAISE EXCEPTION 'phone "%" is already in use', $2 USING ERRCODE = 'unique_violation',
        SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'phone';
END
$$;
COMMENT ON FUNCTION clinres._raise_duplicate(text, text) IS '23505 naming the email or, failing that, the phone as already in use (with the field marker)';

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
    SELECT * INTO before FROM clinres.users u WHERE u.id = r.user_id;
    SELECT * INTO member FROM clinres.user_tenants ut
     WHERE ut.tenant_id = tenant_id AND ut.user_id = r.user_id;
    IF r.name IS NOT NULL AND r.name <> before.name THEN
        was := was || pg_catalog.jsonb_build_object('name', before.name);
        changed := changed || pg_catalog.jsonb_build_object('name', r.name);
    END IF;
    IF r.phone IS NOT NULL AND r.phone IS DISTINCT FROM before.phone THEN
        was := was || pg_catalog.jsonb_build_object('phone', before.phone);
        changed := changed || pg_catalog.jsonb_build_object('phone', r.phone);
    END IF;
    IF changed <> '{}' OR r.password IS NOT NULL OR r.password_hash IS NOT NULL THEN
        UPDATE clinres.users u SET name = coalesce(r.name, u.name), phone = coalesce(r.phone, u.phone), updated_at = pg_catalog.now(),
               password_hash = CASE WHEN r.password_hash IS NOT NULL THEN r.password_hash
                                    WHEN r.password IS NOT NULL THEN clinres._bcrypt(r.password, clinres._bcrypt_cost())
                                    ELSE u.password_hash END
         WHERE u.id = r.user_id;
        IF r.password IS NOT NULL OR r.password_hash IS NOT NULL THEN
            changed := changed || '{"password_set": true}';
        END IF;
        -- The account's fields: every tenant of the user sees the change (as update_user logs it).
        PERFORM clinres._log_account(actor, r.user_id, 'user.update', pg_catalog.jsonb_build_object('before', was, 'after', changed));
        was := '{}';
        changed := '{}';
    END IF;
    IF r.role_given AND r.role_scope = 'tenant' AND r.role_code <> member.role_code THEN
        UPDATE clinres.user_tenants ut SET role_code = r.role_code
         WHERE ut.tenant_id = tenant_id AND ut.user_id = r.user_id;
        was := was || pg_catalog.jsonb_build_object('role_code', member.role_code);
        changed := changed || pg_catalog.jsonb_build_object('role_code', r.role_code);
    END IF;
    IF r.role_given AND r.role_scope = 'platform' AND before.platform_role IS DISTINCT FROM r.role_code THEN
        UPDATE clinres.users u SET platform_role = r.role_code, updated_at = pg_catalog.now() WHERE u.id = r.user_id;
        -- A platform role is the account's: every tenant of the user sees it granted (as set_tenant_role logs it).
        PERFORM clinres._log_account(actor, r.user_id, 'user.update', pg_catalog.jsonb_build_object(
            'before', pg_catalog.jsonb_build_object('platform_role', before.platform_role),
            'after', pg_catalog.jsonb_build_object('platform_role', r.role_code), 'tenant_id', tenant_id));
    END IF;
    before_modules := clinres._module_config(r.user_id, tenant_id);
    IF r.codes IS NOT NULL AND before_modules IS DISTINCT FROM (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(r.codes) x) THEN
        PERFORM clinres._write_modules(tenant_id, ARRAY[r.user_id], ARRAY[pg_catalog.array_to_string(r.codes, E'\x1f')]);
        was := was || pg_catalog.jsonb_build_object('modules', before_modules);
        changed := changed || pg_catalog.jsonb_build_object('modules', clinres._module_config(r.user_id, tenant_id));
    END IF;
    IF changed <> '{}' THEN
        PERFORM clinres._log(actor, tenant_id, 'user.update', r.user_id, pg_catalog.jsonb_build_object('before', was, 'after', changed));
    END IF;
END
$$;
COMMENT ON FUNCTION clinres._update_member(uuid, uuid, clinres._user_row_check) IS
    'changes an existing member as its checked row says (name, phone, password or hash, role, modules) and logs it';

-- The writer: checks every row with clinres._check_user_rows; if any has a problem, writes nothing
-- and returns the checks. Otherwise writes them with clinres._write_checked_rows and returns per row
-- (ord, NULL, note, action, user_id, email, name, the note's fields).
CREATE OR REPLACE FUNCTION clinres._write_user_rows(tenant_id uuid, on_existing text, emails text[], names text[], phones text[],
                                         roles text[], modules text[], passwords text[], row_nos int[] DEFAULT NULL,
                                         password_hashes text[] DEFAULT NULL)
    RETURNS TABLE (ord int, errcode text, message text, action text, user_id uuid, email text, name text, field text)
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
    checks := ARRAY(SELECT c FROM clinres._check_user_rows(tenant, $2, $3, $4, $5, $6, $7, $8, $9, $10) c ORDER BY c.ord);
    IF EXISTS (SELECT FROM pg_catalog.unnest(checks) c WHERE c.errcode IS NOT NULL) THEN
        RETURN QUERY SELECT c.ord, c.errcode, c.message, c.action, c.user_id, c.email, c.name, c.field
                       FROM pg_catalog.unnest(checks) c ORDER BY c.ord;
        RETURN;
    END IF;
    ids := clinres._write_checked_rows(tenant, checks);
    RETURN QUERY SELECT c.ord, NULL::text, c.message, c.action, ids[c.ord], c.email, c.name, c.field
                   FROM pg_catalog.unnest(checks) c ORDER BY c.ord;
END
$$;
COMMENT ON FUNCTION clinres._write_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[], text[]) IS
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
    ids := ARRAY(SELECT coalesce(c.user_id, CASE WHEN c.action = 'created' THEN pg_catalog.gen_random_uuid() END)
                   FROM pg_catalog.unnest(checks) c ORDER BY c.ord);

    BEGIN
        INSERT INTO clinres.users (id, email, name, phone, password_hash, platform_role)
        SELECT ids[c.ord], c.email, c.name, c.phone,
               -- A hash as the file gives it (checked for form): no bcrypt work.
               CASE WHEN c.password_hash IS NOT NULL THEN c.password_hash
                    WHEN c.password IS NOT NULL THEN clinres._bcrypt(c.password, clinres._bcrypt_cost()) END,
               CASE WHEN c.role_scope = 'platform' THEN c.role_code END
          FROM pg_catalog.unnest(checks) c WHERE c.action = 'created' ORDER BY c.ord;
    EXCEPTION WHEN unique_violation THEN
        -- A concurrent transaction took an email or phone after the check: name the first row it hit.
        FOR r IN SELECT * FROM pg_catalog.unnest(checks) c WHERE c.action = 'created' ORDER BY c.ord LOOP
            IF EXISTS (SELECT FROM clinres.users u WHERE pg_catalog.lower(u.email) = pg_catalog.lower(r.email)
                                                      OR u.phone = r.phone) THEN
                PERFORM clinres._raise_duplicate(r.email, r.phone);
            END IF;
        END LOOP;
        RAISE;
    END;
    -- A platform role given to a user who joins: the account's, logged where its other tenants see it
    -- (this tenant sees it in the tenant.assign row below).
    FOR r IN SELECT * FROM pg_catalog.unnest(checks) c WHERE c.action = 'added' AND c.role_given AND c.role_scope = 'platform'
                AND EXISTS (SELECT FROM clinres.users u WHERE u.id = c.user_id AND u.platform_role IS DISTINCT FROM c.role_code)
              ORDER BY c.ord LOOP
        PERFORM clinres._log_account(actor, r.user_id, 'user.update', pg_catalog.jsonb_build_object(
            'before', (SELECT pg_catalog.jsonb_build_object('platform_role', u.platform_role) FROM clinres.users u WHERE u.id = r.user_id),
            'after', pg_catalog.jsonb_build_object('platform_role', r.role_code), 'tenant_id', tenant));
        UPDATE clinres.users u SET platform_role = r.role_code, updated_at = pg_catalog.now() WHERE u.id = r.user_id;
    END LOOP;

    -- A platform role's holder joins as TENANT_ADMIN.
    INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
    SELECT tenant, ids[c.ord], CASE WHEN c.role_scope = 'platform' THEN 'TENANT_ADMIN' ELSE c.role_code END
      FROM pg_catalog.unnest(checks) c WHERE c.action = ANY ('{created,added}') ORDER BY c.ord;
    IF EXISTS (SELECT FROM pg_catalog.unnest(checks) c WHERE c.action = ANY ('{created,added}') AND c.codes IS NOT NULL) THEN
        PERFORM clinres._write_modules(tenant, pg_catalog.array_agg(ids[c.ord] ORDER BY c.ord),
                                       pg_catalog.array_agg(pg_catalog.array_to_string(c.codes, E'\x1f') ORDER BY c.ord))
           FROM pg_catalog.unnest(checks) c WHERE c.action = ANY ('{created,added}') AND c.codes IS NOT NULL;
    END IF;
    INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
    SELECT actor, tenant, CASE WHEN c.action = 'created' THEN 'user.create' ELSE 'tenant.assign' END,
           ids[c.ord]::pg_catalog.text,
           pg_catalog.jsonb_build_object('after', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
               'email', c.email, 'name', CASE WHEN c.action = 'created' THEN c.name END,
               'phone', CASE WHEN c.action = 'created' THEN c.phone END,
               'role_code', c.role_code, 'modules', pg_catalog.to_jsonb(c.codes),
               'password_set', CASE WHEN c.action = 'created' THEN c.password IS NOT NULL OR c.password_hash IS NOT NULL END)))
      FROM pg_catalog.unnest(checks) c WHERE c.action = ANY ('{created,added}') ORDER BY c.ord;

    FOR r IN SELECT * FROM pg_catalog.unnest(checks) c WHERE c.action = 'updated' ORDER BY c.ord LOOP
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
    IF w.errcode = '42501' THEN
        RAISE EXCEPTION USING ERRCODE = w.errcode, MESSAGE = w.message, SCHEMA = 'clinres', TABLE = 'row', COLUMN = 'user';
    ELSIF w.errcode IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = w.errcode, MESSAGE = w.message, SCHEMA = 'clinres', TABLE = 'field', COLUMN = w.field;
    END IF;
    action := w.action;
    user_id := w.user_id;
END
$$;
COMMENT ON FUNCTION clinres._create_or_add_user(text, text, text, text, text[], uuid, text, text) IS
    'writes one user row with clinres._write_user_rows, raising its problem: creates, adds to the tenant, updates or skips';
REVOKE ALL ON FUNCTION clinres._raise_duplicate(text, text),
    clinres._check_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[], text[]),
    clinres._update_member(uuid, uuid, clinres._user_row_check),
    clinres._write_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[], text[]),
    clinres._write_checked_rows(uuid, clinres._user_row_check[]),
    clinres._create_or_add_user(text, text, text, text, text[], uuid, text, text) FROM PUBLIC;
