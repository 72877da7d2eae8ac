-- from 0.3.0
-- The upgrade from the last release (the line above) to the version in development: what cannot
-- be re-run. The build makes versions/clinres--0.3.0--<default_version>.sql from this file, with
-- every function of the SQL parts (scripts/sql-code.py) where the @code line stands, so that a
-- function is written once, in its feature's file. At a release the built script is frozen into
-- versions/ (and versions/SHA256SUMS), and this file starts again from the new release.
\echo Use "ALTER EXTENSION clinres UPDATE" to load this file. \quit

-- Import: bcrypt hashes (password_hash) and the field of each problem (issues 18 and 23). The row
-- check carries both; the check and the one-row writer take the hashes, the writer and the import's
-- report return the field (a changed result type: dropped, then written again by @code).
ALTER TYPE clinres._user_row_check ADD ATTRIBUTE password_hash text, ADD ATTRIBUTE field text;
DROP FUNCTION clinres._check_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]);
DROP FUNCTION clinres._write_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]);
DROP FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text);

-- @code

-- The audit trail (trail.sql): each chain's head (id, row_hash of its last row) is kept in its
-- admin_log_chains row, so that the chain trigger reads it in O(1) instead of searching admin_logs.
ALTER TABLE clinres.admin_log_chains ADD COLUMN head_id bigint, ADD COLUMN head_hash bytea;
COMMENT ON TABLE clinres.admin_log_chains IS 'the hash chains of admin_logs: each writer''s claim, which serializes the writers of a chain, and the chain''s head';
COMMENT ON COLUMN clinres.admin_log_chains.head_id IS 'id of the chain''s last row (NULL before its first)';
COMMENT ON COLUMN clinres.admin_log_chains.head_hash IS 'row_hash of the chain''s last row (NULL before its first)';
UPDATE clinres.admin_log_chains c SET head_id = l.id, head_hash = l.row_hash
  FROM (SELECT DISTINCT ON (tenant_id) coalesce(tenant_id, '00000000-0000-0000-0000-000000000000') AS chain, id, row_hash
          FROM clinres.admin_logs ORDER BY tenant_id, id DESC) l
 WHERE c.chain = l.chain;
