
-- Batch import and export of users (docs/import.md). The file readers and writers are C++
-- (src/clinres/users/import/); the rows of a file are checked and written all at once by
-- clinres._check_user_rows and clinres._write_user_rows, the code path of create_user and assign_tenant.

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

REVOKE ALL ON FUNCTION clinres._import_tenant(uuid, text),
    clinres._export_rows(uuid), clinres._import_options(uuid),
    clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text), clinres.import_template(text),
    clinres.export_users(uuid, text) TO clinres_app;
