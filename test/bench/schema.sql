-- Benchmark of schema isolation: migrating a 10,000,000-row table vs a 1,000-row
-- table is metadata-only; exact row counts (journal + verification) are not.
\set QUIET on
\pset footer off
CREATE TABLE public.big_docs (id bigint PRIMARY KEY, kb int NOT NULL, title text);
INSERT INTO public.big_docs SELECT g, g % 100, 'doc ' || g FROM generate_series(1, 10000000) g;
CREATE INDEX ON public.big_docs (kb);
CREATE TABLE public.small_docs (id bigint PRIMARY KEY, kb int NOT NULL, title text);
INSERT INTO public.small_docs SELECT g, g % 100, 'doc ' || g FROM generate_series(1, 1000) g;
CREATE INDEX ON public.small_docs (kb);
VACUUM ANALYZE public.big_docs;
VACUUM ANALYZE public.small_docs;
SELECT count(*) FROM clinres.create_module_schemas();

-- Median over reps of: migrate tbl to pkb_schema (+ verify when asked), then roll back (not timed).
CREATE FUNCTION pg_temp.migrate_ms(tbl regclass, exact boolean, verify boolean, reps int DEFAULT 5) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    times float8[] := '{}';
    name text := (SELECT relname FROM pg_class WHERE oid = tbl);
BEGIN
    FOR i IN 0 .. reps LOOP
        PERFORM clinres.plan_table_move(format('public.%I', name)::regclass, 'pkb_schema');
        t0 := clock_timestamp();
        PERFORM count(*) FROM clinres.migrate_schemas(dry_run => false, exact_counts => exact);
        IF verify THEN
            PERFORM count(*) FROM clinres.verify_schema_isolation(exact_counts => exact);
        END IF;
        IF i > 0 THEN  -- the first round warms up
            times := times || extract(epoch FROM clock_timestamp() - t0) * 1000;
        END IF;
        PERFORM count(*) FROM clinres.rollback_schema_migration();
        PERFORM count(*) FROM clinres.create_module_schemas();
    END LOOP;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(times) x);
END $$;
SELECT pg_temp.migrate_ms('public.small_docs', false, false) AS small \gset
SELECT pg_temp.migrate_ms('public.big_docs', false, false) AS big \gset
SELECT pg_temp.migrate_ms('public.small_docs', false, true) AS small_v \gset
SELECT pg_temp.migrate_ms('public.big_docs', false, true) AS big_v \gset
SELECT pg_temp.migrate_ms('public.small_docs', true, true, 3) AS small_x \gset
SELECT pg_temp.migrate_ms('public.big_docs', true, true, 3) AS big_x \gset
SELECT * FROM (VALUES
    ('migrate 1,000 rows (ms)', round(:small::numeric, 2), 'exact_counts => false: metadata only'),
    ('migrate 10,000,000 rows (ms)', round(:big::numeric, 2), ''),
    ('10M / 1k', round((:big / :small)::numeric, 2), 'target <= 2'),
    ('migrate + verify, 1,000 rows (ms)', round(:small_v::numeric, 2), 'verify without exact counts'),
    ('migrate + verify, 10,000,000 rows (ms)', round(:big_v::numeric, 2), ''),
    ('10M / 1k with verify', round((:big_v / :small_v)::numeric, 2), ''),
    ('migrate + verify, exact counts, 1,000 rows (ms)', round(:small_x::numeric, 2), 'count(*) in the journal and in verify'),
    ('migrate + verify, exact counts, 10,000,000 rows (ms)', round(:big_x::numeric, 2), ''),
    ('10M / 1k with exact counts', round((:big_x / :small_x)::numeric, 1), 'O(rows): the price of proving no row was lost')
) AS t(item, value, note);
DROP TABLE public.big_docs, public.small_docs;
