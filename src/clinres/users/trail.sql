
-- The audit trail (docs/users.md, "The audit trail"; docs/compliance.md): admin_logs rows form one
-- SHA-256 hash chain per tenant and one platform-wide (tenant_id NULL), computed by a BEFORE INSERT
-- trigger in the transaction of the row; each row records the transaction's clinres.change_reason.
ALTER TABLE clinres.admin_logs
    ADD COLUMN change_reason text,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN row_hash bytea;
COMMENT ON COLUMN clinres.admin_logs.prev_hash IS 'row_hash of the previous row of the chain (32 zero bytes for its first row)';
COMMENT ON COLUMN clinres.admin_logs.row_hash IS 'SHA-256 of the canonical form of this row (clinres._admin_log_canonical_of)';
-- The canonical form of a row is versioned: 1 (rows written by 0.3.0) hashes the whole detail;
-- 2 (every row since 0.4.0) hashes the digests of its personal fields, each SHA-256 of the row's
-- salt and the value (clinres._admin_log_digested), so that erase_user can replace them.
ALTER TABLE clinres.admin_logs
    ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 CHECK (hash_version OPERATOR(pg_catalog.=) ANY (ARRAY[1, 2])),
    ADD COLUMN salt bytea,
    ADD COLUMN detail_sha256 bytea;
COMMENT ON COLUMN clinres.admin_logs.hash_version IS 'the version of the canonical form row_hash hashes: 1 (0.3.0), 2 (personal fields as digests)';
COMMENT ON COLUMN clinres.admin_logs.salt IS 'form 2: 16 random bytes hashed before each personal value; NULL once erase_user erased the row';
COMMENT ON COLUMN clinres.admin_logs.detail_sha256 IS 'form 1, erased rows only: SHA-256 of the detail erase_user replaced (what the form hashes instead)';

-- One row per chain (tenant id, or the nil uuid for the platform-wide chain): a writer claims it
-- (row lock until its transaction ends) and reads the chain's head from it, so that writers of one
-- chain take turns and never fork it; under REPEATABLE READ a concurrent claim is 40001. The head
-- (id and row_hash of the chain's last row) is written there once per transaction, before its
-- commit (chain_head.cpp); within the transaction the trigger keeps it in memory.
CREATE TABLE clinres.admin_log_chains (
    chain     uuid PRIMARY KEY,
    xact      xid8 NOT NULL,
    head_id   bigint,
    head_hash bytea
);
COMMENT ON TABLE clinres.admin_log_chains IS 'the hash chains of admin_logs: each writer''s claim, which serializes the writers of a chain, and the chain''s head';
COMMENT ON COLUMN clinres.admin_log_chains.head_id IS 'id of the chain''s last row (NULL before its first)';
COMMENT ON COLUMN clinres.admin_log_chains.head_hash IS 'row_hash of the chain''s last row (NULL before its first)';
SELECT pg_catalog.pg_extension_config_dump('clinres.admin_log_chains', '');

CREATE OR REPLACE FUNCTION clinres._admin_log_digested(detail jsonb, salt bytea) RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_admin_log_digested';
COMMENT ON FUNCTION clinres._admin_log_digested(jsonb, bytea) IS
    'detail with each personal value (keys email, name, phone, identifier) replaced by "sha256:" and the hex SHA-256 of salt and the value (an erased value by the digest it kept)';
CREATE OR REPLACE FUNCTION clinres._admin_log_erased(detail jsonb, salt bytea) RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_admin_log_erased';
COMMENT ON FUNCTION clinres._admin_log_erased(jsonb, bytea) IS
    'detail with each personal value replaced by {"erased": its digest}: what erase_user leaves, which hashes as the values did';
-- The canonical form of a row, what its row_hash is the SHA-256 of (UTF-8), in the version
-- hash_version names (users/canonical.cpp, the one definition, which the chain trigger and
-- verify_admin_logs use too): a JSON array (jsonb's text form) of
-- form 2 (every row since 0.4.0): 2, id, created_at in UTC (ISO 8601, no zone), actor_id,
--   tenant_id, action, target, the SHA-256 in hex of the text of _admin_log_digested(detail, salt)
--   (an empty salt once erased), change_reason and prev_hash in hex; NULL is null;
-- form 1 (rows written by 0.3.0): the same without the leading 2, with the SHA-256 of detail's
--   text, or for a row erase_user erased the detail_sha256 it kept.
CREATE OR REPLACE FUNCTION clinres._admin_log_canonical_of(l clinres.admin_logs) RETURNS text
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'clinres_admin_log_canonical_of';
COMMENT ON FUNCTION clinres._admin_log_canonical_of(clinres.admin_logs) IS
    'the canonical text of an admin_logs row in the form its hash_version names, whose SHA-256 is its row_hash';

CREATE OR REPLACE FUNCTION clinres._change_reason() RETURNS text
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_change_reason';
COMMENT ON FUNCTION clinres._change_reason() IS
    'clinres.change_reason, trimmed (NULL when unset); 22023 when unset and clinres.require_change_reason is on';

-- Chains the new row (users/chain_trigger.cpp): its reason; the chain's head, from this
-- transaction's memory, or else from the chain's row, claimed first; an id above the head (taken
-- again when a writer of the chain committed a higher one while this one waited), form 2, a salt,
-- prev_hash and row_hash; the row is the new head. O(1) per row: no scan of admin_logs, however
-- many rows the statement writes. A row that arrives with its hashes (pg_restore of the table)
-- keeps them; verify_admin_logs judges it. Not SECURITY DEFINER: it claims the chain's row as the
-- table's owner, and names every object with its schema.
CREATE OR REPLACE FUNCTION clinres._admin_log_chain() RETURNS trigger
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'clinres_admin_log_chain';
COMMENT ON FUNCTION clinres._admin_log_chain() IS
    'before an admin_logs row is inserted: records the change reason and links the row into its tenant''s hash chain';

CREATE OR REPLACE FUNCTION clinres._admin_log_walk(tenant_id uuid)
    RETURNS TABLE (tenant_id uuid, rows bigint, last_id bigint, last_hash text, first_bad_id bigint, problem text)
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'clinres_admin_log_walk';
COMMENT ON FUNCTION clinres._admin_log_walk(uuid) IS
    'each chain (one tenant''s when given) in one ordered pass: rows, its last row and hash, the first row whose hash or link fails, and why';

-- Every chain (tenant_id NULL) or one tenant's: each row's hash recomputed (in its form) and its
-- link to the row before it in the chain checked (_admin_log_walk); the chain's last row checked
-- against the head its admin_log_chains row recorded; the first row that fails, and why.
CREATE OR REPLACE FUNCTION clinres.verify_admin_logs(tenant_id uuid DEFAULT NULL)
    RETURNS TABLE (tenant_id uuid, rows bigint, ok boolean, first_bad_id bigint, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    -- Each chain's last row must be the head its chain's row recorded: a deleted tail is found so.
    SELECT g.tenant_id, g.rows, g.problem IS NULL AND hc.problem IS NULL,
           coalesce(g.first_bad_id, hc.bad_id), coalesce(g.problem, hc.problem)
      FROM clinres._admin_log_walk($1) g
      LEFT JOIN clinres.admin_log_chains h ON h.chain = coalesce(g.tenant_id, '00000000-0000-0000-0000-000000000000')
     CROSS JOIN LATERAL (
        SELECT CASE WHEN h.chain IS NULL OR h.head_id IS NULL
                    THEN 'the chain''s head is not recorded: its row in admin_log_chains was deleted or changed'
                    WHEN h.head_id > g.last_id
                    THEN pg_catalog.format('the chain ends at row %s, but its head is row %s: the rows after row %s were deleted',
                                           g.last_id, h.head_id, g.last_id)
                    WHEN h.head_id < g.last_id
                    THEN pg_catalog.format('row %s is after the chain''s head, row %s: it was added without the chain''s trigger',
                                           a.after_head, h.head_id)
                    WHEN pg_catalog.encode(h.head_hash, 'hex') IS DISTINCT FROM g.last_hash
                    THEN pg_catalog.format('row %s is the chain''s head, but its row_hash is not the head''s hash', g.last_id)
               END AS problem,
               CASE WHEN h.chain IS NULL OR h.head_id IS NULL THEN g.last_id
                    WHEN h.head_id > g.last_id THEN h.head_id
                    WHEN h.head_id < g.last_id THEN a.after_head
                    WHEN pg_catalog.encode(h.head_hash, 'hex') IS DISTINCT FROM g.last_hash THEN g.last_id
               END AS bad_id
          FROM (SELECT (SELECT pg_catalog.min(l.id) FROM clinres.admin_logs l
                         WHERE l.tenant_id IS NOT DISTINCT FROM g.tenant_id AND l.id > h.head_id) AS after_head) a) hc
    UNION ALL
    -- A chain that was written to and has no row left.
    SELECT nullif(h.chain, '00000000-0000-0000-0000-000000000000'), 0, false, NULL, 'the chain has no rows left: they were deleted'
      FROM clinres.admin_log_chains h
     WHERE ($1 IS NULL OR h.chain = $1)
       AND NOT EXISTS (SELECT FROM clinres.admin_logs l
                        WHERE l.tenant_id IS NOT DISTINCT FROM nullif(h.chain, '00000000-0000-0000-0000-000000000000'))
     ORDER BY 1 NULLS FIRST
$$;
COMMENT ON FUNCTION clinres.verify_admin_logs(uuid) IS
    'checks the hash chain of one tenant''s admin_logs (every chain when NULL): rows, ok, the first bad row and why';

-- What an operator records outside the database: each chain's last row and its hash.
CREATE OR REPLACE FUNCTION clinres.admin_log_head(tenant_id uuid DEFAULT NULL)
    RETURNS TABLE (tenant_id uuid, last_id bigint, head_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
    SELECT t.tenant_id, h.id, pg_catalog.encode(h.row_hash, 'hex')
      FROM (SELECT nullif(c.chain, '00000000-0000-0000-0000-000000000000') AS tenant_id FROM clinres.admin_log_chains c
             WHERE $1 IS NULL OR c.chain = $1) t
     CROSS JOIN LATERAL (SELECT l.id, l.row_hash FROM clinres.admin_logs l
                          WHERE l.tenant_id = t.tenant_id OR (t.tenant_id IS NULL AND l.tenant_id IS NULL)
                          ORDER BY l.id DESC LIMIT 1) h
     ORDER BY t.tenant_id NULLS FIRST
$$;
COMMENT ON FUNCTION clinres.admin_log_head(uuid) IS
    'the last row of each chain (one tenant''s when given) and its row_hash in hex: what an operator anchors outside the database';

-- What export_admin_logs writes: the rows list_admin_logs would show the context user (the audit
-- decision: a tenant's, or every row for a SUPER_ADMIN when tenant_id is NULL), oldest first, as text.
CREATE OR REPLACE FUNCTION clinres._export_admin_logs(for_tenant uuid)
    RETURNS TABLE (id text, created_at text, actor_id text, actor_email text, tenant_id text, tenant_code text,
                   action text, target text, detail text, change_reason text, prev_hash text, row_hash text,
                   hash_version text, canonical text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._actor();
    tenant uuid := for_tenant;
BEGIN
    IF tenant IS NULL AND NOT clinres._allowed(actor, 'audit', NULL, NULL) THEN
        tenant := clinres.current_tenant_id();
    END IF;
    IF tenant IS NOT NULL THEN
        PERFORM clinres._tenant_code(tenant);
    END IF;
    PERFORM clinres._authorize(actor, 'audit', tenant, NULL);
    RETURN QUERY
        SELECT l.id::text, pg_catalog.to_char(pg_catalog.timezone('UTC', l.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US'),
               l.actor_id::text, a.email, l.tenant_id::text, t.code, l.action, l.target, l.detail::text, l.change_reason,
               pg_catalog.encode(l.prev_hash, 'hex'), pg_catalog.encode(l.row_hash, 'hex'), l.hash_version::text,
               clinres._admin_log_canonical_of(l)
          FROM clinres.admin_logs l
          LEFT JOIN clinres.users a ON a.id = l.actor_id
          LEFT JOIN clinres.tenants t ON t.id = l.tenant_id
         WHERE tenant IS NULL OR l.tenant_id = tenant
         ORDER BY l.tenant_id NULLS FIRST, l.id;
END
$$;
COMMENT ON FUNCTION clinres._export_admin_logs(uuid) IS 'the rows export_admin_logs writes, with their hashes and canonical text';

CREATE OR REPLACE FUNCTION clinres.export_admin_logs(tenant_id uuid DEFAULT NULL, format text DEFAULT 'csv') RETURNS bytea
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
    AS 'MODULE_PATHNAME', 'clinres_export_admin_logs';
COMMENT ON FUNCTION clinres.export_admin_logs(uuid, text) IS
    'the audit trail of a tenant (every chain for a SUPER_ADMIN when NULL) as CSV or .xlsx, with each row''s hashes and canonical text';

-- Right to erasure (API.md section 7; GDPR Art. 17): the user's email, name, phone and password
-- hash replaced in the catalog by a pseudonym (the account is kept, disabled: the trail names its
-- id), and every personal value of the trail's rows about the user (target = the user) by
-- {"erased": its digest}, which hashes as the value did (form 2; a form-1 row keeps its detail's
-- digest in detail_sha256), so that verify_admin_logs stays ok. Works for a deleted user too.
CREATE OR REPLACE FUNCTION clinres.erase_user(user_id uuid) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, clinres, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    actor uuid := clinres._lock_actor(clinres._actor());
    pseudonym text := 'erased-' || pg_catalog.replace(user_id::text, '-', '');
    account boolean;
    erased bigint;
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id must not be NULL' USING ERRCODE = 'invalid_parameter_value',
            SCHEMA = 'clinres', TABLE = 'field', COLUMN = 'user_id';
    END IF;
    PERFORM clinres._authorize(actor, 'erase', NULL, user_id);
    UPDATE clinres.users u
       SET email = pseudonym || '@erased.invalid', name = pseudonym, phone = NULL, password_hash = NULL,
           status = 'disabled', updated_at = pg_catalog.now()
     WHERE u.id = user_id;
    account := FOUND;
    UPDATE clinres.admin_logs l
       SET detail = clinres._admin_log_erased(l.detail, CASE WHEN l.hash_version = 2 THEN coalesce(l.salt, '\x') ELSE '\x' END),
           salt = NULL,
           detail_sha256 = CASE WHEN l.hash_version = 1
                                THEN coalesce(l.detail_sha256, pg_catalog.sha256(pg_catalog.convert_to(l.detail::text, 'UTF8'))) END
     WHERE l.target = user_id::text
       AND clinres._admin_log_erased(l.detail, CASE WHEN l.hash_version = 2 THEN coalesce(l.salt, '\x') ELSE '\x' END) <> l.detail;
    GET DIAGNOSTICS erased = ROW_COUNT;
    IF NOT account AND NOT EXISTS (SELECT FROM clinres.admin_logs l WHERE l.target = user_id::text) THEN
        RAISE EXCEPTION 'user "%" does not exist', user_id USING ERRCODE = 'no_data_found',
            DETAIL = 'No account and no audit row names this id.';
    END IF;
    PERFORM clinres._log(actor, NULL, 'user.erase', user_id,
                         pg_catalog.jsonb_build_object('account', account, 'audit_rows', erased));
    RETURN user_id;
END
$$;
COMMENT ON FUNCTION clinres.erase_user(uuid) IS
    'erases the user''s personal data from the catalog (a pseudonym) and from the trail''s rows about it, which still verify; SUPER_ADMIN only';

REVOKE ALL ON FUNCTION clinres._admin_log_digested(jsonb, bytea), clinres._admin_log_erased(jsonb, bytea),
    clinres._admin_log_canonical_of(clinres.admin_logs), clinres._admin_log_walk(uuid),
    clinres._change_reason(), clinres._admin_log_chain(), clinres.verify_admin_logs(uuid), clinres.admin_log_head(uuid),
    clinres._export_admin_logs(uuid), clinres.export_admin_logs(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION clinres.erase_user(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinres.export_admin_logs(uuid, text), clinres.erase_user(uuid) TO clinres_app;

CREATE TRIGGER chain BEFORE INSERT ON clinres.admin_logs FOR EACH ROW EXECUTE FUNCTION clinres._admin_log_chain();
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER chain;
ALTER TABLE clinres.admin_logs ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL;
