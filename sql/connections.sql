-- Connection usage: counts follow sessions opening and closing, alert levels switch
-- at the thresholds, pool sizing, and pg_stat_activity's privacy rules.
\pset null '(null)'
\set SHOW_CONTEXT never
SET client_min_messages = warning;  -- quiet whether or not another test made it
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
CREATE ROLE clinres_regress_viewer LOGIN PASSWORD 'viewer-pw';
CREATE ROLE clinres_regress_other LOGIN PASSWORD 'other-pw';
GRANT clinres_app TO clinres_regress_viewer;  -- what an application is given
\set viewer '''host=127.0.0.1 dbname=' :DBNAME ' port=' :PORT ' user=clinres_regress_viewer password=viewer-pw application_name=clinres_viewer'''
\set other '''host=127.0.0.1 dbname=' :DBNAME ' port=' :PORT ' user=clinres_regress_other password=other-pw application_name=clinres_other'''

-- One row; the arithmetic holds. Reserved: superuser_reserved_connections, plus
-- reserved_connections from PostgreSQL 16 (NULL, so 0, before).
SELECT connections >= 1 AS counts_me, max_connections = current_setting('max_connections')::int AS max_ok,
       reserved_connections = current_setting('superuser_reserved_connections')::int
                              + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved_ok,
       available = max_connections - reserved_connections - connections AS available_ok,
       usage_pct = round(100.0 * connections / (max_connections - reserved_connections), 1) AS pct_ok,
       alert_level
  FROM clinres.connection_usage;
-- The same count as pg_stat_activity's client backends.
SELECT (SELECT connections FROM clinres.connection_usage)
     = (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS matches_pg_stat_activity;

-- Counts move as sessions open and close. A closed session's backend exits
-- asynchronously, so closing waits (up to 10 s) for the count to settle.
CREATE TEMP TABLE base AS SELECT connections FROM clinres.connection_usage;
CREATE FUNCTION pg_temp.settle(expected int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    FOR i IN 1 .. 100 LOOP
        PERFORM pg_stat_clear_snapshot();
        n := (SELECT u.connections - b.connections FROM clinres.connection_usage u, base b);
        EXIT WHEN n = expected;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN n;
END $$;
SELECT dblink_connect('v1', :viewer), dblink_connect('v2', :viewer), dblink_connect('o1', :other);
SELECT u.connections - b.connections AS opened FROM clinres.connection_usage u, base b;
SELECT client_addr, application_name, usename, state, connections FROM clinres.connections_by_client
 WHERE usename LIKE 'clinres_regress_%' ORDER BY usename;
SELECT dblink_disconnect('v2');
SELECT pg_temp.settle(2) AS still_open;

-- Privacy: everyone sees the totals; per-client rows of other roles only with
-- pg_read_all_stats (or as superuser); otherwise only the role's own sessions.
SET ROLE clinres_regress_viewer;
SELECT connections > 0 AS sees_totals FROM clinres.connection_usage;
SELECT usename, connections FROM clinres.connections_by_client ORDER BY usename;
RESET ROLE;
GRANT pg_read_all_stats TO clinres_regress_viewer;
SET ROLE clinres_regress_viewer;
SELECT usename, connections FROM clinres.connections_by_client WHERE usename LIKE 'clinres_regress_%' ORDER BY usename;
RESET ROLE;
SELECT dblink_disconnect('v1'), dblink_disconnect('o1');
SELECT pg_temp.settle(0) AS after_close;

-- Alert levels switch at the thresholds.
SET clinres.connection_critical_pct = 100;
SET clinres.connection_warning_pct = 100;
SELECT alert_level FROM clinres.connection_usage;
SET clinres.connection_warning_pct = 1;
SELECT alert_level FROM clinres.connection_usage;
SET clinres.connection_critical_pct = 1;
SELECT alert_level FROM clinres.connection_usage;
-- The two thresholds are not cross-checked when set, so they may be set in any order
-- (as postgresql.conf does: warning 97 before critical 99); a pair that is inconsistent
-- when used is an error of the view, with a hint.
SET clinres.connection_warning_pct = 97;
SHOW clinres.connection_warning_pct;
SELECT alert_level FROM clinres.connection_usage;
\echo :LAST_ERROR_SQLSTATE
SET clinres.connection_critical_pct = 99;
SELECT alert_level FROM clinres.connection_usage;
-- RESET is checked the same way: critical back to 95, below warning 97.
RESET clinres.connection_critical_pct;
SELECT alert_level FROM clinres.connection_usage;
\echo :LAST_ERROR_SQLSTATE
RESET clinres.connection_warning_pct;
SELECT alert_level FROM clinres.connection_usage;
-- Set before the library is loaded (a new session's options, in postgresql.conf order):
-- both values survive loading clinres.
\set opts 'host=127.0.0.1 dbname=' :DBNAME ' port=' :PORT ' user=clinres_regress_viewer password=viewer-pw options=''-c clinres.connection_warning_pct=97 -c clinres.connection_critical_pct=99'''
SELECT dblink_connect('t1', :'opts');
SELECT * FROM dblink('t1', $$SELECT alert_level, current_setting('clinres.connection_warning_pct'),
                              current_setting('clinres.connection_critical_pct') FROM clinres.connection_usage$$)
    AS t(alert_level text, warning_pct text, critical_pct text);
SELECT dblink_disconnect('t1');

-- Pool sizing: usable connections divided evenly among instances.
SELECT clinres.pool_size(4, 100) AS four_of_100, clinres.pool_size(3, 100) AS three_of_100,
       clinres.pool_size(100, 100) AS hundred_of_100, clinres.pool_size(1, 7) AS one_of_7;
SELECT clinres.pool_size(4) = (current_setting('max_connections')::int
                               - current_setting('superuser_reserved_connections')::int
                               - coalesce(current_setting('reserved_connections', true)::int, 0)) / 4 AS from_server;
SELECT clinres.pool_size(0, 100);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.pool_size(10, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.pool_size(2, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT clinres.pool_size(NULL, 10);
\echo :LAST_ERROR_SQLSTATE

-- Without shared_preload_libraries the history says the monitor is not running.
SELECT sampled_at, connections, monitor FROM clinres.connection_usage_history;

-- A monitoring role (postgres_exporter and its peers run as a member of pg_monitor) reads the
-- totals and every client, as pg_read_all_stats sees them; it needs no clinres_app.
CREATE ROLE clinres_regress_monitor IN ROLE pg_monitor;
SET ROLE clinres_regress_monitor;
SELECT connections > 0 AS sees_connections, max_connections > 0 AS sees_max FROM clinres.connection_usage;
SELECT count(*) > 0 AS sees_clients, bool_or(usename IS NOT NULL) AS sees_roles FROM clinres.connections_by_client;
SELECT count(*) >= 0 AS reads_history FROM clinres.connection_usage_history;
RESET ROLE;
DROP ROLE clinres_regress_monitor;

DROP ROLE clinres_regress_viewer;
DROP ROLE clinres_regress_other;
