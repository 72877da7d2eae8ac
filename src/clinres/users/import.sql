
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
        email text, name text, phone text, role text, modules text, password text, password_hash text,
        valid_from text, valid_until text) ON COMMIT DROP;
    CREATE INDEX ON pg_temp.clinres_import_rows (batch);
    CREATE TEMPORARY TABLE clinres_import_checks (
        ord int PRIMARY KEY, batch int NOT NULL, row_no int NOT NULL, c clinres._user_row_check) ON COMMIT DROP;
    CREATE INDEX ON pg_temp.clinres_import_checks (batch);
END
$$;
COMMENT ON FUNCTION clinres._import_stage() IS 'creates the temporary tables of one import_users call (rows as read, their checks)';

-- The problem of an import row's membership validity, as errcode, message and field, or NULL:
-- each cell (NULL: open) must read as a timestamptz, and the pair must pass clinres._check_validity
-- (an ended validity is accepted: the export writes former validities).
CREATE OR REPLACE FUNCTION clinres._import_validity_problem(valid_from text, valid_until text) RETURNS text[]
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    f timestamptz;
    u timestamptz;
    msg text;
BEGIN
    BEGIN
        f := $1::timestamptz;
    EXCEPTION WHEN data_exception THEN
        RETURN ARRAY['22023', pg_catalog.format('invalid valid_from "%s"', pg_catalog.left($1, 64)), 'valid_from'];
    END;
    BEGIN
        u := $2::timestamptz;
    EXCEPTION WHEN data_exception THEN
        RETURN ARRAY['22023', pg_catalog.format('invalid valid_until "%s"', pg_catalog.left($2, 64)), 'valid_until'];
    END;
    BEGIN
        PERFORM clinres._check_validity(f, u, true); -- an ended one reads back as exported
    EXCEPTION WHEN invalid_parameter_value THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
        RETURN ARRAY['22023', msg, 'valid_until'];
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._import_validity_problem(text, text) IS
    'errcode, message and field of an import row''s malformed or empty validity (valid_from, valid_until), or NULL';

-- The pieces of a staged modules cell (U+001F between them), in order: the module as given and,
-- for a piece `module@from~until`, its validity as written (docs/import.md); NULL without one.
CREATE OR REPLACE FUNCTION clinres._import_module_pieces(modules text)
    RETURNS TABLE (i bigint, given text, validity text)
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT p.i, pg_catalog.btrim(pg_catalog.split_part(p.piece, '@', 1)),
           CASE WHEN pg_catalog.strpos(p.piece, '@') > 0 THEN pg_catalog.substr(p.piece, pg_catalog.strpos(p.piece, '@') + 1) END
      FROM pg_catalog.unnest(pg_catalog.string_to_array($1, E'\x1f')) WITH ORDINALITY p(piece, i)
$$;
COMMENT ON FUNCTION clinres._import_module_pieces(text) IS
    'the pieces of a staged modules cell: the module as given and the validity written after its @ (or NULL)';

-- A staged modules cell without the validities of its pieces: what the row check reads.
CREATE OR REPLACE FUNCTION clinres._import_module_codes(modules text) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT pg_catalog.string_agg(p.given, E'\x1f' ORDER BY p.i) FROM clinres._import_module_pieces($1) p
$$;
COMMENT ON FUNCTION clinres._import_module_codes(text) IS 'a staged modules cell without the validities of its pieces';

-- The validity of one piece of a modules cell (`from~until`, either end empty: open) as its two
-- ends, or the problem (errcode, message, field 'modules') that makes the row an error.
CREATE OR REPLACE FUNCTION clinres._import_module_validity(given text, validity text,
                                                           OUT valid_from timestamptz, OUT valid_until timestamptz,
                                                           OUT problem text[])
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    f text := NULLIF(pg_catalog.btrim(pg_catalog.split_part($2, '~', 1)), '');
    u text := NULLIF(pg_catalog.btrim(pg_catalog.split_part($2, '~', 2)), '');
BEGIN
    IF pg_catalog.strpos($2, '~') = 0 OR pg_catalog.split_part($2, '~', 3) <> '' OR (f IS NULL AND u IS NULL) THEN
        problem := ARRAY['22023', pg_catalog.format('module "%s": validity "%s" is not FROM~UNTIL (either may be empty, not both)',
                                                    pg_catalog.left($1, 64), pg_catalog.left($2, 64)), 'modules'];
        RETURN;
    END IF;
    problem := clinres._import_validity_problem(f, u);
    IF problem IS NOT NULL THEN
        problem := ARRAY[problem[1], pg_catalog.format('module "%s": %s', pg_catalog.left($1, 64), problem[2]), 'modules'];
        RETURN;
    END IF;
    valid_from := f::timestamptz;
    valid_until := u::timestamptz;
END
$$;
COMMENT ON FUNCTION clinres._import_module_validity(text, text) IS
    'the two ends of a modules cell piece''s validity (from~until), or its problem (errcode, message, field)';

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
        SELECT g.first + c.ord - 1, b, g.row_nos[c.ord], c
          FROM (SELECT pg_catalog.min(s.ord) AS first, pg_catalog.array_agg(s.email ORDER BY s.ord) AS e,
                       pg_catalog.array_agg(s.name ORDER BY s.ord) AS n, pg_catalog.array_agg(s.phone ORDER BY s.ord) AS p,
                       pg_catalog.array_agg(s.role ORDER BY s.ord) AS ro, pg_catalog.array_agg(CASE WHEN pg_catalog.strpos(s.modules, '@') = 0 THEN s.modules
                                                 ELSE clinres._import_module_codes(s.modules) END ORDER BY s.ord) AS m,
                       pg_catalog.array_agg(s.password ORDER BY s.ord) AS pw, pg_catalog.array_agg(s.row_no ORDER BY s.ord) AS row_nos,
                       pg_catalog.array_agg(s.password_hash ORDER BY s.ord) AS ph
                  FROM pg_temp.clinres_import_rows s WHERE s.batch = b) g
         CROSS JOIN LATERAL clinres._check_user_rows($1, $2, g.e, g.n, g.p, g.ro, g.m, g.pw, g.row_nos, g.ph) c;
    END LOOP;
    UPDATE pg_temp.clinres_import_checks k
       SET c.errcode = '23505', c.field = CASE WHEN d.email_ord <> d.ord THEN 'email' ELSE 'phone' END,
           c.message = CASE WHEN d.email_ord <> d.ord
                            THEN pg_catalog.format('email %s appears again in row %s', d.e, d.email_row)
                            ELSE pg_catalog.format('phone %s appears again in row %s', d.p, d.phone_row) END
      FROM (SELECT f.* FROM (
                SELECT s.ord, pg_catalog.btrim(s.email) AS e, NULLIF(pg_catalog.btrim(s.phone), '') AS p,
                       CASE WHEN pg_catalog.btrim(s.email) <> '' THEN pg_catalog.first_value(s.ord) OVER (
                           PARTITION BY pg_catalog.lower(pg_catalog.btrim(s.email)) ORDER BY s.ord) END AS email_ord,
                       CASE WHEN pg_catalog.btrim(s.email) <> '' THEN pg_catalog.first_value(s.row_no) OVER (
                           PARTITION BY pg_catalog.lower(pg_catalog.btrim(s.email)) ORDER BY s.ord) END AS email_row,
                       CASE WHEN NULLIF(pg_catalog.btrim(s.phone), '') IS NOT NULL THEN pg_catalog.first_value(s.ord) OVER (
                           PARTITION BY NULLIF(pg_catalog.btrim(s.phone), '') ORDER BY s.ord) END AS phone_ord,
                       CASE WHEN NULLIF(pg_catalog.btrim(s.phone), '') IS NOT NULL THEN pg_catalog.first_value(s.row_no) OVER (
                           PARTITION BY NULLIF(pg_catalog.btrim(s.phone), '') ORDER BY s.ord) END AS phone_row
                  FROM pg_temp.clinres_import_rows s) f
             WHERE f.email_ord <> f.ord OR f.phone_ord <> f.ord) d
     WHERE k.ord = d.ord;
    -- The membership's validity of the rows without another problem (docs/import.md).
    UPDATE pg_temp.clinres_import_checks k
       SET c.errcode = v.problem[1], c.message = v.problem[2], c.field = v.problem[3]
      FROM (SELECT s.ord, clinres._import_validity_problem(s.valid_from, s.valid_until) AS problem
              FROM pg_temp.clinres_import_rows s
             WHERE s.valid_from IS NOT NULL OR s.valid_until IS NOT NULL) v
     WHERE k.ord = v.ord AND v.problem IS NOT NULL AND (k.c).errcode IS NULL;
    -- The validities in modules cells, the first problem of a row (docs/import.md).
    UPDATE pg_temp.clinres_import_checks k
       SET c.errcode = v.problem[1], c.message = v.problem[2], c.field = v.problem[3]
      FROM (SELECT DISTINCT ON (s.ord) s.ord, mv.problem
              FROM pg_temp.clinres_import_rows s
             CROSS JOIN LATERAL clinres._import_module_pieces(s.modules) p
             CROSS JOIN LATERAL clinres._import_module_validity(p.given, p.validity) mv
             WHERE pg_catalog.strpos(s.modules, '@') > 0 AND p.validity IS NOT NULL AND mv.problem IS NOT NULL
             ORDER BY s.ord, p.i) v
     WHERE k.ord = v.ord AND (k.c).errcode IS NULL;
    -- A member's validity that the row changes is the decision's verb validity (it can end the
    -- membership, or extend it); a new member's comes with its add, decided by the row check.
    UPDATE pg_temp.clinres_import_checks k
       SET c.errcode = '42501', c.message = d.denial, c.field = d.field
      FROM (SELECT x.ord, x.field, clinres._denial(clinres._actor(), 'validity', $1, x.user_id) AS denial
              FROM (SELECT s.ord, ut.user_id,
                           CASE WHEN ut.valid_until IS DISTINCT FROM s.valid_until::timestamptz THEN 'valid_until'
                                WHEN ut.valid_from IS DISTINCT FROM s.valid_from::timestamptz THEN 'valid_from' END AS field
                      FROM pg_temp.clinres_import_checks c
                      JOIN pg_temp.clinres_import_rows s ON s.ord = c.ord
                      JOIN clinres.user_tenants ut ON ut.tenant_id = $1 AND ut.user_id = (c.c).user_id
                     WHERE (c.c).errcode IS NULL AND (c.c).action = 'updated'
                       AND (s.valid_from IS NOT NULL OR s.valid_until IS NOT NULL)) x
             WHERE x.field IS NOT NULL) d
     WHERE k.ord = d.ord AND d.denial IS NOT NULL;
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
    r record;
BEGIN
    SELECT pg_catalog.max(k.batch) INTO batches FROM pg_temp.clinres_import_checks k;
    FOR b IN 1..coalesce(batches, 0) LOOP
        ids := clinres._write_checked_rows($1, ARRAY(SELECT k.c FROM pg_temp.clinres_import_checks k
                                                       WHERE k.batch = b ORDER BY k.ord));
        UPDATE pg_temp.clinres_import_checks k SET c.user_id = ids[(k.c).ord]
         WHERE k.batch = b AND (k.c).action = 'created';
        written := written + pg_catalog.cardinality(ids);
    END LOOP;
    -- The membership's validity, where a written row gives one (both ends: an empty cell is open),
    -- logged as assign_tenant logs it.
    FOR r IN
        WITH given AS (
            SELECT (k.c).user_id AS user_id, s.valid_from::timestamptz AS valid_from, s.valid_until::timestamptz AS valid_until
              FROM pg_temp.clinres_import_checks k JOIN pg_temp.clinres_import_rows s ON s.ord = k.ord
             WHERE (k.c).action = ANY (ARRAY['created', 'added', 'updated'])
               AND (s.valid_from IS NOT NULL OR s.valid_until IS NOT NULL)
        ), was AS (
            SELECT g.*, ut.valid_from AS was_from, ut.valid_until AS was_until
              FROM given g JOIN clinres.user_tenants ut ON ut.tenant_id = $1 AND ut.user_id = g.user_id
             WHERE ut.valid_from IS DISTINCT FROM g.valid_from OR ut.valid_until IS DISTINCT FROM g.valid_until
        ), changed AS (
            UPDATE clinres.user_tenants ut SET valid_from = w.valid_from, valid_until = w.valid_until
              FROM was w WHERE ut.tenant_id = $1 AND ut.user_id = w.user_id
            RETURNING w.*
        )
        SELECT * FROM changed ORDER BY user_id
    LOOP
        PERFORM clinres._log(clinres._actor(), $1, 'tenant.validity', r.user_id,
                             pg_catalog.jsonb_build_object('before', pg_catalog.jsonb_build_object('valid_from', r.was_from,
                                                                                                   'valid_until', r.was_until),
                                                           'after', pg_catalog.jsonb_build_object('valid_from', r.valid_from,
                                                                                                  'valid_until', r.valid_until)));
    END LOOP;
    -- The validity of each module the modules cell of a written row gives (none: always), on its
    -- enabled grant, logged as grant_module logs it. The first piece of a module counts, as in the
    -- row check.
    FOR r IN
        WITH todo AS (
            -- Only where a validity is given or one may have to go (the others change nothing),
            -- each side filtered before the join (a join of every staged row first was quadratic).
            SELECT k.ord, (k.c).user_id AS user_id, s.modules
              FROM pg_temp.clinres_import_rows s JOIN pg_temp.clinres_import_checks k ON k.ord = s.ord
             WHERE pg_catalog.strpos(s.modules, '@') > 0 AND (k.c).action = ANY (ARRAY['created', 'added', 'updated'])
            UNION
            SELECT k.ord, (k.c).user_id, s.modules
              FROM pg_temp.clinres_import_checks k JOIN pg_temp.clinres_import_rows s ON s.ord = k.ord
             WHERE (k.c).action = ANY (ARRAY['added', 'updated']) AND s.modules IS NOT NULL
               AND EXISTS (SELECT FROM clinres.user_modules v WHERE v.tenant_id = $1 AND v.user_id = (k.c).user_id
                              AND (v.valid_from IS NOT NULL OR v.valid_until IS NOT NULL))
        ), given AS (
            SELECT DISTINCT ON (t.user_id, m.code) t.user_id, m.code, mv.valid_from, mv.valid_until
              FROM todo t
             CROSS JOIN LATERAL clinres._import_module_pieces(t.modules) p
             CROSS JOIN LATERAL (SELECT clinres._cell_module(p.given) AS code) m
             CROSS JOIN LATERAL (SELECT v.valid_from, v.valid_until FROM clinres._import_module_validity(p.given, p.validity) v
                                  WHERE p.validity IS NOT NULL
                                 UNION ALL SELECT NULL, NULL WHERE p.validity IS NULL) mv
             ORDER BY t.user_id, m.code, p.i
        ), was AS (
            SELECT g.*, clinres._grant_json(g.user_id, $1, g.code) AS before
              FROM given g JOIN clinres.user_modules um ON um.tenant_id = $1 AND um.user_id = g.user_id AND um.module_code = g.code
             WHERE um.is_enabled AND (um.valid_from, um.valid_until) IS DISTINCT FROM (g.valid_from, g.valid_until)
        ), changed AS (
            UPDATE clinres.user_modules um SET valid_from = w.valid_from, valid_until = w.valid_until, updated_at = pg_catalog.now()
              FROM was w WHERE um.tenant_id = $1 AND um.user_id = w.user_id AND um.module_code = w.code
            RETURNING w.user_id, w.code, w.before
        )
        SELECT * FROM changed ORDER BY user_id, code
    LOOP
        PERFORM clinres._log(clinres._actor(), $1, 'tenant.module.grant', r.user_id,
                             pg_catalog.jsonb_build_object('module', r.code, 'before', r.before,
                                                           'after', clinres._grant_json(r.user_id, $1, r.code)));
    END LOOP;
    RETURN written;
END
$$;
COMMENT ON FUNCTION clinres._import_write(uuid) IS 'writes the checked rows of an import batch by batch, noting the ids of the users created; the rows written';

-- An instant as export_users writes it: with the offset (and the microseconds when there are any),
-- so that import_users reads it back exactly.
CREATE OR REPLACE FUNCTION clinres._export_instant(t timestamptz) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT pg_catalog.to_char($1, CASE WHEN pg_catalog.date_part('microseconds', $1)::bigint % 1000000 = 0
                                       THEN 'YYYY-MM-DD HH24:MI:SSOF' ELSE 'YYYY-MM-DD HH24:MI:SS.USOF' END)
$$;
COMMENT ON FUNCTION clinres._export_instant(timestamptz) IS 'an instant as export_users writes it (with its offset), which import_users reads back exactly';

-- A member's modules cell as export_users writes it: the modules it may use now, each with the
-- validity of its grant when it has one (`code@from~until`), then its enabled grants that do not
-- hold now (not started, or ended), so that an import of the file gives the same grants.
CREATE OR REPLACE FUNCTION clinres._export_modules(tenant_id uuid, user_id uuid, modules text[]) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT coalesce(pg_catalog.string_agg(x.code || CASE WHEN um.valid_from IS NOT NULL OR um.valid_until IS NOT NULL
                                                THEN '@' || coalesce(clinres._export_instant(um.valid_from), '') || '~'
                                                     || coalesce(clinres._export_instant(um.valid_until), '') ELSE '' END,
                                 ',' ORDER BY x.future, x.i), pg_catalog.array_to_string($3, ','))
      FROM (SELECT m.code, m.i, false AS future FROM pg_catalog.unnest($3) WITH ORDINALITY m(code, i)
            UNION ALL
            SELECT f.module_code, 0, true FROM clinres.user_modules f
             WHERE f.tenant_id = $1 AND f.user_id = $2 AND f.is_enabled
               AND (f.valid_from > pg_catalog.now() OR f.valid_until <= pg_catalog.now())) x
      LEFT JOIN clinres.user_modules um ON um.tenant_id = $1 AND um.user_id = $2 AND um.module_code = x.code AND um.is_enabled
$$;
COMMENT ON FUNCTION clinres._export_modules(uuid, uuid, text[]) IS
    'a member''s modules cell as export_users writes it: its modules now, then its grants that do not hold now, each with its validity';

-- What export_users writes: every member of the tenant as list_users shows them (user:view),
-- oldest first, read page by page through the same function.
CREATE OR REPLACE FUNCTION clinres._export_rows(tenant_id uuid)
    RETURNS TABLE (email text, name text, phone text, role_code text, modules text, status text,
                   membership_status text, created_at text, last_login_at text, valid_from text, valid_until text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    page int := 1;
    got bigint;
    total bigint;
    -- Whether any grant of the tenant has a validity (else a member's cell is its modules as listed).
    validities boolean := EXISTS (SELECT FROM clinres.user_modules um WHERE um.tenant_id = $1
                                     AND (um.valid_from IS NOT NULL OR um.valid_until IS NOT NULL));
BEGIN
    LOOP
        got := 0;
        FOR email, name, phone, role_code, modules, status, membership_status, created_at, last_login_at,
            valid_from, valid_until, total IN
            SELECT l.o_email, l.o_name, l.o_phone, l.o_role_code,
                   CASE WHEN validities THEN clinres._export_modules($1, l.o_id, l.o_modules)
                        ELSE pg_catalog.array_to_string(l.o_modules, ',') END,
                   l.o_status, l.o_membership_status,
                   pg_catalog.to_char(l.o_created_at, 'YYYY-MM-DD HH24:MI:SS'),
                   pg_catalog.to_char(l.o_last_login_at, 'YYYY-MM-DD HH24:MI:SS'),
                   clinres._export_instant(ut.valid_from), clinres._export_instant(ut.valid_until),
                   l.o_total_count
              FROM clinres._list_users($1, NULL, NULL, NULL, NULL, page, 100, 'created_at asc') l
              LEFT JOIN clinres.user_tenants ut ON ut.tenant_id = $1 AND ut.user_id = l.o_id
        LOOP
            got := got + 1;
            RETURN NEXT;
        END LOOP;
        EXIT WHEN got < 100 OR page::bigint * 100 >= total;
        page := page + 1;
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
                    WHERE r.scope = 'tenant' AND clinres._allowed(clinres._actor(), 'grant', $1, NULL, r.code)
                    ORDER BY (SELECT pg_catalog.count(*) FROM clinres.role_permissions rp
                               WHERE rp.role_code = r.code), r.code) roles
    UNION ALL
    SELECT * FROM (SELECT 'module'::text, m.code, m.name FROM clinres.module_options($1) m) modules
$$;
COMMENT ON FUNCTION clinres._import_options(uuid) IS 'the roles the context user may grant in the tenant, then the modules it subscribes';

CREATE OR REPLACE FUNCTION clinres.import_users(data bytea, tenant_id uuid DEFAULT NULL, format text DEFAULT NULL,
                                     dry_run boolean DEFAULT false, on_existing text DEFAULT 'error', sheet text DEFAULT NULL)
    RETURNS TABLE (row_no int, email text, name text, action text, user_id uuid, message text, field text)
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
    clinres._import_validity_problem(text, text), clinres._import_module_pieces(text), clinres._import_module_codes(text),
    clinres._import_module_validity(text, text), clinres._import_check(uuid, text), clinres._import_write(uuid),
    clinres._export_instant(timestamptz), clinres._export_modules(uuid, uuid, text[]), clinres._export_rows(uuid),
    clinres._import_options(uuid),
    clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) TO clinres_app;
