-- from 0.2.1
-- The upgrade from the last release (the line above) to the version in development: what cannot
-- be re-run. The build makes versions/clinres--0.2.1--<default_version>.sql from this file, with
-- every function of the SQL parts (scripts/sql-code.py) where the @code line stands, so that a
-- function is written once, in its feature's file. At a release the built script is frozen into
-- versions/ (and versions/SHA256SUMS), and this file starts again from the new release.
\echo Use "ALTER EXTENSION clinres UPDATE" to load this file. \quit

-- One authorization decision (src/clinres/access/decision.cpp): the PL/pgSQL rule copies go.
DROP FUNCTION clinres._is_super(uuid), clinres._may(uuid, uuid, text), clinres._require(uuid, uuid, text),
    clinres._guard_target(uuid, clinres.users, text, boolean), clinres._require_global(uuid, uuid, text),
    clinres._role_within_ceiling(uuid, uuid, text), clinres._require_ceiling(uuid, uuid, text);
-- The denial marker comes from the decision; _deny had no caller left.
DROP FUNCTION clinres._deny(text, text, text, text, text);
-- New arguments.
DROP FUNCTION clinres._visible_user(uuid, uuid), clinres._import_tenant(uuid, text), clinres.delete_user(uuid, uuid);

-- The tenants that removed a user, which may add it back.
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

-- A monitoring role reads the connection views (the functions behind them are granted below).
GRANT SELECT ON clinres.connection_usage, clinres.connections_by_client, clinres.connection_usage_history TO pg_monitor;

-- login calls pgcrypto's crypt through a wrapper that names pgcrypto's schema (found here, as at
-- install), so that login itself is a plain function of session.sql and comes with the code below.
DO $$
BEGIN
    EXECUTE pg_catalog.format($f$
CREATE OR REPLACE FUNCTION clinres._crypt(password text, setting text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS 'SELECT %1$I.crypt($1, $2)'$f$,
        (SELECT n.nspname FROM pg_catalog.pg_extension e
           JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
          WHERE e.extname OPERATOR(pg_catalog.=) 'pgcrypto'));
END
$$;

-- The audit trail (src/clinres/users/trail.sql): the reason and hash columns, and the chains.
ALTER TABLE clinres.admin_logs
    ADD COLUMN change_reason text,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN row_hash bytea;
COMMENT ON COLUMN clinres.admin_logs.prev_hash IS 'row_hash of the previous row of the chain (32 zero bytes for its first row)';
COMMENT ON COLUMN clinres.admin_logs.row_hash IS 'SHA-256 of clinres._admin_log_canonical of this row';
CREATE TABLE clinres.admin_log_chains (
    chain uuid PRIMARY KEY,
    xact  xid8 NOT NULL
);
COMMENT ON TABLE clinres.admin_log_chains IS 'the hash chains of admin_logs: each writer''s claim, which serializes the writers of a chain';
SELECT pg_catalog.pg_extension_config_dump('clinres.admin_log_chains', '');

-- @code

CREATE TRIGGER forget_former_member AFTER INSERT ON clinres.user_tenants REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION clinres._forget_former_member();

-- The rows written before the trail are chained now, in id order per chain, from the first row of
-- each (the append-only trigger is off meanwhile: the updater need not be the table's owner).
ALTER TABLE clinres.admin_logs DISABLE TRIGGER append_only;
DO $$
DECLARE
    r record;
    zero constant bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    prev bytea;
    chain uuid;
    h bytea;
BEGIN
    FOR r IN SELECT * FROM clinres.admin_logs l ORDER BY l.tenant_id NULLS FIRST, l.id LOOP
        IF prev IS NULL OR r.tenant_id IS DISTINCT FROM chain THEN
            prev := zero;
        END IF;
        h := pg_catalog.sha256(pg_catalog.convert_to(clinres._admin_log_canonical(
            r.id, r.created_at, r.actor_id, r.tenant_id, r.action, r.target, r.detail, r.change_reason, prev), 'UTF8'));
        UPDATE clinres.admin_logs l SET prev_hash = prev, row_hash = h WHERE l.id OPERATOR(pg_catalog.=) r.id;
        prev := h;
        chain := r.tenant_id;
    END LOOP;
    INSERT INTO clinres.admin_log_chains (chain, xact)
    SELECT DISTINCT coalesce(l.tenant_id, '00000000-0000-0000-0000-000000000000'), pg_catalog.pg_current_xact_id()
      FROM clinres.admin_logs l;
END
$$;
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
CREATE TRIGGER chain BEFORE INSERT ON clinres.admin_logs FOR EACH ROW EXECUTE FUNCTION clinres._admin_log_chain();
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER chain;
ALTER TABLE clinres.admin_logs ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL;
