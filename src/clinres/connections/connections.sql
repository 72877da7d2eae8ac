
-- Connection usage (docs/reference.md), read in C++ from the backend status array.
CREATE OR REPLACE FUNCTION clinres._connection_usage(
        OUT connections int, OUT max_connections int, OUT reserved_connections int, OUT available int,
        OUT usage_pct double precision, OUT alert_level text)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage';
CREATE VIEW clinres.connection_usage AS SELECT * FROM clinres._connection_usage();
COMMENT ON VIEW clinres.connection_usage IS
    'client connections against max_connections - superuser_reserved_connections (- reserved_connections from PostgreSQL 16), with the alert level (ok, warning, critical)';

CREATE OR REPLACE FUNCTION clinres._connections_by_client()
    RETURNS TABLE (client_addr inet, application_name text, usename name, datname name, state text, connections int)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connections_by_client';
CREATE VIEW clinres.connections_by_client AS SELECT * FROM clinres._connections_by_client();
COMMENT ON VIEW clinres.connections_by_client IS
    'client connections grouped by machine, application, role, database and state; other roles'' sessions only for pg_read_all_stats';

CREATE OR REPLACE FUNCTION clinres.pool_size(max_instances int, max_connections int DEFAULT NULL) RETURNS int
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_pool_size';
COMMENT ON FUNCTION clinres.pool_size(int, int) IS
    'per-instance pool size: usable connections (max_connections - superuser_reserved_connections - reserved_connections from PostgreSQL 16, or the given total) / max_instances';

CREATE OR REPLACE FUNCTION clinres._connection_usage_history(
        OUT sampled_at timestamptz, OUT connections int, OUT max_connections int, OUT reserved_connections int,
        OUT available int, OUT usage_pct double precision, OUT alert_level text, OUT monitor text)
    RETURNS SETOF record LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_connection_usage_history';
CREATE VIEW clinres.connection_usage_history AS SELECT * FROM clinres._connection_usage_history();
COMMENT ON VIEW clinres.connection_usage_history IS
    'samples of the background monitor (clinres in shared_preload_libraries), oldest first';

-- Privileges: an application (clinres_app) reads the usage views and sizes its pool; PUBLIC
-- gets nothing (a view's functions are checked against the querying role, hence both).
REVOKE ALL ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() FROM PUBLIC;
REVOKE ALL ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(), clinres.pool_size(int, int),
    clinres._connection_usage_history() TO clinres_app;
GRANT SELECT ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history TO clinres_app;
-- A monitoring role (a member of pg_monitor, as postgres_exporter runs) reads them too, without
-- clinres_app: connections_by_client shows it every client, since pg_monitor has pg_read_all_stats.
GRANT EXECUTE ON FUNCTION clinres._connection_usage(), clinres._connections_by_client(),
    clinres._connection_usage_history() TO pg_monitor;
GRANT SELECT ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history TO pg_monitor;
