
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
    session_id uuid := pg_catalog.gen_random_uuid();
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
    BEGIN
        ok := clinres._password_matches(coalesce(password, ''), hash)
              AND password IS NOT NULL AND u.password_hash IS NOT NULL;
    EXCEPTION WHEN invalid_parameter_value THEN
        -- A stored hash crypt() refuses (only plain SQL writes one): a failure, in the dummy's time.
        hash := dummy;
        PERFORM clinres._password_matches(coalesce(password, ''), hash);
        ok := false;
    END;
    -- A hash cheaper than the dummy (imported, or made at a lower cost) costs as much as it.
    PERFORM clinres._bcrypt_padding(hash);
    IF u.id IS NOT NULL AND NOT ok THEN
        outcome := 'failure';
    ELSIF ok AND u.status OPERATOR(pg_catalog.=) 'active' THEN
        IF tenant_code IS NOT NULL THEN
            SELECT t.id INTO tenant FROM clinres.tenants t
             WHERE t.code OPERATOR(pg_catalog.=) tenant_code AND t.status OPERATOR(pg_catalog.=) 'active'
               -- the decision's: SUPER_ADMIN, or a membership active and valid now
               AND clinres._allowed(u.id, 'context', t.id, NULL);
        ELSE
            -- The landing tenant: an active membership with a module to open first, oldest first.
            SELECT t.id INTO tenant FROM clinres.user_tenants m
              JOIN clinres.tenants t ON t.id OPERATOR(pg_catalog.=) m.tenant_id
             WHERE m.user_id OPERATOR(pg_catalog.=) u.id AND m.status OPERATOR(pg_catalog.=) 'active'
               AND t.status OPERATOR(pg_catalog.=) 'active' AND clinres._allowed(u.id, 'context', t.id, NULL)
             ORDER BY clinres.landing_module(u.id, t.id) IS NULL, m.joined_at, t.code
             LIMIT 1;
            IF tenant IS NULL AND u.platform_role OPERATOR(pg_catalog.=) 'SUPER_ADMIN' THEN
                SELECT t.id INTO tenant FROM clinres.tenants t
                 WHERE t.code OPERATOR(pg_catalog.=) 'PUBLIC' AND t.status OPERATOR(pg_catalog.=) 'active';
            END IF;
        END IF;
        IF tenant IS NOT NULL THEN
            token := clinres._sign_session(u.id, tenant, session_id);
            outcome := 'success';
        END IF;
    END IF;
    -- Every path, an unknown user's too, records its outcome in a transaction of its own that
    -- has committed when this returns (no rollback of the caller's undoes it), with the audit
    -- row of a known user's attempt and the session of a success, and only there is the lock
    -- decided, on the newest row: a success proceeds only if it reset the count of an
    -- unlocked, active account whose hash is still the one verified (a reset committed since
    -- this read the row refuses the old password). NULL (not recorded) fails closed.
    IF NOT coalesce(clinres._record_login(u.id, outcome, session_id, tenant,
                                          pg_catalog.split_part(token, '.', 4)::bigint,
                                          pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(hash, 'UTF8')), 'hex')), false)
       OR outcome OPERATOR(pg_catalog.<>) 'success' THEN
        RETURN NULL;
    END IF;
    -- session_profile answers for the context user: the token sets it, confined to this call by
    -- login's SET clauses on the context (the caller's context is untouched).
    PERFORM clinres.set_session(token);
    profile := clinres.session_profile(u.id, tenant) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
        'token', token,
        'token_expires_at', pg_catalog.to_timestamp(pg_catalog.split_part(token, '.', 4)::double precision),
        'session_id', session_id);
    RETURN profile;
END
$$;
COMMENT ON FUNCTION clinres.login(text, text, text) IS
    'email (any case) or phone and password -> session_profile plus a signed session token and its session_id, or NULL for every kind of failure, in the same time';
REVOKE ALL ON FUNCTION clinres.rotate_session_key(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION clinres.login(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.login(text, text, text) TO clinres_app;

CREATE OR REPLACE FUNCTION clinres._dummy_hash() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_dummy_hash';
COMMENT ON FUNCTION clinres._dummy_hash() IS 'a bcrypt setting at clinres.bcrypt_cost that no password matches';
REVOKE ALL ON FUNCTION clinres._dummy_hash() FROM PUBLIC;

CREATE OR REPLACE FUNCTION clinres._record_login(user_id uuid, outcome text, session_id uuid, tenant_id uuid,
                                                 expires bigint, verified_hash text) RETURNS boolean
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_record_login_session';
COMMENT ON FUNCTION clinres._record_login(uuid, text, uuid, uuid, bigint, text) IS
    'records a login attempt (success, failure or none) with its audit row and, for a success, its session (expiring at expires, Unix seconds; only while the user''s hash still has the SHA-256 verified_hash) in a transaction of its own, by a background worker; whether it changed the user''s row, NULL if it could not be recorded (login calls it; nobody else may)';
REVOKE ALL ON FUNCTION clinres._record_login(uuid, text, uuid, uuid, bigint, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION clinres._sign_session(user_id uuid, tenant_id uuid, session_id uuid) RETURNS text
    LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'clinres_sign_session_of';
COMMENT ON FUNCTION clinres._sign_session(uuid, uuid, uuid) IS 'a token of the session of the user and tenant (login calls it; nobody else may)';
REVOKE ALL ON FUNCTION clinres._sign_session(uuid, uuid, uuid) FROM PUBLIC;

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


-- Ending sessions. logout and revoke_sessions end them in a transaction of their own, with
-- their audit rows (no rollback of the caller's revives a session or hides its ending).
CREATE OR REPLACE FUNCTION clinres._end_sessions_autonomously(actor uuid, user_id uuid, session_ids text, end_reason text,
                                                              change_reason text) RETURNS int
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_end_sessions_autonomously';
COMMENT ON FUNCTION clinres._end_sessions_autonomously(uuid, uuid, text, text, text) IS
    'ends the user''s live sessions among session_ids (a uuid[] literal) and audits each, in a transaction of its own; how many ended';
REVOKE ALL ON FUNCTION clinres._end_sessions_autonomously(uuid, uuid, text, text, text) FROM PUBLIC;

-- No SET clause naming clinres.user_id/tenant_id but login's: set_session's context stays in the call.
CREATE OR REPLACE FUNCTION clinres.logout(token text) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    SET clinres.user_id = '' SET clinres.tenant_id = ''
AS $$
DECLARE
    me uuid := clinres.set_session(token); -- 28000 unless the token is valid and its session live
    session_id uuid;
BEGIN
    IF pg_catalog.array_length(pg_catalog.string_to_array(token, '.'), 1) OPERATOR(pg_catalog.<>) 6 THEN
        RAISE EXCEPTION 'invalid session token' USING ERRCODE = 'invalid_authorization_specification',
            DETAIL = 'The token was issued before clinres 0.4.0 and names no session: it ends when it expires.',
            HINT = 'SELECT clinres.rotate_session_key(interval ''0''); ends every token at once.',
            SCHEMA = 'clinres', TABLE = 'session', COLUMN = 'token';
    END IF;
    session_id := pg_catalog.split_part(token, '.', 5)::uuid;
    PERFORM clinres._end_sessions_autonomously(me, me, ARRAY[session_id]::text, 'logout', NULL);
    RETURN session_id;
END
$$;
COMMENT ON FUNCTION clinres.logout(text) IS
    'ends the token''s session (28000 if the token does not verify or its session is over); returns the session id';

-- The live sessions of a user (NULL: the context user) in the tenants where the context user
-- may manage them: its own anywhere, another's with user:edit and the grant ceiling there.
-- Its argument is named of_user: PostgreSQL refuses an argument named like a result column.
CREATE OR REPLACE FUNCTION clinres.list_sessions(of_user uuid DEFAULT NULL)
    RETURNS TABLE (session_id uuid, user_id uuid, tenant_id uuid, created_at timestamptz,
                   last_seen_at timestamptz, expires_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    target uuid := coalesce(of_user, actor);
BEGIN
    PERFORM clinres._authorize(actor, 'sessions', NULL, target);
    RETURN QUERY
        SELECT s.id, s.user_id, s.tenant_id, s.created_at, coalesce(a.last_seen_at, s.created_at), s.expires_at
          FROM clinres.sessions s
          LEFT JOIN clinres.session_activity a ON a.tenant_id = s.tenant_id AND a.id = s.id
         WHERE s.user_id = target AND s.ended_at IS NULL AND s.expires_at > pg_catalog.clock_timestamp()
           AND clinres._allowed(actor, 'sessions', s.tenant_id, target)
         ORDER BY s.created_at, s.id;
END
$$;
COMMENT ON FUNCTION clinres.list_sessions(uuid) IS
    'the live sessions of the user (NULL: the context user''s own) in the tenants where the context user may manage them';

CREATE OR REPLACE FUNCTION clinres.revoke_sessions(user_id uuid, session_id uuid DEFAULT NULL) RETURNS int
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    actor uuid := clinres._actor();
    reason text;
    tenant uuid;
    ids uuid[];
BEGIN
    IF revoke_sessions.user_id IS NULL THEN
        RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM clinres._authorize(actor, 'sessions', NULL, revoke_sessions.user_id);
    reason := clinres._change_reason(); -- 22023 when one is required and none is set
    IF revoke_sessions.session_id IS NOT NULL THEN
        SELECT s.tenant_id INTO tenant FROM clinres.sessions s
         WHERE s.user_id = revoke_sessions.user_id AND s.id = revoke_sessions.session_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'session "%" of user "%" does not exist', revoke_sessions.session_id, revoke_sessions.user_id
                USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM clinres._authorize(actor, 'sessions', tenant, revoke_sessions.user_id);
        ids := ARRAY[revoke_sessions.session_id];
    ELSE
        SELECT pg_catalog.array_agg(s.id ORDER BY s.id) INTO ids FROM clinres.sessions s
         WHERE s.user_id = revoke_sessions.user_id AND s.ended_at IS NULL AND s.expires_at > pg_catalog.clock_timestamp()
           AND clinres._allowed(actor, 'sessions', s.tenant_id, revoke_sessions.user_id);
    END IF;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    RETURN clinres._end_sessions_autonomously(actor, revoke_sessions.user_id, ids::text, 'revoked', reason);
END
$$;
COMMENT ON FUNCTION clinres.revoke_sessions(uuid, uuid) IS
    'ends one live session of the user, or all those the context user may manage; how many ended';
REVOKE ALL ON FUNCTION clinres.logout(text), clinres.list_sessions(uuid), clinres.revoke_sessions(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.logout(text), clinres.list_sessions(uuid), clinres.revoke_sessions(uuid, uuid) TO clinres_app;

-- A change to a user ends its sessions, in the transaction of the change (whatever path made
-- it: the API, import, plain SQL): disabled, deleted, locked out (by login's worker), password
-- changed; a membership removed, no longer active or no longer valid ends the sessions in that
-- tenant, and a membership's valid_until moved earlier moves their expiry with it (login gives a
-- session no later expiry than its membership's valid_until). Enabling again revives nothing.
CREATE OR REPLACE FUNCTION clinres._end_sessions_on_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
DECLARE
    who uuid;
    tenant uuid;
    reason text;
    -- users or user_tenants, also when fired on a Citus placement (users_102019)
    on_users boolean := TG_TABLE_NAME = 'users' OR TG_TABLE_NAME ~ '^users_[0-9]+$';
    -- this node's sessions when fired on a Citus placement (citus/citus.sql)
    placement text := CASE WHEN TG_TABLE_NAME NOT IN ('users', 'user_tenants') THEN clinres._local_placement('clinres.sessions') END;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN -- TRUNCATE
        IF placement IS NOT NULL THEN
            EXECUTE pg_catalog.format('UPDATE %s s SET ended_at = pg_catalog.now(), end_reason = $1 WHERE s.ended_at IS NULL', placement)
              USING CASE WHEN on_users THEN 'user_deleted' ELSE 'membership_ended' END;
        ELSIF NOT clinres._is_citus_table(TG_RELID) THEN -- (a Citus shell's rows are in its placements)
            UPDATE clinres.sessions s SET ended_at = pg_catalog.now(),
                   end_reason = CASE WHEN on_users THEN 'user_deleted' ELSE 'membership_ended' END
             WHERE s.ended_at IS NULL;
        END IF;
        RETURN NULL;
    END IF;
    IF on_users THEN
        who := OLD.id;
        IF TG_OP = 'DELETE' THEN
            reason := 'user_deleted';
        ELSIF NEW.status <> 'active' AND OLD.status = 'active' THEN
            reason := 'user_disabled';
        ELSIF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
            reason := 'password_reset';
        ELSIF NEW.locked_until > pg_catalog.now() AND NEW.locked_until IS DISTINCT FROM OLD.locked_until THEN
            reason := 'locked_out';
        ELSE
            RETURN NULL;
        END IF;
    ELSE
        who := OLD.user_id;
        tenant := OLD.tenant_id;
        reason := 'membership_ended';
        -- Only the validity changed, and it holds now: the sessions end when it does (never later
        -- than they would already have, so that moving the end later revives nothing).
        IF TG_OP = 'UPDATE' AND NEW.status = 'active' AND OLD.status = 'active' AND NEW.tenant_id = OLD.tenant_id
           AND NEW.user_id = OLD.user_id AND (NEW.valid_from IS NULL OR NEW.valid_from <= pg_catalog.now())
           AND (NEW.valid_until IS NULL OR NEW.valid_until > pg_catalog.now()) THEN
            IF NEW.valid_until IS NULL THEN
                RETURN NULL;
            ELSIF placement IS NULL THEN
                UPDATE clinres.sessions s SET expires_at = NEW.valid_until
                 WHERE s.user_id = who AND s.tenant_id = tenant AND s.ended_at IS NULL AND s.expires_at > NEW.valid_until;
            ELSE
                EXECUTE pg_catalog.format('UPDATE %s s SET expires_at = $1'
                                          ' WHERE s.user_id = $2 AND s.tenant_id = $3 AND s.ended_at IS NULL'
                                          ' AND s.expires_at > $1', placement)
                  USING NEW.valid_until, who, tenant;
            END IF;
            RETURN NULL;
        END IF;
    END IF;
    IF placement IS NULL THEN
        UPDATE clinres.sessions s SET ended_at = pg_catalog.now(), end_reason = reason
         WHERE s.user_id = who AND (tenant IS NULL OR s.tenant_id = tenant) AND s.ended_at IS NULL;
    ELSE
        EXECUTE pg_catalog.format('UPDATE %s s SET ended_at = pg_catalog.now(), end_reason = $1'
                                  ' WHERE s.user_id = $2 AND ($3 IS NULL OR s.tenant_id = $3) AND s.ended_at IS NULL', placement)
          USING reason, who, tenant;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinres._end_sessions_on_change() IS
    'trigger on users and user_tenants: ends the sessions a change to the user or membership must end';

CREATE OR REPLACE FUNCTION clinres._session_doorbell() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'clinres_session_doorbell';
COMMENT ON FUNCTION clinres._session_doorbell() IS
    'trigger on sessions: a session ended or was deleted; every backend drops its cached session states';
REVOKE ALL ON FUNCTION clinres._end_sessions_on_change(), clinres._session_doorbell() FROM PUBLIC;

-- The triggers (versions/next.sql repeats them for the upgrade).
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
