
-- User management: the read side (list page, detail page, options, audit page).

-- page >= 1 and 1 <= page_size <= 100, never a silent default; 22023 naming the value.
CREATE OR REPLACE FUNCTION clinres._check_page(page int, page_size int) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF page IS NULL OR page < 1 THEN
        RAISE EXCEPTION 'invalid page "%"', coalesce(page::text, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pages are numbered from 1.', SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'page';
    END IF;
    IF page_size IS NULL OR page_size < 1 OR page_size > 100 THEN
        RAISE EXCEPTION 'invalid page_size "%"', coalesce(page_size::text, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'page_size is from 1 to 100.', SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'page_size';
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
    IF sort IS NULL OR pg_catalog.array_length(parts, 1) > 2
       OR sort_key <> ALL (ARRAY['created_at', 'name', 'email', 'last_login_at'])
       OR sort_dir <> ALL (ARRAY['asc', 'desc']) THEN
        RAISE EXCEPTION 'invalid sort "%"', coalesce(sort, 'NULL') USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Sort by created_at, name, email or last_login_at, then asc or desc.',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'sort';
    END IF;
    IF _list_users.status IS NOT NULL AND _list_users.status <> ALL (ARRAY['active', 'disabled']) THEN
        RAISE EXCEPTION 'invalid status "%"', _list_users.status USING ERRCODE = 'invalid_parameter_value',
            HINT = 'status is active or disabled.', SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'status';
    END IF;
    IF _list_users.role_code IS NOT NULL THEN
        role := (clinres._role(_list_users.role_code)).code;
    END IF;
    IF _list_users.module_code IS NOT NULL THEN
        mod := clinres._module_code(_list_users.module_code);
    END IF;
    IF s = '' THEN
        s := NULL;
    ELSIF pg_catalog.length(s) > 100 THEN
        RAISE EXCEPTION 'search is % characters long; at most 100 are allowed', pg_catalog.length(s)
            USING ERRCODE = 'invalid_parameter_value', SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'search';
    ELSIF s ~ '^[0-9+() -]+$' AND s ~ '[0-9]' THEN
        s := pg_catalog.regexp_replace(s, '[^0-9+]', '', 'g');   -- phone numbers are searched by their digits
    END IF;
    IF s IS NOT NULL THEN
        pattern := '%' ||
                   pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.lower(s), '\', '\\'), '%', '\%'), '_', '\_')
                   || '%';
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
            where_sql := where_sql || ' AND ut.user_search_text ~~ $2';
        END IF;
        IF role = 'SUPER_ADMIN' OR (role IS NOT NULL AND (SELECT r.scope FROM clinres.roles r WHERE r.code = role) = 'platform') THEN
            where_sql := where_sql || ' AND u.platform_role = $3';
            needs_user := true;
        ELSIF role IS NOT NULL THEN
            where_sql := where_sql || ' AND ut.role_code = $3';
        END IF;
        IF _list_users.status = 'active' THEN
            where_sql := where_sql || ' AND u.status = ''active'' AND ut.status = ''active''';
            needs_user := true;
        ELSIF _list_users.status = 'disabled' THEN
            where_sql := where_sql || ' AND (u.status = ''disabled'' OR ut.status = ''disabled'')';
            needs_user := true;
        END IF;
        IF mod IS NOT NULL THEN
            where_sql := where_sql || ' AND $5 = ANY (clinres._member_modules(ut.user_id, ut.tenant_id))';
        END IF;
        -- The members' own rows are read only for a status or platform-role filter: the search
        -- text is in the paging index (user_tenants_page_idx) and every sort key is copied into
        -- the memberships with an index of its own (user_tenants_name_idx, ...).
        from_sql := 'FROM clinres.user_tenants ut'
                    || CASE WHEN needs_user THEN ' JOIN clinres.users u ON u.id = ut.user_id' ELSE '' END
                    || ' WHERE ut.tenant_id = $1' || where_sql;
        key_sql := CASE sort_key WHEN 'created_at' THEN 'ut.user_created_at' WHEN 'name' THEN 'ut.user_name'
                                 WHEN 'email' THEN 'ut.user_email_key' ELSE 'ut.user_last_login_at' END;
        key_sql := key_sql || ' ' || sort_dir || CASE WHEN sort_key = 'last_login_at' THEN ' NULLS LAST' ELSE '' END
                   || ', ut.user_id ' || sort_dir;
        -- Unfiltered: the count is an index-only scan and the page a walk of the sort's index.
        -- Filtered (search, role, status, module): one pass counts and pages.
        IF where_sql = '' AND NOT needs_user THEN
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
            ' JOIN clinres.users u ON u.id = p.user_id'
            ' JOIN clinres.user_tenants m ON m.user_id = p.user_id AND m.tenant_id = $1'
            ' ORDER BY p.n'
            USING tenant, pattern, role, _list_users.status, mod, page_size, (page - 1)::bigint * page_size, total;
        RETURN;
    END IF;

    -- Every user (SUPER_ADMIN only).
    IF pattern IS NOT NULL THEN
        where_sql := where_sql || ' AND u.search_text ~~ $2';
    END IF;
    IF role IS NOT NULL AND (SELECT r.scope FROM clinres.roles r WHERE r.code = role) = 'platform' THEN
        where_sql := where_sql || ' AND u.platform_role = $3';
    ELSIF role IS NOT NULL THEN
        where_sql := where_sql || ' AND EXISTS (SELECT FROM clinres.user_tenants ut WHERE ut.user_id = u.id'
                               || ' AND ut.role_code = $3)';
    END IF;
    IF _list_users.status IS NOT NULL THEN
        where_sql := where_sql || ' AND u.status = $4';
    END IF;
    IF mod IS NOT NULL THEN
        where_sql := where_sql || ' AND (u.platform_role = ''SUPER_ADMIN'' OR EXISTS (SELECT FROM clinres.user_tenants ut'
                               || ' WHERE ut.user_id = u.id AND $5 = ANY (clinres._member_modules(u.id, ut.tenant_id))))';
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
        '                      FROM clinres.user_tenants ut WHERE ut.user_id = u.id)),'
        ' u.created_at, u.last_login_at, p.total'
        ' FROM (SELECT u.id, u.total, pg_catalog.row_number() OVER () AS n FROM (' || page_sql
        || ' ORDER BY ' || key_sql || ' LIMIT $6 OFFSET $7) u) p'
        ' JOIN clinres.users u ON u.id = p.id ORDER BY p.n'
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

-- The total alone, on any page: a page past the end has no rows to carry total_count.
CREATE OR REPLACE FUNCTION clinres.count_users(tenant_id uuid DEFAULT NULL, search text DEFAULT NULL, role_code text DEFAULT NULL,
                                    status text DEFAULT NULL, module_code text DEFAULT NULL) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT coalesce((SELECT l.o_total_count FROM clinres._list_users($1, $2, $3, $4, $5, 1, 1, 'created_at desc') l), 0)
$$;
COMMENT ON FUNCTION clinres.count_users(uuid, text, text, text, text) IS
    'the number of users list_users would list with these filters (its total_count), also when a page is past the end';

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
                  WHERE t.status = 'active'
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
    RETURN QUERY SELECT m.code, m.name FROM clinres.tenant_modules tm JOIN clinres.modules m ON m.code = tm.module_code
                  WHERE tm.tenant_id = tenant AND tm.is_enabled AND m.is_active
                    AND (tm.expires_at IS NULL OR tm.expires_at > pg_catalog.now())
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
     WHERE tenant IS NULL OR l.tenant_id = tenant;
    RETURN QUERY
        SELECT l.id, l.created_at, l.actor_id, a.email, l.tenant_id, l.action, l.target, l.detail, total
          FROM clinres.admin_logs l LEFT JOIN clinres.users a ON a.id = l.actor_id
         WHERE tenant IS NULL OR l.tenant_id = tenant
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
    clinres.count_users(uuid, text, text, text, text), clinres.get_user(uuid), clinres.tenant_options(), clinres.module_options(uuid), clinres._list_admin_logs(uuid, int, int), clinres.list_admin_logs(uuid, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.list_users(uuid, text, text, text, text, int, int, text),
    clinres.count_users(uuid, text, text, text, text), clinres.get_user(uuid),
    clinres.tenant_options(), clinres.module_options(uuid), clinres.list_admin_logs(uuid, int, int) TO clinres_app;
