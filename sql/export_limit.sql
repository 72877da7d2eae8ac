-- Exports (export_users, export_access_review, export_admin_logs) bound the memory they make the
-- server spend: clinres.export_max_bytes (superuser) caps the cell text an export holds and the
-- file it returns; past it, 54000 naming the function and the setting, and nothing is returned.
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
-- The error of a statement, its byte counts (which vary with the timestamps) shown as N.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; d text; h text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN format(E'%s: %s\n%s\n%s', SQLSTATE, m, regexp_replace(d, '\d+ bytes', 'N bytes'), h);
END
$$;
SELECT clinres.set_context(:alice, :A, false) IS NOT NULL AS ctx;
SHOW clinres.export_max_bytes;
-- The sample's tenant A within 1 kB as CSV; its .xlsx (about 6 kB of package) is over.
SET clinres.export_max_bytes = '1kB';
SELECT length(clinres.export_users(:A, 'csv')) < 1024 AS users_csv_within,
       length(clinres.export_admin_logs(:A, 'csv')) < 1024 AS trail_csv_within;
SELECT pg_temp.try($$SELECT clinres.export_users(NULL, 'xlsx')$$) AS users_xlsx;
-- Twenty more members and trail rows (rolled back): each export stops while it reads its cells.
BEGIN;
INSERT INTO clinres.users (id, email, name)
SELECT gen_random_uuid(), 'member' || i || '@hosp-a.example', 'Member ' || i FROM generate_series(1, 20) i;
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
SELECT :A, id, 'USER' FROM clinres.users WHERE email LIKE 'member%@hosp-a.example';
INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
SELECT :alice, :A, 'user.update', id::text, jsonb_build_object('name', name)
  FROM clinres.users WHERE email LIKE 'member%@hosp-a.example';
SELECT pg_temp.try($$SELECT clinres.export_users(NULL, 'csv')$$) AS users_csv;
SELECT pg_temp.try($$SELECT clinres.export_access_review(NULL, 'csv')$$) AS review_csv;
SELECT pg_temp.try($$SELECT clinres.export_admin_logs(NULL, 'csv')$$) AS trail_csv;
RESET clinres.export_max_bytes;
SELECT length(clinres.export_users(:A, 'xlsx')) > 0 AS users, length(clinres.export_access_review(:A, 'csv')) > 0 AS review,
       length(clinres.export_admin_logs(:A, 'csv')) > 0 AS trail;
ROLLBACK;
-- Only a superuser sets it: the application cannot lift the bound for itself.
SET ROLE clinres_app;
SET clinres.export_max_bytes = '1GB';
RESET ROLE;
