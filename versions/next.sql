-- from 0.3.0
-- The upgrade from the last release (the line above) to the version in development: what cannot
-- be re-run. The build makes versions/clinres--0.3.0--<default_version>.sql from this file, with
-- every function of the SQL parts (scripts/sql-code.py) where the @code line stands, so that a
-- function is written once, in its feature's file. At a release the built script is frozen into
-- versions/ (and versions/SHA256SUMS), and this file starts again from the new release.
\echo Use "ALTER EXTENSION clinres UPDATE" to load this file. \quit

-- list_users' other sorts (issue 24; src/clinres/users/catalog.sql): the sort keys copied into
-- the memberships (the triggers follow below @code: their functions are new there).
ALTER TABLE clinres.user_tenants ADD COLUMN user_name text, ADD COLUMN user_email_key text,
    ADD COLUMN user_last_login_at timestamptz;
UPDATE clinres.user_tenants ut SET user_name = u.name, user_email_key = pg_catalog.lower(u.email), user_last_login_at = u.last_login_at
  FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) ut.user_id;
ALTER TABLE clinres.user_tenants ALTER COLUMN user_name SET NOT NULL, ALTER COLUMN user_email_key SET NOT NULL;
CREATE INDEX user_tenants_name_idx ON clinres.user_tenants (tenant_id, user_name, user_id);
CREATE INDEX user_tenants_email_idx ON clinres.user_tenants (tenant_id, user_email_key, user_id);
CREATE INDEX user_tenants_last_login_asc_idx ON clinres.user_tenants (tenant_id, user_last_login_at ASC NULLS LAST, user_id);
CREATE INDEX user_tenants_last_login_desc_idx ON clinres.user_tenants (tenant_id, user_last_login_at DESC NULLS LAST, user_id DESC);
CREATE INDEX users_name_idx ON clinres.users (name, id);
CREATE INDEX users_email_sort_idx ON clinres.users (pg_catalog.lower(email), id);
CREATE INDEX users_last_login_asc_idx ON clinres.users (last_login_at ASC NULLS LAST, id);
CREATE INDEX users_last_login_desc_idx ON clinres.users (last_login_at DESC NULLS LAST, id DESC);

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

-- list_users' other sorts: the copy triggers now also follow name, email and last login.
DROP TRIGGER user_copy ON clinres.user_tenants;
CREATE TRIGGER user_copy BEFORE INSERT OR UPDATE OF user_id, user_created_at, user_search_text, user_name, user_email_key, user_last_login_at
    ON clinres.user_tenants
    FOR EACH ROW EXECUTE FUNCTION clinres._user_tenants_copy();
DROP TRIGGER user_copy ON clinres.users;
CREATE TRIGGER user_copy AFTER UPDATE OF created_at, email, name, phone, last_login_at ON clinres.users
    -- Only last_login_at may be NULL.
    FOR EACH ROW WHEN (OLD.created_at OPERATOR(pg_catalog.<>) NEW.created_at OR OLD.search_text OPERATOR(pg_catalog.<>) NEW.search_text
                       OR OLD.name OPERATOR(pg_catalog.<>) NEW.name OR OLD.email OPERATOR(pg_catalog.<>) NEW.email
                       OR OLD.last_login_at IS DISTINCT FROM NEW.last_login_at)
    EXECUTE FUNCTION clinres._users_copy_changed();
