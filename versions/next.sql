-- from 0.3.0
-- The upgrade from the last release (the line above) to the version in development: what cannot
-- be re-run. The build makes versions/clinres--0.3.0--<default_version>.sql from this file, with
-- every function of the SQL parts (scripts/sql-code.py) where the @code line stands, so that a
-- function is written once, in its feature's file. At a release the built script is frozen into
-- versions/ (and versions/SHA256SUMS), and this file starts again from the new release.
\echo Use "ALTER EXTENSION clinres UPDATE" to load this file. \quit

-- Sessions (issue 22): the sessions table and its doorbell; login's 0.3.0 helpers give way to
-- ones that name the session (the library keeps their entry points for 0.3.0's scripts).
-- Sessions (docs/sessions.md, "Sessions"): one row per login, named by its token. A session
-- is live until ended_at (logout, revocation, or a change to its user: see the triggers below)
-- or expires_at. Not dumped, like the keys: a restored database makes a new key, so no token
-- of the old one verifies anyway. The key includes tenant_id (distributed by tenant on Citus).
CREATE TABLE clinres.sessions (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    user_id       uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    end_reason    text CHECK (end_reason OPERATOR(pg_catalog.=) ANY (ARRAY['logout', 'revoked', 'user_disabled',
                      'user_deleted', 'locked_out', 'password_reset', 'membership_ended'])),
    PRIMARY KEY (tenant_id, id),
    CHECK ((ended_at IS NULL) OPERATOR(pg_catalog.=) (end_reason IS NULL))
);
CREATE INDEX sessions_live_idx ON clinres.sessions (user_id, tenant_id) WHERE ended_at IS NULL;
COMMENT ON TABLE clinres.sessions IS 'one row per login: live until ended_at or expires_at; its token names it';
REVOKE ALL ON TABLE clinres.sessions FROM PUBLIC;

-- When each session was last seen by a request (at most clinres.session_seen_interval old):
-- apart from sessions, so that a request recording it never holds a lock an ending waits for.
CREATE TABLE clinres.session_activity (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    last_seen_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE clinres.session_activity IS 'last_seen_at of each session, recorded by its requests';
REVOKE ALL ON TABLE clinres.session_activity FROM PUBLIC;

-- The doorbell: a relation no plan references, whose relcache invalidation tells every backend
-- to drop its cached session states (registry.cpp), rung when a session ends or is deleted.
CREATE SEQUENCE clinres.session_doorbell;
COMMENT ON SEQUENCE clinres.session_doorbell IS 'rung (relcache invalidation, never used as a sequence) when a session ends';
REVOKE ALL ON SEQUENCE clinres.session_doorbell FROM PUBLIC;

DROP FUNCTION clinres._sign_session(uuid, uuid);
DROP FUNCTION clinres._record_login(uuid, text);
-- Import: bcrypt hashes (password_hash) and the field of each problem (issues 18 and 23). The row
-- check carries both; the check and the one-row writer take the hashes, the writer and the import's
-- report return the field (a changed result type: dropped, then written again by @code).
ALTER TYPE clinres._user_row_check ADD ATTRIBUTE password_hash text, ADD ATTRIBUTE field text;
DROP FUNCTION clinres._check_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]);
DROP FUNCTION clinres._write_user_rows(uuid, text, text[], text[], text[], text[], text[], text[], int[]);
DROP FUNCTION clinres.import_users(bytea, uuid, text, boolean, text, text);
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
-- Access governance (issue 23): validities of memberships and module grants
-- (the same statements as src/clinres/users/governance.sql).
-- Validities (0.4.0): a membership or a module grant may start and end at given instants. NULL:
-- since always, for ever. Stored, not evaluated: has_module compares them with now() (rules.cpp).
ALTER TABLE clinres.user_tenants ADD COLUMN valid_from timestamptz, ADD COLUMN valid_until timestamptz,
    ADD CONSTRAINT user_tenants_validity_check CHECK (valid_from OPERATOR(pg_catalog.<) valid_until);
ALTER TABLE clinres.user_modules ADD COLUMN valid_from timestamptz, ADD COLUMN valid_until timestamptz,
    ADD CONSTRAINT user_modules_validity_check CHECK (valid_from OPERATOR(pg_catalog.<) valid_until);
COMMENT ON COLUMN clinres.user_tenants.valid_from IS 'the membership holds from this instant on (NULL: since always)';
COMMENT ON COLUMN clinres.user_tenants.valid_until IS 'the membership holds until this instant, excluded (NULL: for ever)';
COMMENT ON COLUMN clinres.user_modules.valid_from IS 'the grant holds from this instant on (NULL: since always)';
COMMENT ON COLUMN clinres.user_modules.valid_until IS 'the grant holds until this instant, excluded (NULL: for ever)';
-- The few rows with a validity, found without a scan by the access cache (catalog_reader.cpp).
CREATE INDEX user_tenants_validity_idx ON clinres.user_tenants (user_id)
    WHERE valid_from IS NOT NULL OR valid_until IS NOT NULL;
CREATE INDEX user_modules_validity_idx ON clinres.user_modules (user_id)
    WHERE valid_from IS NOT NULL OR valid_until IS NOT NULL;
-- A membership's validity decides access: changing it drops the user from every access cache
-- (user_modules rings on every update already).
CREATE TRIGGER access_cache_invalidate_validity AFTER UPDATE OF valid_from, valid_until ON clinres.user_tenants
    FOR EACH ROW WHEN (OLD.valid_from IS DISTINCT FROM NEW.valid_from OR OLD.valid_until IS DISTINCT FROM NEW.valid_until)
    EXECUTE FUNCTION clinres.access_cache_invalidate('user', 'user_id');
ALTER TABLE clinres.user_tenants ENABLE ALWAYS TRIGGER access_cache_invalidate_validity;
-- assign_tenant takes the membership's validity (two more arguments, defaulted).
DROP FUNCTION clinres.assign_tenant(uuid, uuid, text, text[]);

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

-- The audit trail (trail.sql): the canonical form is versioned; rows of 0.3.0 keep form 1, new rows
-- are form 2 (personal fields hashed as salted digests, so that erase_user can replace them).
ALTER TABLE clinres.admin_logs
    ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 CHECK (hash_version OPERATOR(pg_catalog.=) ANY (ARRAY[1, 2])),
    ADD COLUMN salt bytea,
    ADD COLUMN detail_sha256 bytea;
COMMENT ON COLUMN clinres.admin_logs.row_hash IS 'SHA-256 of the canonical form of this row (clinres._admin_log_canonical_of)';
COMMENT ON COLUMN clinres.admin_logs.hash_version IS 'the version of the canonical form row_hash hashes: 1 (0.3.0), 2 (personal fields as digests)';
COMMENT ON COLUMN clinres.admin_logs.salt IS 'form 2: 16 random bytes hashed before each personal value; NULL once erase_user erased the row';
COMMENT ON COLUMN clinres.admin_logs.detail_sha256 IS 'form 1, erased rows only: SHA-256 of the detail erase_user replaced (what the form hashes instead)';
DROP FUNCTION clinres._export_admin_logs(uuid); -- its result gained hash_version
-- The canonical form is defined once, in C++ (users/canonical.cpp, through _admin_log_canonical_of):
-- 0.3.0's SQL form 1 goes.
DROP FUNCTION clinres._admin_log_canonical(bigint, timestamptz, uuid, uuid, text, text, jsonb, text, bytea);

-- Import and export carry the membership's validity (issue 23): the export's rows get valid_from and
-- valid_until (a changed result type: dropped, then written again by @code).
DROP FUNCTION clinres._export_rows(uuid);

-- The shared access table (issue 24): access_cache_stats gains shared_hits, shared_entries and
-- shared_bytes (a changed result type: dropped, then written again by @code).
DROP FUNCTION clinres.access_cache_stats();

-- @code

-- Sessions (issue 22): the triggers that ring the doorbell and end sessions.
CREATE TRIGGER doorbell AFTER UPDATE ON clinres.sessions FOR EACH ROW
    WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.id IS DISTINCT FROM NEW.id OR OLD.user_id IS DISTINCT FROM NEW.user_id
          OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
    EXECUTE FUNCTION clinres._session_doorbell();
CREATE TRIGGER doorbell_delete AFTER DELETE OR TRUNCATE ON clinres.sessions FOR EACH STATEMENT
    EXECUTE FUNCTION clinres._session_doorbell();
CREATE TRIGGER end_sessions AFTER DELETE ON clinres.users FOR EACH ROW EXECUTE FUNCTION clinres._end_sessions_on_change();
CREATE TRIGGER end_sessions_update AFTER UPDATE ON clinres.users FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.password_hash IS DISTINCT FROM NEW.password_hash
          OR OLD.locked_until IS DISTINCT FROM NEW.locked_until)
    EXECUTE FUNCTION clinres._end_sessions_on_change();
CREATE TRIGGER end_sessions_truncate AFTER TRUNCATE ON clinres.users FOR EACH STATEMENT
    EXECUTE FUNCTION clinres._end_sessions_on_change();
CREATE TRIGGER end_sessions AFTER DELETE ON clinres.user_tenants FOR EACH ROW EXECUTE FUNCTION clinres._end_sessions_on_change();
CREATE TRIGGER end_sessions_update AFTER UPDATE ON clinres.user_tenants FOR EACH ROW
    WHEN ((OLD.status OPERATOR(pg_catalog.=) 'active' AND NEW.status IS DISTINCT FROM 'active')
          OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id
          OR OLD.valid_from IS DISTINCT FROM NEW.valid_from OR OLD.valid_until IS DISTINCT FROM NEW.valid_until)
    EXECUTE FUNCTION clinres._end_sessions_on_change();
CREATE TRIGGER end_sessions_truncate AFTER TRUNCATE ON clinres.user_tenants FOR EACH STATEMENT
    EXECUTE FUNCTION clinres._end_sessions_on_change();
ALTER TABLE clinres.sessions ENABLE ALWAYS TRIGGER doorbell, ENABLE ALWAYS TRIGGER doorbell_delete;
ALTER TABLE clinres.users ENABLE ALWAYS TRIGGER end_sessions, ENABLE ALWAYS TRIGGER end_sessions_update,
    ENABLE ALWAYS TRIGGER end_sessions_truncate;
ALTER TABLE clinres.user_tenants ENABLE ALWAYS TRIGGER end_sessions, ENABLE ALWAYS TRIGGER end_sessions_update,
    ENABLE ALWAYS TRIGGER end_sessions_truncate;

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
