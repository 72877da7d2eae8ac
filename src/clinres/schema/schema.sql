
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
