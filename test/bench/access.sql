-- Benchmark of the access engine; run by test/bench/run.sh. Prints figures only.
\set QUIET on
\pset footer off
SET max_parallel_workers_per_gather = 0;   -- per-row CPU cost, one process
CREATE TEMP TABLE results (item text, value numeric, note text);

-- (a) Per-row cost in a 1,000,000-row scan: has_module vs one built-in C call vs the SQL oracle.
CREATE TABLE public.bench_sample AS SELECT * FROM public.bench_docs WHERE id <= 20000;
VACUUM ANALYZE public.bench_sample;
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs') AS scan \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs WHERE uuid_hash(user_id) <> 0') AS floor \gset
SELECT * FROM clinres.access_cache_stats() \gset s0_
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs WHERE clinres.has_module(user_id, tenant_id, ''aia'')') AS cxx \gset
SELECT * FROM clinres.access_cache_stats() \gset s1_
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs WHERE clinres.has_module(md5(''u2'')::uuid, tenant_id, ''aia'')') AS cxx_user \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_sample', 3) AS sample_scan \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_sample WHERE clinres_oracle.has_module(user_id, tenant_id, ''aia'')', 3) AS oracle \gset
SELECT count(*) AS disagree FROM public.bench_docs
 WHERE id <= 20000 AND clinres.has_module(user_id, tenant_id, 'aia') IS DISTINCT FROM clinres_oracle.has_module(user_id, tenant_id, 'aia') \gset
INSERT INTO results VALUES
    ('a. scan of 1M rows, no function (ms)', round(:scan::numeric, 1), 'baseline'),
    ('a. uuid_hash per row (ns)', round((:floor - :scan)::numeric * 1e6 / 1e6, 1), 'the floor: one built-in C call'),
    ('a. has_module per row (ns)', round((:cxx - :scan)::numeric * 1e6 / 1e6, 1), 'warm; every row a different (user, tenant) pair'),
    ('a. has_module(one user, row''s tenant) per row (ns)', round((:cxx_user - :scan)::numeric * 1e6 / 1e6, 1), 'the per-row policy shape'),
    ('a. SQL oracle per row (ns)', round((:oracle - :sample_scan)::numeric * 1e6 / 20000, 1), 'measured on 20,000 rows'),
    ('a. has_module / floor', round(((:cxx - :scan) / (:floor - :scan))::numeric, 2), 'target <= 3 (random pairs)'),
    ('a. has_module(one user, ...) / floor', round(((:cxx_user - :scan) / (:floor - :scan))::numeric, 2), 'target <= 3 (policy shape)'),
    ('a. oracle / has_module', round(((:oracle - :sample_scan) / 20000 / ((:cxx - :scan) / 1e6))::numeric, 0), 'target >= 100'),
    ('a. answers differing from the oracle (of 20,000)', :disagree, 'must be 0');

-- (c) count(*) over the RLS-gated table as an unprivileged role vs without RLS.
SELECT clinres.enable_module_rls('public.bench_docs', 'aia');
-- The same rule written two other ways, each on a copy of the table.
CREATE TABLE public.bench_docs_row AS SELECT * FROM public.bench_docs;
CREATE TABLE public.bench_docs_srf AS SELECT * FROM public.bench_docs;
CREATE TABLE public.bench_docs_citus AS SELECT * FROM public.bench_docs;
CREATE INDEX ON public.bench_docs_row (tenant_id);
CREATE INDEX ON public.bench_docs_srf (tenant_id);
CREATE INDEX ON public.bench_docs_citus (tenant_id);
VACUUM ANALYZE public.bench_docs_row;
VACUUM ANALYZE public.bench_docs_srf;
VACUUM ANALYZE public.bench_docs_citus;
ALTER TABLE public.bench_docs_row ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.bench_docs_srf ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.bench_docs_citus ENABLE ROW LEVEL SECURITY;
CREATE POLICY per_row ON public.bench_docs_row USING (tenant_id = clinres.current_tenant_id()
    AND clinres.has_module(clinres.current_user_id(), tenant_id, 'aia'));
CREATE POLICY srf ON public.bench_docs_srf USING (tenant_id = clinres.current_tenant_id()
    AND tenant_id IN (SELECT clinres.tenants_with_module('aia')));
-- the form enable_module_rls writes on Citus (no subqueries; docs/scale-out.md)
CREATE POLICY citus ON public.bench_docs_citus USING (tenant_id = clinres.current_tenant_id()
    AND clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), 'aia'));
CREATE ROLE bench_app;
GRANT SELECT ON public.bench_docs, public.bench_docs_row, public.bench_docs_srf, public.bench_docs_citus TO bench_app;
GRANT EXECUTE ON FUNCTION public.bench_ms(text, int) TO bench_app;
-- a member of tenant 3 with aia: user 2 (tenants 3 and 15)
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs') AS norls \gset
SET ROLE bench_app;
SELECT clinres.set_context(md5('u2')::uuid, md5('t3')::uuid, false);
SELECT count(*) AS visible FROM public.bench_docs \gset
SELECT count(*) AS visible_row FROM public.bench_docs_row \gset
SELECT count(*) AS visible_srf FROM public.bench_docs_srf \gset
SELECT count(*) AS visible_citus FROM public.bench_docs_citus \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs') AS rls \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs_row') AS rls_row \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs_srf') AS rls_srf \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs_citus') AS rls_citus \gset
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs') AS rls_seq \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs_row') AS rls_row_seq \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs_srf') AS rls_srf_seq \gset
SELECT public.bench_ms('SELECT count(*) FROM public.bench_docs_citus') AS rls_citus_seq \gset
RESET enable_indexscan;
RESET enable_bitmapscan;
RESET ROLE;
INSERT INTO results VALUES
    ('c. count(*) without RLS, 1M rows (ms)', round(:norls::numeric, 1), 'table owner'),
    ('c. count(*) with RLS as bench_app (ms)', round(:rls::numeric, 1), :visible || ' rows visible; enable_module_rls policy, planner''s plan'),
    ('c. RLS / no RLS', round((:rls / :norls)::numeric, 2), 'target <= 2'),
    ('c. same, sequential scan forced (ms)', round(:rls_seq::numeric, 1), 'policy applied to all 1M rows'),
    ('c. RLS seq / no RLS', round((:rls_seq / :norls)::numeric, 2), 'target <= 2'),
    ('c. per-row has_module form (ms)', round(:rls_row::numeric, 1), :visible_row || ' rows; has_module(current_user_id(), tenant_id, ...)'),
    ('c. per-row form, seq scan forced (ms)', round(:rls_row_seq::numeric, 1), ''),
    ('c. tenants_with_module form (ms)', round(:rls_srf::numeric, 1), :visible_srf || ' rows; tenant_id IN (SELECT tenants_with_module(...))'),
    ('c. tenants_with_module form, seq scan forced (ms)', round(:rls_srf_seq::numeric, 1), ''),
    ('c. Citus form (ms)', round(:rls_citus::numeric, 1), :visible_citus || ' rows; tenant_id = current_tenant_id() AND has_module(current_user_id(), current_tenant_id(), ...)'),
    ('c. Citus form, seq scan forced (ms)', round(:rls_citus_seq::numeric, 1), ''),
    ('c. per row, Citus form vs enable_module_rls form, seq scan (ns)', round((:rls_citus_seq - :rls_seq)::numeric * 1e6 / 1e6, 1), 'extra cost of the per-row form per scanned row');

-- (d) cache footprint and hit rate over the has_module scans above.
INSERT INTO results VALUES
    ('d. cache entries', :s1_entries, 'users + tenants'),
    ('d. cache bytes per entry', round(:s1_bytes::numeric / greatest(:s1_entries, 1), 0), 'approximate'),
    ('d. hit rate during (a)', round(100.0 * (:s1_hits - :s0_hits) / greatest(:s1_hits - :s0_hits + :s1_misses - :s0_misses, 1), 4), 'percent');
SELECT item, value, note FROM results;
