-- The C++/PostgreSQL bridge: errors keep their SQLSTATE, message, detail and hint,
-- and no C++ destructor is skipped on the way out.
\set SHOW_CONTEXT never
SELECT clinres._bridge_selftest('live');
-- Thrown as pg::Error three C++ frames deep.
SELECT clinres._bridge_selftest('cpp');
\echo :LAST_ERROR_SQLSTATE
-- ereport(ERROR) from PostgreSQL (int4div) under C++ frames, rethrown intact.
SELECT clinres._bridge_selftest('pg');
\echo :LAST_ERROR_SQLSTATE
-- A std::exception becomes an internal error, not a crash.
SELECT clinres._bridge_selftest('std');
\echo :LAST_ERROR_SQLSTATE
SELECT clinres._bridge_selftest('nonsense');
\echo :LAST_ERROR_SQLSTATE
-- Every Tracker was destroyed: no longjmp skipped a destructor.
SELECT clinres._bridge_selftest('live');
-- The error can be caught like any other.
DO $$
BEGIN
    PERFORM clinres._bridge_selftest('pg');
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught % (%)', SQLERRM, SQLSTATE;
END $$;
SELECT clinres._bridge_selftest('live');

-- A message longer than the bridge's 1024-byte buffer is cut on a character boundary:
-- the error a client receives is valid UTF-8 (convert_from checks it).
DO $$
DECLARE
    msg text;
BEGIN
    PERFORM clinres._module_code('x' || repeat('é', 600));
EXCEPTION WHEN invalid_parameter_value THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    RAISE NOTICE 'valid: %, bytes: %, ends with é: %',
        convert_from(convert_to(msg, 'UTF8'), 'UTF8') = msg, octet_length(msg) <= 1023, right(msg, 1) = 'é';
END
$$;
