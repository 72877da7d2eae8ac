-- Schema isolation: plan, dry run, migrate, verify, roll back, and the refusals.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/platform.sql
CREATE ROLE clinres_regress_web NOLOGIN;
GRANT SELECT, INSERT ON public.messages TO clinres_regress_web;
GRANT SELECT, UPDATE ON public.conversations TO clinres_regress_web;  -- the trigger touches it
-- A table whose name needs quotes.
CREATE TABLE public."Study Sites" (id int PRIMARY KEY, "Site Name" text);
INSERT INTO public."Study Sites" VALUES (1, 'Peking Union'), (2, 'West China');

-- Fingerprint of every user table: definition, grants and a checksum of its rows.
CREATE FUNCTION pg_temp.fingerprint() RETURNS TABLE (tbl text, part text, hash text) LANGUAGE plpgsql AS $$
DECLARE
    r record;
    h text;
BEGIN
    FOR r IN SELECT c.oid, c.relname, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'clinres')
                AND n.nspname NOT LIKE 'pg\_%' LOOP
        tbl := format('%I.%I', r.nspname, r.relname);
        part := 'columns';
        hash := md5(string_agg(format('%s %s %s %s', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                      pg_get_expr(d.adbin, d.adrelid)), ',' ORDER BY a.attnum))
          FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped;
        RETURN NEXT;
        part := 'constraints';
        hash := md5(coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid), ',' ORDER BY conname), ''))
          FROM pg_constraint WHERE conrelid = r.oid;
        RETURN NEXT;
        part := 'indexes';
        hash := md5(coalesce(string_agg(pg_get_indexdef(indexrelid), ',' ORDER BY indexrelid::regclass::text), ''))
          FROM pg_index WHERE indrelid = r.oid;
        RETURN NEXT;
        part := 'triggers';
        hash := md5(coalesce(string_agg(pg_get_triggerdef(oid), ',' ORDER BY tgname), ''))
          FROM pg_trigger WHERE tgrelid = r.oid AND NOT tgisinternal;
        RETURN NEXT;
        part := 'grants';
        hash := md5(coalesce((SELECT relacl::text FROM pg_class WHERE oid = r.oid), ''));
        RETURN NEXT;
        part := 'rows';
        EXECUTE format('SELECT md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) FROM %s t', r.oid::regclass) INTO h;
        hash := h;
        RETURN NEXT;
    END LOOP;
END $$;
CREATE TEMP TABLE before AS SELECT * FROM pg_temp.fingerprint();
SELECT count(DISTINCT tbl) AS tables FROM before;

-- The ten schemas and the seeded plan, referenced tables first.
SELECT schema_name, module_code, kind FROM clinres.module_schemas ORDER BY kind DESC, schema_name;
SELECT step, source_schema, table_name, target_schema FROM clinres.schema_migration_plan ORDER BY step;

-- Refusals, each leaving the plan unchanged.
SELECT clinres.plan_table_move('pg_catalog.pg_class', 'aia_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.plan_table_move('information_schema.sql_features', 'aia_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.plan_table_move('clinres.users', 'platform_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.plan_table_move('public."Study Sites"', 'elsewhere');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.plan_table_move('public."Study Sites"', 'pg_catalog', allow_any_schema => true);
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW public.recent_messages AS SELECT * FROM public.messages;
SELECT clinres.plan_table_move('public.recent_messages', 'aia_schema');
\echo :LAST_ERROR_SQLSTATE
DROP VIEW public.recent_messages;
SELECT count(*) AS explicit_moves FROM clinres.schema_plan;
-- A name that needs quotes is planned like any other.
SELECT clinres.plan_table_move('public."Study Sites"', 'common_schema');
SELECT step, source_schema, table_name, target_schema, explicit FROM clinres.schema_migration_plan ORDER BY step;

-- Dry run: reports exactly what would happen and changes nothing.
SELECT * FROM clinres.migrate_schemas();
SELECT count(*) AS journaled FROM clinres.schema_journal;
SELECT count(*) AS module_schemas_present FROM pg_namespace WHERE nspname IN (SELECT schema_name FROM clinres.module_schemas);
SELECT count(*) AS changed FROM (SELECT * FROM before EXCEPT SELECT * FROM pg_temp.fingerprint()) d;

-- create_module_schemas is idempotent.
SELECT * FROM clinres.create_module_schemas();
SELECT * FROM clinres.create_module_schemas();

-- A target that already holds a table of the same name: nothing is moved.
CREATE TABLE aia_schema.projects (id int);
SELECT * FROM clinres.migrate_schemas(dry_run => false);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE aia_schema.projects;
SELECT count(*) AS journaled FROM clinres.schema_journal;

-- A failure halfway (injected on the sixth step) leaves nothing moved.
CREATE FUNCTION pg_temp.fail_on_documents() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() WHERE object_identity LIKE '%.documents') THEN
        RAISE EXCEPTION 'injected failure while moving documents';
    END IF;
END $$;
CREATE EVENT TRIGGER fail_on_documents ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION pg_temp.fail_on_documents();
SELECT * FROM clinres.migrate_schemas(dry_run => false);
DROP EVENT TRIGGER fail_on_documents;
SELECT count(*) AS journaled FROM clinres.schema_journal;
SELECT n.nspname, count(*) AS tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname IN (SELECT schema_name FROM clinres.module_schemas UNION SELECT 'public')
 GROUP BY 1 ORDER BY 1;

-- Migrate, leaving compatibility views in public.
SELECT * FROM clinres.migrate_schemas(dry_run => false, compat_views => true);
SELECT n.nspname, string_agg(c.relname, ', ' ORDER BY c.relname) AS tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname IN (SELECT schema_name FROM clinres.module_schemas UNION SELECT 'public')
 GROUP BY 1 ORDER BY 1;
-- Owned sequences, indexes, triggers and grants travelled with their tables.
SELECT pg_get_serial_sequence('aia_schema.messages', 'id') AS messages_seq,
       pg_get_serial_sequence('pkb_schema.documents', 'id') AS documents_seq;
SELECT indexrelid::regclass AS index FROM pg_index WHERE indrelid = 'aia_schema.messages'::regclass ORDER BY 1;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'aia_schema.messages'::regclass AND NOT tgisinternal;
SELECT has_table_privilege('clinres_regress_web', 'aia_schema.messages', 'INSERT') AS table_grant,
       has_table_privilege('clinres_regress_web', 'public.messages', 'INSERT') AS view_grant;
-- Verification: every check passes; cross-schema foreign keys are listed.
SELECT check_name, count(*) AS checks, bool_and(ok) AS all_ok FROM clinres.verify_schema_isolation() GROUP BY 1 ORDER BY 1;
SELECT object, detail FROM clinres.verify_schema_isolation() WHERE detail LIKE '%cross-schema%' ORDER BY 1;
-- A second migration has nothing left to do.
SELECT count(*) AS steps FROM clinres.migrate_schemas(dry_run => false);

-- Roll back: the database is identical to before (definitions, grants and rows).
SELECT * FROM clinres.rollback_schema_migration();
SELECT count(*) AS changed FROM (SELECT * FROM before EXCEPT SELECT * FROM pg_temp.fingerprint()) d;
SELECT count(*) AS missing FROM (SELECT * FROM pg_temp.fingerprint() EXCEPT SELECT * FROM before) d;
SELECT count(*) AS module_schemas_left FROM pg_namespace WHERE nspname IN (SELECT schema_name FROM clinres.module_schemas);

-- Compatibility views accept writes from the application's role while it still
-- uses public names, and verification notices that the rows changed.
SELECT count(*) AS steps FROM clinres.migrate_schemas(dry_run => false, compat_views => true);
SET ROLE clinres_regress_web;
INSERT INTO public.messages (conversation_id, role, content) VALUES (1, 'user', 'written through the view');
SELECT count(*) AS through_view FROM public.messages WHERE content = 'written through the view';
RESET ROLE;
SELECT count(*) AS in_moved_table FROM aia_schema.messages WHERE content = 'written through the view';
SELECT object, ok, detail FROM clinres.verify_schema_isolation() WHERE NOT ok;
DELETE FROM aia_schema.messages WHERE content = 'written through the view';
-- A module schema holding something else is kept on rollback, never dropped CASCADE.
CREATE TABLE aia_schema.keep_me (id int);
SELECT step, source, target, action FROM clinres.rollback_schema_migration() WHERE action LIKE 'schema%' ORDER BY source;
SELECT to_regclass('aia_schema.keep_me')::text AS kept, to_regclass('public.messages')::text AS messages_back;
SELECT count(*) AS changed FROM (SELECT * FROM before EXCEPT SELECT * FROM pg_temp.fingerprint() WHERE tbl NOT LIKE 'aia_schema.%') d;

DROP TABLE aia_schema.keep_me;
DROP SCHEMA aia_schema;

-- More refusals: a table already in the target; a planned table that is gone; a
-- journaled table that is gone (nothing is moved back).
SELECT clinres.plan_table_move('public.task_templates', 'common_schema');
SELECT * FROM clinres.migrate_schemas(dry_run => false);
SELECT clinres.plan_table_move('common_schema.task_templates', 'common_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.plan_table_move('public.batch_tasks', 'st_schema');
ALTER TABLE public.batch_tasks RENAME TO batch_tasks_renamed;
SELECT * FROM clinres.migrate_schemas();
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE public.batch_tasks_renamed RENAME TO batch_tasks;
DELETE FROM clinres.schema_plan WHERE table_name = 'batch_tasks';
ALTER TABLE common_schema.task_templates RENAME TO task_templates_renamed;
SELECT * FROM clinres.rollback_schema_migration();
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE common_schema.task_templates_renamed RENAME TO task_templates;
SELECT step, source, target, action FROM clinres.rollback_schema_migration();
DROP TABLE public."Study Sites", public.review_tasks, public.batch_results, public.task_templates, public.batch_tasks,
    public.documents, public.knowledge_bases, public.general_messages, public.general_conversations,
    public.messages, public.conversations, public.projects, public.admin_logs, public.users;
DROP FUNCTION public.touch_conversation();
DROP ROLE clinres_regress_web;
