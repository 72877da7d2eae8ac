-- Schema isolation guards: NULL is never yes; a target schema owned by another role is
-- refused and reported; partitions (sub-partitions too) move, verify and roll back with
-- their parent; compatibility views keep grants to roles whose names need quotes.
\pset null '(null)'
\set SHOW_CONTEXT never

-- NULL flags are refused before anything is planned or moved.
CREATE TABLE public.guard_plain (id int PRIMARY KEY);
SELECT clinres.plan_table_move('public.guard_plain', 'some_schema', allow_any_schema => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS planned FROM clinres.schema_plan;
SELECT clinres.plan_table_move('public.guard_plain', 'st_schema');
SELECT * FROM clinres.migrate_schemas(dry_run => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM clinres.migrate_schemas(dry_run => false, compat_views => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM clinres.migrate_schemas(dry_run => false, exact_counts => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('public.guard_plain')::text AS still_in_public, count(*) AS journaled FROM clinres.schema_journal;

-- A module schema created first by another role is refused, and verification names its owner.
CREATE ROLE clinres_regress_squatter NOLOGIN;
CREATE SCHEMA st_schema AUTHORIZATION clinres_regress_squatter;
CREATE ROLE clinres_regress_migrator NOLOGIN;
ALTER TABLE public.guard_plain OWNER TO clinres_regress_migrator;
GRANT EXECUTE ON FUNCTION clinres.plan_table_move(regclass, name, boolean), clinres.migrate_schemas(boolean, boolean, boolean),
    clinres.verify_schema_isolation(boolean), clinres._check_movable(regclass), clinres._check_target(name, boolean),
    clinres._trusted_schema_owner(oid, oid), clinres._lock_for_move(regclass) TO clinres_regress_migrator;
GRANT SELECT ON clinres.schema_migration_plan, clinres.schema_journal, clinres.module_schemas TO clinres_regress_migrator;
GRANT INSERT, UPDATE, DELETE ON clinres.schema_plan, clinres.schema_journal TO clinres_regress_migrator;
GRANT SELECT ON clinres.schema_plan, clinres.schema_plan_defaults, clinres.created_schemas TO clinres_regress_migrator;
GRANT USAGE, CREATE ON SCHEMA st_schema TO clinres_regress_migrator;
SET ROLE clinres_regress_migrator;
SELECT * FROM clinres.migrate_schemas(dry_run => false);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.plan_table_move('public.guard_plain', 'st_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT check_name, object, ok, detail FROM clinres.verify_schema_isolation()
 WHERE check_name = 'schema owner' AND object = 'st_schema';
RESET ROLE;
-- A schema of a role the migrator is a member of is accepted, as is a superuser's.
GRANT clinres_regress_squatter TO clinres_regress_migrator;
SET ROLE clinres_regress_migrator;
SELECT step, source, target, action FROM clinres.migrate_schemas(dry_run => true);
SELECT check_name, object, ok, detail FROM clinres.verify_schema_isolation()
 WHERE check_name = 'schema owner' AND object = 'st_schema';
RESET ROLE;
REVOKE clinres_regress_squatter FROM clinres_regress_migrator;
ALTER SCHEMA st_schema OWNER TO CURRENT_USER;
SET ROLE clinres_regress_migrator;
SELECT step, source, target, action FROM clinres.migrate_schemas(dry_run => true);
RESET ROLE;
DELETE FROM clinres.schema_plan;
DROP SCHEMA st_schema;
DROP TABLE public.guard_plain;
DROP OWNED BY clinres_regress_migrator;
DROP ROLE clinres_regress_migrator, clinres_regress_squatter;

-- A partitioned table moves with every partition, at every level; each is journaled,
-- verified and moved back.
CREATE TABLE public.guard_events (id int, at date, kind text) PARTITION BY RANGE (at);
CREATE TABLE public.guard_events_2025 PARTITION OF public.guard_events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (kind);
CREATE TABLE public.guard_events_2025_a PARTITION OF public.guard_events_2025 FOR VALUES IN ('a');
CREATE TABLE public.guard_events_2025_rest PARTITION OF public.guard_events_2025 DEFAULT;
CREATE TABLE public.guard_events_2026 PARTITION OF public.guard_events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO public.guard_events VALUES (1, '2025-03-01', 'a'), (2, '2025-04-01', 'b'), (3, '2026-05-01', 'a');
SELECT clinres.plan_table_move('public.guard_events', 'dc_schema');
SELECT step, source_schema, table_name, target_schema, explicit FROM clinres.schema_migration_plan ORDER BY step;
SELECT step, source, target, row_count, action FROM clinres.migrate_schemas(dry_run => false);
SELECT c.relname, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname LIKE 'guard_events%' ORDER BY 1;
SELECT step, table_name, source_schema, target_schema, row_count FROM clinres.schema_journal ORDER BY step;
SELECT check_name, object, ok, detail FROM clinres.verify_schema_isolation()
 WHERE check_name IN ('partitions moved', 'table in target', 'row count') ORDER BY object, check_name;
-- A partition taken back out by hand is reported.
ALTER TABLE dc_schema.guard_events_2025_a SET SCHEMA public;
SELECT check_name, object, ok, detail FROM clinres.verify_schema_isolation() WHERE NOT ok AND check_name NOT IN ('migration journaled', 'schema exists');
ALTER TABLE public.guard_events_2025_a SET SCHEMA dc_schema;
SELECT step, source, target, action FROM clinres.rollback_schema_migration();
SELECT c.relname, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname LIKE 'guard_events%' ORDER BY 1;
SELECT count(*) AS rows_after FROM public.guard_events;
DROP TABLE public.guard_events;

-- Compatibility views keep the grants of a role whose name needs quotes.
CREATE ROLE "App Role" NOLOGIN;
CREATE TABLE public.guard_quoted (id int PRIMARY KEY);
GRANT SELECT, INSERT ON public.guard_quoted TO "App Role";
SELECT clinres.plan_table_move('public.guard_quoted', 'common_schema');
SELECT step, source, target, action FROM clinres.migrate_schemas(dry_run => false, compat_views => true);
SELECT grantee, privilege_type FROM information_schema.role_table_grants
 WHERE table_schema = 'public' AND table_name = 'guard_quoted' AND grantee = 'App Role' ORDER BY 2;
SET ROLE "App Role";
INSERT INTO public.guard_quoted VALUES (1);
SELECT id FROM public.guard_quoted;
RESET ROLE;
SELECT step, source, target, action FROM clinres.rollback_schema_migration();
DROP TABLE public.guard_quoted;
DROP ROLE "App Role";
