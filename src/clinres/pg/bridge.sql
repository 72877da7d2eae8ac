
-- Diagnostics: proves that errors cross the C++/PostgreSQL bridge intact.
CREATE OR REPLACE FUNCTION clinres._bridge_selftest(mode text) RETURNS int
    LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'clinres_bridge_selftest';
COMMENT ON FUNCTION clinres._bridge_selftest(text) IS
    'raises an error deep in C++ (cpp), in PostgreSQL under C++ (pg) or a std::exception (std); live = C++ objects not yet destroyed';
REVOKE ALL ON FUNCTION clinres._bridge_selftest(text) FROM PUBLIC;
