-- clinres 0.1.0 -> 0.2.0. Run by ALTER EXTENSION clinres UPDATE TO '0.2.0'.
-- After it, the database equals a fresh CREATE EXTENSION clinres VERSION '0.2.0'
-- (test/client/upgrade.sh compares the two). Sections follow config/sql-parts.txt.
\echo Use "ALTER EXTENSION clinres UPDATE TO '0.2.0'" to load this file. \quit
