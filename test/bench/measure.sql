-- Timing helpers for the benchmarks: run a statement several times inside the
-- server and keep the median, so client round trips do not count.
CREATE OR REPLACE FUNCTION public.bench_ms(stmt text, reps int DEFAULT 5) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    times float8[] := '{}';
BEGIN
    EXECUTE stmt;  -- warm-up: caches, hint bits, plan
    FOR i IN 1 .. reps LOOP
        t0 := clock_timestamp();
        EXECUTE stmt;
        times := times || extract(epoch FROM clock_timestamp() - t0) * 1000;
    END LOOP;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(times) x);
END $$;

-- One timed run, no warm-up: what the first statement of a new session costs.
CREATE OR REPLACE FUNCTION public.bench_once(stmt text) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE stmt;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
