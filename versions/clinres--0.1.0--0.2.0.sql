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

