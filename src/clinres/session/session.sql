
-- Sessions (docs/sessions.md): login, signed session tokens, one-call requests and
-- clinres's denial marker.

-- The keys that sign session tokens. Only the extension's owner can read them; they
-- are not dumped (a restored database makes a new key, so old tokens stop working).
CREATE TABLE clinres.session_keys (
    id          int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret      bytea NOT NULL CHECK (pg_catalog.length(secret) OPERATOR(pg_catalog.>=) 32),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    retired_at  timestamptz
);
COMMENT ON TABLE clinres.session_keys IS
    'HMAC keys of session tokens: the newest unretired key signs, any key not past retired_at verifies';
REVOKE ALL ON TABLE clinres.session_keys FROM PUBLIC;

-- The first key, and the functions that call pgcrypto, name it through its schema (found at
-- install: PostgreSQL 15 has no @extschema:pgcrypto@).
DO $$
DECLARE
    crypto name := (SELECT n.nspname FROM pg_catalog.pg_extension e
                      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                     WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto');
BEGIN
    EXECUTE pg_catalog.format('INSERT INTO clinres.session_keys (secret) VALUES (%I.gen_random_bytes(32))', crypto);

    -- Made at install (it names pgcrypto's schema), so an upgrade does not re-create it: a change
    -- to its text needs a statement of its own in versions/next.sql.
    EXECUTE pg_catalog.format($fmt$
CREATE OR REPLACE FUNCTION clinres.rotate_session_key(grace interval DEFAULT NULL) RETURNS int
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, clinres, pg_temp
AS $body$
DECLARE
    new_id int;
BEGIN
    -- Every earlier key verifies for at most grace from now (a zero grace revokes them all).
    UPDATE clinres.session_keys k
       SET retired_at = LEAST(k.retired_at, pg_catalog.now() OPERATOR(pg_catalog.+)
                        coalesce(grace, pg_catalog.current_setting('clinres.session_ttl', true)::pg_catalog.interval,
                                 '8 hours'));
    DELETE FROM clinres.session_keys k WHERE k.retired_at OPERATOR(pg_catalog.<=) pg_catalog.now();
    INSERT INTO clinres.session_keys (secret) VALUES (%1$I.gen_random_bytes(32)) RETURNING id INTO new_id;
    RETURN new_id;
END
$body$;

CREATE OR REPLACE FUNCTION clinres._crypt(password text, setting text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS 'SELECT %1$I.crypt($1, $2)';
$fmt$, crypto);
END
$$;
COMMENT ON FUNCTION clinres.rotate_session_key(interval) IS
    'makes a new signing key; earlier keys keep verifying for grace (default clinres.session_ttl), then are deleted; returns the new key id';
COMMENT ON FUNCTION clinres._crypt(text, text) IS 'pgcrypto crypt(password, setting): the hash of password with the setting''s salt and cost';
REVOKE ALL ON FUNCTION clinres._crypt(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION clinres.login(identifier text, password text, tenant_code text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    SET clinres.user_id = '' SET clinres.tenant_id = ''
AS $$
DECLARE
    dummy text := clinres._dummy_hash(); -- loads clinres, which defines the settings login uses
    u record;
    hash text;
    ok boolean;
    outcome text := 'none';
    tenant uuid;
    token text;
    profile jsonb;
BEGIN
    IF pg_catalog.strpos(identifier, '@') OPERATOR(pg_catalog.>) 0 THEN
        SELECT x.id, x.password_hash, x.status, x.platform_role INTO u
          FROM clinres.users x
         WHERE pg_catalog.lower(x.email) OPERATOR(pg_catalog.=) pg_catalog.lower(identifier);
    ELSE
        SELECT x.id, x.password_hash, x.status, x.platform_role INTO u
          FROM clinres.users x
         WHERE x.phone OPERATOR(pg_catalog.=) identifier;
    END IF;
    -- Exactly one bcrypt verification on every path, so that every failure takes as long.
    hash := coalesce(u.password_hash, dummy);
    ok := clinres._password_matches(coalesce(password, ''), hash)
          AND password IS NOT NULL AND u.password_hash IS NOT NULL;
    IF u.id IS NOT NULL AND NOT ok THEN
        outcome := 'failure';
    ELSIF ok AND u.status OPERATOR(pg_catalog.=) 'active' THEN
        IF tenant_code IS NOT NULL THEN
            SELECT t.id INTO tenant FROM clinres.tenants t
             WHERE t.code OPERATOR(pg_catalog.=) tenant_code AND t.status OPERATOR(pg_catalog.=) 'active'
               AND (u.platform_role OPERATOR(pg_catalog.=) 'SUPER_ADMIN'
                    OR EXISTS (SELECT FROM clinres.user_tenants m
                                WHERE m.user_id OPERATOR(pg_catalog.=) u.id AND m.tenant_id OPERATOR(pg_catalog.=) t.id
                                  AND m.status OPERATOR(pg_catalog.=) 'active'));
        ELSE
            -- The landing tenant: an active membership with a module to open first, oldest first.
            SELECT t.id INTO tenant FROM clinres.user_tenants m
              JOIN clinres.tenants t ON t.id OPERATOR(pg_catalog.=) m.tenant_id
             WHERE m.user_id OPERATOR(pg_catalog.=) u.id AND m.status OPERATOR(pg_catalog.=) 'active'
               AND t.status OPERATOR(pg_catalog.=) 'active'
             ORDER BY clinres.landing_module(u.id, t.id) IS NULL, m.joined_at, t.code
             LIMIT 1;
            IF tenant IS NULL AND u.platform_role OPERATOR(pg_catalog.=) 'SUPER_ADMIN' THEN
                SELECT t.id INTO tenant FROM clinres.tenants t
                 WHERE t.code OPERATOR(pg_catalog.=) 'PUBLIC' AND t.status OPERATOR(pg_catalog.=) 'active';
            END IF;
        END IF;
        IF tenant IS NOT NULL THEN
            token := clinres._sign_session(u.id, tenant);
            -- session_profile answers for the context user: the token sets it, confined to this
            -- call by login's SET clauses on the context (the caller's context is untouched).
            PERFORM clinres.set_session(token);
            profile := clinres.session_profile(u.id, tenant) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                'token', token,
                'token_expires_at', pg_catalog.to_timestamp(pg_catalog.split_part(token, '.', 4)::double precision));
            outcome := 'success';
        END IF;
    END IF;
    -- Every path, an unknown user's too, records its outcome in a transaction of its own that
    -- has committed when this returns (no rollback of the caller's undoes it), and only there
    -- is the lock decided, on the newest row: a success proceeds only if it reset the count
    -- of an unlocked, active account. NULL (not recorded) fails closed.
    IF NOT coalesce(clinres._record_login(u.id, outcome), false) OR outcome OPERATOR(pg_catalog.<>) 'success' THEN
        RETURN NULL;
    END IF;
    RETURN profile;
END
$$;
COMMENT ON FUNCTION clinres.login(text, text, text) IS
    'email (any case) or phone and password -> session_profile plus a signed session token, or NULL for every kind of failure, in the same time';
REVOKE ALL ON FUNCTION clinres.rotate_session_key(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION clinres.login(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.login(text, text, text) TO clinres_app;

CREATE OR REPLACE FUNCTION clinres._dummy_hash() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_dummy_hash';
COMMENT ON FUNCTION clinres._dummy_hash() IS 'a bcrypt setting at clinres.bcrypt_cost that no password matches';
REVOKE ALL ON FUNCTION clinres._dummy_hash() FROM PUBLIC;

CREATE OR REPLACE FUNCTION clinres._record_login(user_id uuid, outcome text) RETURNS boolean
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_record_login';
COMMENT ON FUNCTION clinres._record_login(uuid, text) IS
    'records a login attempt (success, failure or none) in a transaction of its own, by a background worker; whether it changed the user''s row, NULL if it could not be recorded (login calls it; nobody else may)';
REVOKE ALL ON FUNCTION clinres._record_login(uuid, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION clinres._sign_session(user_id uuid, tenant_id uuid) RETURNS text
    LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'clinres_sign_session';
COMMENT ON FUNCTION clinres._sign_session(uuid, uuid) IS 'a session token for the user and tenant (login calls it; nobody else may)';
REVOKE ALL ON FUNCTION clinres._sign_session(uuid, uuid) FROM PUBLIC;

-- No SET clause naming clinres.user_id/tenant_id: it would confine the SET LOCAL to the call.
CREATE OR REPLACE FUNCTION clinres.set_session(token text) RETURNS uuid
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_set_session';
COMMENT ON FUNCTION clinres.set_session(text) IS
    'verifies a session token from login and sets the context for this transaction; returns the user id (28000 if the token is invalid or expired)';
REVOKE ALL ON FUNCTION clinres.set_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.set_session(text) TO clinres_app;

CREATE OR REPLACE FUNCTION clinres.begin_request(user_id uuid, tenant_id uuid, module_code text) RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_begin_request';
COMMENT ON FUNCTION clinres.begin_request(uuid, uuid, text) IS
    'set_context for this transaction + require_module in one call; returns user_id, tenant_id, module, role, platform_role, permissions, modules';
REVOKE ALL ON FUNCTION clinres.begin_request(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.begin_request(uuid, uuid, text) TO clinres_app;

CREATE OR REPLACE FUNCTION clinres.begin_request(token text, module_code text) RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_begin_request_token';
COMMENT ON FUNCTION clinres.begin_request(text, text) IS
    'set_session + require_module in one call; returns what begin_request(user, tenant, module) returns';
REVOKE ALL ON FUNCTION clinres.begin_request(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.begin_request(text, text) TO clinres_app;

