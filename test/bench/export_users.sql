-- Benchmark of export_users (figures only): 20,000 members imported into the sample's HOSP_A,
-- then three timed CSV exports. Run from the repository root in a cluster with clinres built:
--   scripts/cluster.sh bash -c 'psql -X -q -c "CREATE EXTENSION clinres CASCADE" && psql -X -q -At -f test/bench/export_users.sql'
\i test/fixtures/sample.sql
SELECT clinres.set_context('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', false) IS NOT NULL AS ctx;
SET jit = off;
SELECT count(*) FROM clinres.import_users(convert_to('email,name,modules' || E'\n' || (SELECT string_agg('u' || i || '@x.example,User ' || i || ',aia;asl', E'\n') FROM generate_series(1, 20000) i), 'UTF8'));
CREATE FUNCTION pg_temp.t() RETURNS text LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); n int;
BEGIN n := length(clinres.export_users(format => 'csv')); RETURN n || ' bytes: ' || round(extract(epoch FROM clock_timestamp() - t0)::numeric, 2) || ' s'; END $$;
SELECT pg_temp.t(); SELECT pg_temp.t(); SELECT pg_temp.t();
