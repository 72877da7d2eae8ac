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

-- Per-row cost of subject and of floor over scan (each a statement over the same rows,
-- nrows of them), measured interleaved: each round runs the three once, in turn, so that
-- they share the machine's moment; returns the medians of the rounds' costs (ns a row)
-- and of their ratios subject / floor.
CREATE OR REPLACE FUNCTION public.bench_ratio(scan text, floor text, subject text, nrows bigint,
                                              rounds int DEFAULT 9)
    RETURNS TABLE (floor_ns float8, subject_ns float8, ratio float8)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    ts float8; tf float8; th float8;
    fs float8[] := '{}'; hs float8[] := '{}'; rs float8[] := '{}';
BEGIN
    EXECUTE scan; EXECUTE floor; EXECUTE subject;  -- warm-up
    FOR i IN 1 .. rounds LOOP
        t0 := clock_timestamp(); EXECUTE scan;    ts := extract(epoch FROM clock_timestamp() - t0);
        t0 := clock_timestamp(); EXECUTE floor;   tf := extract(epoch FROM clock_timestamp() - t0);
        t0 := clock_timestamp(); EXECUTE subject; th := extract(epoch FROM clock_timestamp() - t0);
        fs := fs || (tf - ts) * 1e9 / nrows;
        hs := hs || (th - ts) * 1e9 / nrows;
        rs := rs || (th - ts) / nullif(tf - ts, 0);
    END LOOP;
    RETURN QUERY SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(fs) x),
                        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(hs) x),
                        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(rs) x);
END $$;
