
-- User management (docs/users.md): catalog additions. Email is already unique regardless of
-- case (users_email_lower_key) and phone unique when set (users_phone_key) since 0.1.0.

-- Written by login (failure counting and lockout); appended, so that an upgraded table equals a fresh one.
ALTER TABLE clinres.users
    ADD COLUMN last_login_at timestamptz,
    ADD COLUMN failed_logins int NOT NULL DEFAULT 0 CHECK (failed_logins OPERATOR(pg_catalog.>=) 0),
    ADD COLUMN locked_until timestamptz;

-- Search: one lower-cased text of email, name and phone digits, stored (computed once per write,
-- so that a search rechecks a plain column) and indexed by trigrams (pg_trgm), so that a
-- substring of three or more characters (Chinese included) finds its users by index.
CREATE OR REPLACE FUNCTION clinres._user_search_text(email text, name text, phone text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.lower($1) OPERATOR(pg_catalog.||) E'\n' OPERATOR(pg_catalog.||) pg_catalog.lower($2)
           OPERATOR(pg_catalog.||) E'\n'
           OPERATOR(pg_catalog.||) coalesce(pg_catalog.regexp_replace($3, '[^0-9+]', '', 'g'), '')
$$;
COMMENT ON FUNCTION clinres._user_search_text(text, text, text) IS
    'what list_users searches: lower-cased email and name and the phone''s digits, one per line';
ALTER TABLE clinres.users
    ADD COLUMN search_text text GENERATED ALWAYS AS (clinres._user_search_text(email, name, phone)) STORED;
DO $$
BEGIN
    EXECUTE pg_catalog.format('CREATE INDEX users_search_trgm_idx ON clinres.users USING gin (search_text %I.gin_trgm_ops)',
                              (SELECT n.nspname FROM pg_catalog.pg_extension e
                                 JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                                WHERE e.extname OPERATOR(pg_catalog.=) 'pg_trgm'));
END
$$;

-- The member's users.created_at and users.search_text, copied into its memberships so that a
-- tenant's user list pages and searches within one index range (tenant_id, user_created_at,
-- user_id, with the search text included) without reading each member's users row.
ALTER TABLE clinres.user_tenants ADD COLUMN user_created_at timestamptz, ADD COLUMN user_search_text text;
UPDATE clinres.user_tenants ut SET user_created_at = u.created_at, user_search_text = u.search_text
  FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) ut.user_id;
ALTER TABLE clinres.user_tenants ALTER COLUMN user_created_at SET NOT NULL, ALTER COLUMN user_search_text SET NOT NULL;
-- And the keys of the list's other sorts (name, email as it sorts, last login), so that a
-- tenant's page in any order is a walk of one index range too.
ALTER TABLE clinres.user_tenants ADD COLUMN user_name text, ADD COLUMN user_email_key text,
    ADD COLUMN user_last_login_at timestamptz;
UPDATE clinres.user_tenants ut SET user_name = u.name, user_email_key = pg_catalog.lower(u.email), user_last_login_at = u.last_login_at
  FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) ut.user_id;
ALTER TABLE clinres.user_tenants ALTER COLUMN user_name SET NOT NULL, ALTER COLUMN user_email_key SET NOT NULL;

CREATE OR REPLACE FUNCTION clinres._user_tenants_copy() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    u record;
BEGIN
    IF TG_TABLE_NAME = 'user_tenants' THEN
        SELECT x.created_at, x.search_text, x.name, pg_catalog.lower(x.email) AS email_key, x.last_login_at, x.id IS NOT NULL AS known
          INTO u FROM clinres.users x WHERE x.id = NEW.user_id;
    ELSE -- fired on a Citus placement: this node's copy of users (citus/citus.sql)
        EXECUTE pg_catalog.format('SELECT x.created_at, x.search_text, x.name, pg_catalog.lower(x.email) AS email_key, x.last_login_at,'
                                  ' x.id IS NOT NULL AS known FROM %s x WHERE x.id = $1', clinres._local_placement('clinres.users'))
           INTO u USING NEW.user_id;
    END IF;
    -- An unknown user keeps the given values (or placeholders): the foreign key then reports it.
    NEW.user_created_at := coalesce(u.created_at, NEW.user_created_at, pg_catalog.now());
    NEW.user_search_text := coalesce(u.search_text, NEW.user_search_text, '');
    NEW.user_name := coalesce(u.name, NEW.user_name, '');
    NEW.user_email_key := coalesce(u.email_key, NEW.user_email_key, '');
    NEW.user_last_login_at := CASE WHEN u.known THEN u.last_login_at ELSE NEW.user_last_login_at END;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION clinres._user_tenants_copy() IS
    'keeps user_tenants.user_created_at, user_search_text, user_name, user_email_key and user_last_login_at equal to the member''s users row';
CREATE TRIGGER user_copy BEFORE INSERT OR UPDATE OF user_id, user_created_at, user_search_text, user_name, user_email_key, user_last_login_at
    ON clinres.user_tenants
    FOR EACH ROW EXECUTE FUNCTION clinres._user_tenants_copy();

CREATE OR REPLACE FUNCTION clinres._users_copy_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        UPDATE clinres.user_tenants ut SET user_created_at = NEW.created_at, user_search_text = NEW.search_text,
                                          user_name = NEW.name, user_email_key = pg_catalog.lower(NEW.email),
                                          user_last_login_at = NEW.last_login_at
         WHERE ut.user_id = NEW.id;
    ELSE -- fired on a Citus placement: this node's copy of user_tenants (citus/citus.sql)
        EXECUTE pg_catalog.format('UPDATE %s ut SET user_created_at = $1.created_at, user_search_text = $1.search_text,'
                                  ' user_name = $1.name, user_email_key = pg_catalog.lower($1.email),'
                                  ' user_last_login_at = $1.last_login_at WHERE ut.user_id = $1.id',
                                  clinres._local_placement('clinres.user_tenants'))
           USING NEW;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._users_copy_changed() IS
    'copies a user''s changed created_at, search text, name, email or last login to its memberships';
CREATE TRIGGER user_copy AFTER UPDATE OF created_at, email, name, phone, last_login_at ON clinres.users
    -- Only last_login_at may be NULL.
    FOR EACH ROW WHEN (OLD.created_at OPERATOR(pg_catalog.<>) NEW.created_at OR OLD.search_text OPERATOR(pg_catalog.<>) NEW.search_text
                       OR OLD.name OPERATOR(pg_catalog.<>) NEW.name OR OLD.email OPERATOR(pg_catalog.<>) NEW.email
                       OR OLD.last_login_at IS DISTINCT FROM NEW.last_login_at)
    EXECUTE FUNCTION clinres._users_copy_changed();

-- Paging: a tenant's members newest first (search text included for index-only filtering), and
-- all users for a SUPER_ADMIN (id breaks ties).
CREATE INDEX user_tenants_page_idx ON clinres.user_tenants (tenant_id, user_created_at, user_id) INCLUDE (user_search_text);
CREATE INDEX users_created_at_idx ON clinres.users (created_at, id);
-- The list's other sorts: name, email (lower-cased, as list_users sorts it), last login newest
-- or oldest first, never logged in last either way; id breaks ties. A tenant's pages walk the
-- memberships' copies, a SUPER_ADMIN's the users'.
CREATE INDEX user_tenants_name_idx ON clinres.user_tenants (tenant_id, user_name, user_id);
CREATE INDEX user_tenants_email_idx ON clinres.user_tenants (tenant_id, user_email_key, user_id);
CREATE INDEX user_tenants_last_login_asc_idx ON clinres.user_tenants (tenant_id, user_last_login_at ASC NULLS LAST, user_id);
CREATE INDEX user_tenants_last_login_desc_idx ON clinres.user_tenants (tenant_id, user_last_login_at DESC NULLS LAST, user_id DESC);
CREATE INDEX users_name_idx ON clinres.users (name, id);
CREATE INDEX users_email_sort_idx ON clinres.users (pg_catalog.lower(email), id);
CREATE INDEX users_last_login_asc_idx ON clinres.users (last_login_at ASC NULLS LAST, id);
CREATE INDEX users_last_login_desc_idx ON clinres.users (last_login_at DESC NULLS LAST, id DESC);

-- The audit log is append-only for every role but its owner (the extension's owner).
CREATE OR REPLACE FUNCTION clinres._admin_logs_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF current_user <> (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c
                                              WHERE c.oid = TG_RELID) THEN
        RAISE EXCEPTION 'clinres.admin_logs is append-only'
            USING ERRCODE = 'insufficient_privilege', DETAIL = pg_catalog.format('%s by role %s was refused.', TG_OP, current_user);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._admin_logs_append_only() IS 'refuses UPDATE, DELETE and TRUNCATE of admin_logs to every role but its owner';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON clinres.admin_logs
    FOR EACH STATEMENT EXECUTE FUNCTION clinres._admin_logs_append_only();
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
CREATE INDEX admin_logs_tenant_idx ON clinres.admin_logs (tenant_id, id);

-- pgcrypto's functions through its schema (found at install: PostgreSQL 15 has no @extschema:pgcrypto@).
DO $$
DECLARE
    s name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                 JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto');
BEGIN
    EXECUTE pg_catalog.format($f$
CREATE OR REPLACE FUNCTION clinres._bcrypt(password text, cost int) RETURNS text
    LANGUAGE sql VOLATILE STRICT SET search_path = pg_catalog, pg_temp
AS 'SELECT %1$I.crypt($1, %1$I.gen_salt(''bf'', $2))'$f$, s);
    EXECUTE pg_catalog.format($f$
CREATE OR REPLACE FUNCTION clinres._random_password() RETURNS text
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS 'SELECT pg_catalog.translate(pg_catalog.encode(%1$I.gen_random_bytes(12), ''base64''), ''+/'', ''-_'')'$f$, s);
END
$$;
COMMENT ON FUNCTION clinres._bcrypt(text, int) IS 'bcrypt hash of password with the given cost (pgcrypto crypt and gen_salt)';
COMMENT ON FUNCTION clinres._random_password() IS 'a random 16-character password from 12 bytes of pgcrypto gen_random_bytes';
REVOKE ALL ON FUNCTION clinres._bcrypt(text, int), clinres._random_password(), clinres._user_search_text(text, text, text),
    clinres._user_tenants_copy(), clinres._users_copy_changed(), clinres._admin_logs_append_only() FROM PUBLIC;

-- 0.3.0: the tenants that removed a user (remove_tenant, or delete_user with a tenant), so that
-- their administrators may add the user back (assign_tenant) even when it belongs to no tenant
-- they can see; no other tenant may take over a user it cannot see. A row goes when the user
-- joins that tenant again.
CREATE TABLE clinres.former_members (
    tenant_id  uuid NOT NULL REFERENCES clinres.tenants (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES clinres.users (id) ON DELETE CASCADE,
    removed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    removed_by uuid,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX former_members_user_idx ON clinres.former_members (user_id);
COMMENT ON TABLE clinres.former_members IS 'memberships removed by a tenant administrator: that tenant may add the user back';
SELECT pg_catalog.pg_extension_config_dump('clinres.former_members', '');
CREATE OR REPLACE FUNCTION clinres._forget_former_member() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, clinres, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'user_tenants' THEN
        DELETE FROM clinres.former_members fm USING added a WHERE fm.tenant_id = a.tenant_id AND fm.user_id = a.user_id;
    ELSE -- fired on a Citus placement: this node's copy of former_members (citus/citus.sql)
        EXECUTE pg_catalog.format('DELETE FROM %s fm USING added a WHERE fm.tenant_id = a.tenant_id AND fm.user_id = a.user_id',
                                  clinres._local_placement('clinres.former_members'));
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._forget_former_member() IS 'a member who joins a tenant again is no longer its former member';
CREATE TRIGGER forget_former_member AFTER INSERT ON clinres.user_tenants REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION clinres._forget_former_member();
REVOKE ALL ON FUNCTION clinres._forget_former_member() FROM PUBLIC;

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
