-- clinres 0.1.0 -> 0.2.0. Run by ALTER EXTENSION clinres UPDATE TO '0.2.0'.
-- After it, the database equals a fresh CREATE EXTENSION clinres VERSION '0.2.0'
-- (test/client/upgrade.sh compares the two). Sections follow config/sql-parts.txt.
\echo Use "ALTER EXTENSION clinres UPDATE TO '0.2.0'" to load this file. \quit

-- catalog
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


-- seeds: one flag marks the rows CREATE EXTENSION made (pg_dump skips them)
ALTER TABLE clinres.tenants ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.modules ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.tenant_modules ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.roles ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.permissions ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.role_permissions ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.module_schemas ADD COLUMN builtin boolean NOT NULL DEFAULT false;
ALTER TABLE clinres.schema_plan_defaults ADD COLUMN builtin boolean NOT NULL DEFAULT false;
UPDATE clinres.tenants SET builtin = true WHERE id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000001';
UPDATE clinres.modules SET builtin = true WHERE code OPERATOR(pg_catalog.=) ANY ('{asl,aia,pkb,dc,rvw,admin,ssa,st}');
UPDATE clinres.tenant_modules SET builtin = true
 WHERE tenant_id OPERATOR(pg_catalog.=) '00000000-0000-0000-0000-000000000001'
   AND module_code OPERATOR(pg_catalog.=) ANY ('{asl,aia,pkb,dc,rvw,admin,ssa,st}');
UPDATE clinres.roles SET builtin = true WHERE code OPERATOR(pg_catalog.=) ANY ('{SUPER_ADMIN,TENANT_ADMIN,USER}');
UPDATE clinres.permissions SET builtin = true
 WHERE code OPERATOR(pg_catalog.=) ANY ('{user:view,user:create,user:edit,user:delete}');
UPDATE clinres.role_permissions SET builtin = true
 WHERE role_code OPERATOR(pg_catalog.=) ANY ('{SUPER_ADMIN,TENANT_ADMIN}')
   AND permission_code OPERATOR(pg_catalog.=) ANY ('{user:view,user:create,user:edit,user:delete}');
UPDATE clinres.module_schemas SET builtin = true
 WHERE schema_name OPERATOR(pg_catalog.=) ANY ('{platform_schema,common_schema,asl_schema,aia_schema,pkb_schema,dc_schema,rvw_schema,admin_schema,ssa_schema,st_schema}');
UPDATE clinres.schema_plan_defaults SET builtin = true
 WHERE table_name OPERATOR(pg_catalog.=) ANY ('{users,projects,conversations,messages,general_conversations,general_messages,knowledge_bases,documents}');
SELECT pg_catalog.pg_extension_config_dump('clinres.tenants', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.modules', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.tenant_modules', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.roles', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.permissions', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.role_permissions', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.module_schemas', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('clinres.schema_plan_defaults', 'WHERE NOT builtin');

-- security (issue 8): every call and operator qualified; NULL is never yes; partitions of a
-- planned table move with it; schemas of untrusted owners refused; nothing for PUBLIC, what an
-- application calls for clinres_app; session_profile only for the context user or user:view.
CREATE OR REPLACE FUNCTION clinres.session_profile(user_id uuid, tenant_id uuid) RETURNS jsonb
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
CREATE OR REPLACE FUNCTION clinres.enable_module_rls(tbl regclass, module_code text, tenant_column name DEFAULT 'tenant_id')
    RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text := clinres._module_code(module_code);
    policy name := clinres._module_policy_name(code);
    column_type oid;
    rel regclass;
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
        -- The row's tenant must be the context tenant, so the module check needs no row
        -- data: written as initPlans it runs once per query, not once per row (see
        -- docs/benchmarks.md for the forms measured).
        EXECUTE pg_catalog.format('CREATE POLICY %I ON %s USING (%I OPERATOR(pg_catalog.=) (SELECT clinres.current_tenant_id())'
                                  ' AND (SELECT clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), %L)))',
                                  policy, rel, tenant_column, code);
    END LOOP;
END
$$;
COMMENT ON FUNCTION clinres.enable_module_rls(regclass, text, name) IS
    'enables row-level security on tbl and each of its partitions: a row is visible when its tenant is the context tenant and the context user has the module';
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
CREATE OR REPLACE FUNCTION clinres._check_target(target_schema name, allow_any_schema boolean)
    RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
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
END
$$;
CREATE OR REPLACE FUNCTION clinres.plan_table_move(source regclass, target_schema name, allow_any_schema boolean DEFAULT false)
    RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
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
END
$$;
COMMENT ON FUNCTION clinres.plan_table_move(regclass, name, boolean) IS
    'adds (or changes) one move of the plan; the target must be a module schema unless allow_any_schema';
CREATE OR REPLACE VIEW clinres.schema_migration_plan AS
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
CREATE OR REPLACE FUNCTION clinres._lock_for_move(tbl regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', tbl);
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
CREATE OR REPLACE FUNCTION clinres._create_compat_view(tbl regclass, view_name name) RETURNS void
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
REVOKE ALL ON FUNCTION clinres.plan_table_move(regclass, name, boolean), clinres.create_module_schemas(),
    clinres.migrate_schemas(boolean, boolean, boolean), clinres.rollback_schema_migration(),
    clinres.verify_schema_isolation(boolean), clinres._check_movable(regclass), clinres._check_target(name, boolean),
    clinres._trusted_schema_owner(oid, oid), clinres._lock_for_move(regclass), clinres._create_compat_view(regclass, name)
    FROM PUBLIC;
REVOKE ALL ON clinres.module_schemas, clinres.created_schemas, clinres.schema_plan, clinres.schema_plan_defaults,
    clinres.schema_journal, clinres.schema_migration_plan FROM PUBLIC;
REVOKE ALL ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() FROM PUBLIC;
REVOKE ALL ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() TO clinres_app;
GRANT SELECT ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history TO clinres_app;
REVOKE ALL ON FUNCTION clinres._bridge_selftest(text) FROM PUBLIC;

-- access cache
-- ALTER TABLE ... ENABLE TRIGGER ALL (what pg_restore --disable-triggers emits after its
-- DISABLE TRIGGER ALL) leaves the invalidation triggers firing on origin only, so changes
-- made under session_replication_role = replica would reach no session: put ALWAYS back.
CREATE FUNCTION clinres._access_cache_keep_always() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl pg_catalog.regclass;
BEGIN
    FOR tbl IN
        SELECT DISTINCT tg.tgrelid::pg_catalog.regclass
          FROM pg_catalog.pg_event_trigger_ddl_commands() c
          JOIN pg_catalog.pg_trigger tg ON tg.tgrelid OPERATOR(pg_catalog.=) c.objid
         WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND tg.tgfoid OPERATOR(pg_catalog.=) 'clinres.access_cache_invalidate()'::pg_catalog.regprocedure
           AND tg.tgenabled OPERATOR(pg_catalog.<>) 'A' AND tg.tgenabled OPERATOR(pg_catalog.<>) 'D'
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER access_cache_invalidate', tbl);
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

-- sessions
-- Login bookkeeping on users (appended, as in the CREATE TABLE of a fresh install). The
-- counter gets its default after the fill, so that no "missing value" differs from a fresh table.
ALTER TABLE clinres.users ADD COLUMN last_login_at timestamptz, ADD COLUMN failed_logins int,
    ADD COLUMN locked_until timestamptz;
UPDATE clinres.users SET failed_logins = 0;
ALTER TABLE clinres.users ALTER COLUMN failed_logins SET DEFAULT 0, ALTER COLUMN failed_logins SET NOT NULL;

-- No function returns void any more (ORMs cannot read it): new return types need DROP + CREATE,
-- and the re-created functions get their privileges again.
DROP FUNCTION clinres.require_module(uuid, uuid, text);
CREATE FUNCTION clinres.require_module(user_id uuid, tenant_id uuid, module_code text) RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_require_module';
COMMENT ON FUNCTION clinres.require_module(uuid, uuid, text) IS
    'true, or raises insufficient_privilege (42501) with the denial marker (schema clinres, table module) unless has_module';
DROP FUNCTION clinres.set_context(uuid, uuid, boolean);
-- Session context. No SET clause naming clinres.user_id/tenant_id: it would confine the SET LOCAL to the call.
CREATE FUNCTION clinres.set_context(user_id uuid, tenant_id uuid, is_local boolean DEFAULT true) RETURNS uuid
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_set_context';
COMMENT ON FUNCTION clinres.set_context(uuid, uuid, boolean) IS
    'sets the context user and tenant for this transaction (is_local, the default: safe under transaction pooling) or session; returns the user id';
DROP FUNCTION clinres.enable_module_rls(regclass, text, name);
-- Row-level security: runs as the caller, who must own tbl and each of its partitions.
CREATE FUNCTION clinres.enable_module_rls(tbl regclass, module_code text, tenant_column name DEFAULT 'tenant_id')
    RETURNS name LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text := clinres._module_code(module_code);
    policy name := clinres._module_policy_name(code);
    column_type oid;
    rel regclass;
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
-- The context readers run in the leader only (where the rules for believing the context apply).
ALTER FUNCTION clinres.current_user_id() PARALLEL RESTRICTED;
ALTER FUNCTION clinres.current_tenant_id() PARALLEL RESTRICTED;
ALTER FUNCTION clinres.tenants_with_module(text) PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION clinres.require_module(uuid, uuid, text), clinres.set_context(uuid, uuid, boolean),
    clinres.enable_module_rls(regclass, text, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.require_module(uuid, uuid, text), clinres.set_context(uuid, uuid, boolean) TO clinres_app;

DROP FUNCTION clinres._check_target(name, boolean);
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
DROP FUNCTION clinres.plan_table_move(regclass, name, boolean);
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
DROP FUNCTION clinres._lock_for_move(regclass);
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
DROP FUNCTION clinres._create_compat_view(regclass, name);
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
REVOKE ALL ON FUNCTION clinres._check_target(name, boolean), clinres.plan_table_move(regclass, name, boolean),
    clinres._lock_for_move(regclass), clinres._create_compat_view(regclass, name) FROM PUBLIC;

-- usage_pct is double precision (a number in every driver; numeric arrives as a string).
DROP VIEW clinres.connection_usage;
DROP FUNCTION clinres._connection_usage();
-- Connection usage (docs/reference.md), read in C++ from the backend status array.
CREATE FUNCTION clinres._connection_usage(
        OUT connections int, OUT max_connections int, OUT reserved_connections int, OUT available int,
        OUT usage_pct double precision, OUT alert_level text)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage';
CREATE VIEW clinres.connection_usage AS SELECT * FROM clinres._connection_usage();
COMMENT ON VIEW clinres.connection_usage IS
    'client connections against max_connections - superuser_reserved_connections, with the alert level (ok, warning, critical)';
DROP VIEW clinres.connection_usage_history;
DROP FUNCTION clinres._connection_usage_history();
CREATE FUNCTION clinres._connection_usage_history(
        OUT sampled_at timestamptz, OUT connections int, OUT max_connections int, OUT reserved_connections int,
        OUT available int, OUT usage_pct double precision, OUT alert_level text, OUT monitor text)
    RETURNS SETOF record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage_history';
CREATE VIEW clinres.connection_usage_history AS SELECT * FROM clinres._connection_usage_history();
COMMENT ON VIEW clinres.connection_usage_history IS
    'samples of the background monitor (clinres in shared_preload_libraries), oldest first';
REVOKE ALL ON FUNCTION clinres._connection_usage(), clinres._connection_usage_history() FROM PUBLIC;
REVOKE ALL ON clinres.connection_usage, clinres.connection_usage_history FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres._connection_usage(), clinres._connection_usage_history() TO clinres_app;
GRANT SELECT ON clinres.connection_usage, clinres.connection_usage_history TO clinres_app;


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

-- citus
-- Scale-out on Citus. Every statement here can run twice: once the catalog is distributed,
-- ALTER EXTENSION UPDATE runs this script on the coordinator and again on every worker.
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
