-- The audit trail: admin_logs rows form one SHA-256 chain per tenant and one platform-wide;
-- verify_admin_logs finds a row changed, deleted or reordered by the owner (triggers off) and names
-- the first bad id; admin_log_head is what an operator anchors; each row records the transaction's
-- clinres.change_reason, mandatory (22023, nothing written) with clinres.require_change_reason;
-- export_admin_logs writes the trail with its hashes.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE q INTO r;
    RETURN 'ok ' || coalesce(r, '(null)');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
TRUNCATE clinres.admin_logs, clinres.admin_log_chains;
SET clinres.bcrypt_cost = 4;

-- The settings are the library's; the requirement is a superuser's to set.
SHOW clinres.change_reason;
SHOW clinres.require_change_reason;

-- Mutations in two tenants and platform-wide, with and without a reason.
SELECT clinres.set_context(:alice, :A, false);
BEGIN;
SET LOCAL clinres.change_reason = '  ticket CR-1: new investigator  ';
SELECT clinres.create_user('tr1@hosp-a.example', 'Trail One', 'secret-tr-1', NULL, 'USER', ARRAY['aia']) AS tr1 \gset
COMMIT;
SELECT clinres.update_user(:'tr1', '{"name": "Trail Uno"}') IS NOT NULL;
SELECT clinres.set_context(:erin, NULL, false);
SELECT set_config('clinres.change_reason', 'ticket CR-2', false) IS NOT NULL;
SELECT clinres.assign_tenant(:'tr1', :B, 'USER', ARRAY['aia']) IS NOT NULL;
SELECT clinres.create_user('tr2@hosp-b.example', 'Trail Two', 'secret-tr-2', :B, 'USER') AS tr2 \gset
SELECT clinres.remove_tenant(:'tr2', :B) IS NOT NULL;
RESET clinres.change_reason;
SELECT clinres.set_user_status(:'tr2', 'disabled') IS NOT NULL;
-- A reason is text a reader of the trail trusts: a control or invisible character (a line break
-- that forges a second line, a bidirectional override that reorders what is shown) or more than
-- 1000 characters is 22023 naming it, and the change writes nothing; any script is fine.
SELECT count(*) AS rows_before FROM clinres.admin_logs \gset
BEGIN;
SET LOCAL clinres.change_reason = E'ticket CR-3\nApproved by QA';
SELECT clinres.update_user(:'tr1', '{"name": "Trail Forged"}') IS NOT NULL AS written;
ROLLBACK;
BEGIN;
SET LOCAL clinres.change_reason = E'ticket CR-3: \u202Edevorppa AQ';
SELECT clinres.update_user(:'tr1', '{"name": "Trail Forged"}') IS NOT NULL AS written;
ROLLBACK;
BEGIN;
SELECT set_config('clinres.change_reason', repeat('长', 1001), true) IS NOT NULL;
SELECT clinres.update_user(:'tr1', '{"name": "Trail Forged"}') IS NOT NULL AS written;
ROLLBACK;
BEGIN;
SELECT set_config('clinres.change_reason', '变更单 CR-4：' || repeat('长', 989), true) IS NOT NULL;
SELECT clinres.update_user(:'tr1', '{"name": "Trail Forged"}') IS NOT NULL AS a_long_reason_in_chinese;
ROLLBACK;
SELECT count(*) = :rows_before AS nothing_written FROM clinres.admin_logs;

-- Each row links to the row before it in its chain; the reason is recorded, trimmed.
SELECT t.code AS tenant, l.action, l.change_reason,
       l.prev_hash = coalesce(lag(l.row_hash) OVER w, '\x0000000000000000000000000000000000000000000000000000000000000000') AS linked,
       l.row_hash = sha256(convert_to(clinres._admin_log_canonical_of(l), 'UTF8')) AS hashed, l.hash_version,
       length(l.salt) AS salt_bytes
  FROM clinres.admin_logs l LEFT JOIN clinres.tenants t ON t.id = l.tenant_id
WINDOW w AS (PARTITION BY l.tenant_id ORDER BY l.id) ORDER BY l.tenant_id NULLS FIRST, l.id;
-- The canonical forms, as an inspector recomputes them (the first row of tenant A's chain): form 1
-- (rows written by 0.3.0) hashes the detail's text; form 2 (every row since) the detail with each
-- personal value (email, name, phone, identifier, at any depth) replaced by the SHA-256 of the
-- row's salt and the value.
-- (The texts are those 0.3.0's and 0.4.0's first SQL definitions of the forms gave.)
SELECT regexp_replace(clinres._admin_log_canonical_of(ROW(l.id, '2026-01-02 03:04:05.678+08', l.actor_id, l.tenant_id, l.action,
                      'TARGET', '{"b": 1, "a": "x"}', l.change_reason, l.prev_hash, l.row_hash, 1, NULL, NULL)::clinres.admin_logs),
                      '^\[\d+, ', '[ID, ') AS canonical
  FROM clinres.admin_logs l WHERE l.tenant_id = :A ORDER BY l.id LIMIT 1;
SELECT regexp_replace(clinres._admin_log_canonical_of(ROW(l.id, '2026-01-02 03:04:05.678+08', l.actor_id, l.tenant_id, l.action,
                      'TARGET', '{"b": 1, "a": "x", "email": "x@y.example"}', l.change_reason, l.prev_hash, l.row_hash, 2,
                      '\x00', NULL)::clinres.admin_logs),
                      '^\[2, \d+, ', '[2, ID, ') AS canonical_v2
  FROM clinres.admin_logs l WHERE l.tenant_id = :A ORDER BY l.id LIMIT 1;
SELECT clinres._admin_log_digested('{"email": "x@y.example", "after": {"name": "N", "phone": null, "roles": ["a"]}, "n": [{"identifier": 7}]}', '\x00');
SELECT encode(sha256('\x00'::bytea || convert_to('x@y.example', 'UTF8')), 'hex') AS digest_of_email_by_hand;
-- Arrays at any depth (a detail that is one, arrays in arrays, a personal value that is one) and a
-- bare scalar keep their shape in both forms; a server built with assertions checks how each
-- array is pushed again (only a bare scalar's one-element array is marked raw).
SELECT clinres._admin_log_digested(d, '\x00') AS digested, clinres._admin_log_erased(d, '\x00') AS erased
  FROM (VALUES ('[["a", []], {"email": ["x", 1]}]'::jsonb), ('{"k": [[{"name": "N"}]]}'), ('"bare"'), ('7')) v(d);

SELECT tenant_id IS NULL AS platform, rows, ok, first_bad_id, detail FROM clinres.verify_admin_logs() ORDER BY tenant_id NULLS FIRST;
SELECT rows, ok FROM clinres.verify_admin_logs(:A);
-- The trigger and verify_admin_logs agree on awkward text (quotes, backslash, control
-- characters, non-ASCII), NULLs and timestamps, in form 2 (the trigger) and form 1 (rows as
-- 0.3.0 chained them), in a chain of their own.
INSERT INTO clinres.tenants (id, code, name) VALUES ('c0000000-0000-0000-0000-00000000000c', 'HOSP_C', 'C');
INSERT INTO clinres.admin_logs (created_at, actor_id, tenant_id, action, target, detail, change_reason)
VALUES ('2026-03-04 05:06:07+00', NULL, 'c0000000-0000-0000-0000-00000000000c', E'q"b\\n\nt\tc\x01é✓', NULL,
        '{"name": "Zoë \"Z\"", "k": [1.50, true, null, "\u0007"]}', E'why\r'),
       ('2026-03-04 05:06:07.120001+00', :erin, 'c0000000-0000-0000-0000-00000000000c', 'a', '', '{}', NULL),
       ('infinity', :erin, 'c0000000-0000-0000-0000-00000000000c', 'a', 't', '"scalar"', '');
-- Form 1 rows, as 0.3.0 wrote them (hashes given: the trigger keeps them), after those.
DO $$
DECLARE r clinres.admin_logs; prev bytea;
BEGIN
    SELECT row_hash INTO prev FROM clinres.admin_logs WHERE tenant_id = 'c0000000-0000-0000-0000-00000000000c' ORDER BY id DESC LIMIT 1;
    FOR i IN 1..2 LOOP
        r := NULL;
        r.id := nextval('clinres.admin_logs_id_seq'); r.created_at := '2026-05-06 07:08:09.5+02'; r.tenant_id := 'c0000000-0000-0000-0000-00000000000c';
        r.action := E'old "1"\\' || i; r.target := NULL; r.detail := '{"email": "old@x.example", "t": "\t"}'; r.hash_version := 1;
        r.prev_hash := prev;
        r.row_hash := sha256(convert_to(clinres._admin_log_canonical_of(r), 'UTF8'));
        INSERT INTO clinres.admin_logs OVERRIDING SYSTEM VALUE SELECT r.*;
        prev := r.row_hash;
    END LOOP;
    UPDATE clinres.admin_log_chains SET head_id = currval('clinres.admin_logs_id_seq'), head_hash = prev
     WHERE chain = 'c0000000-0000-0000-0000-00000000000c';
END $$;
SELECT hash_version, count(*) FROM clinres.admin_logs WHERE tenant_id = 'c0000000-0000-0000-0000-00000000000c' GROUP BY 1 ORDER BY 1;
SELECT rows, ok, first_bad_id, detail FROM clinres.verify_admin_logs('c0000000-0000-0000-0000-00000000000c');
ALTER TABLE clinres.admin_logs DISABLE TRIGGER append_only;
DELETE FROM clinres.admin_logs WHERE tenant_id = 'c0000000-0000-0000-0000-00000000000c';
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
DELETE FROM clinres.admin_log_chains WHERE chain = 'c0000000-0000-0000-0000-00000000000c';
DELETE FROM clinres.tenants WHERE id = 'c0000000-0000-0000-0000-00000000000c';
-- The heads are the last row of each chain and its hash in hex.
SELECT h.tenant_id IS NULL AS platform, h.last_id = (SELECT max(id) FROM clinres.admin_logs l WHERE l.tenant_id IS NOT DISTINCT FROM h.tenant_id) AS last,
       h.head_hash = encode((SELECT row_hash FROM clinres.admin_logs WHERE id = h.last_id), 'hex') AS hash,
       h.head_hash ~ '^[0-9a-f]{64}$' AS hex
  FROM clinres.admin_log_head() h ORDER BY h.tenant_id NULLS FIRST;
SELECT count(*) FROM clinres.admin_log_head(:B);
-- Each chain's row in admin_log_chains holds its head (written before the commit).
SELECT c.chain = '00000000-0000-0000-0000-000000000000' AS platform, c.head_id = h.last_id AS head_id,
       encode(c.head_hash, 'hex') = h.head_hash AS head_hash
  FROM clinres.admin_log_chains c JOIN clinres.admin_log_head() h ON c.chain = coalesce(h.tenant_id, '00000000-0000-0000-0000-000000000000')
 ORDER BY 1 DESC, c.chain;

-- The trigger takes a chain's head from admin_log_chains and then from memory, never by searching
-- admin_logs: a statement of 2,000 rows, in 3 chains, scans admin_logs not once (so it costs O(1)
-- per row, however large the table or stale its statistics), and the chains stay whole. It locks
-- the chains' rows and writes none of them before the commit (then one new version each).
CREATE VIEW pg_temp.scans AS
SELECT (SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relid = 'clinres.admin_logs'::regclass) AS logs_scans,
       (SELECT n_tup_upd + n_tup_ins FROM pg_stat_xact_user_tables WHERE relid = 'clinres.admin_log_chains'::regclass) AS chain_writes;
BEGIN;
SELECT logs_scans AS scans_before, chain_writes AS writes_before FROM pg_temp.scans \gset
INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
SELECT :erin, (ARRAY[:A, :B, NULL]::uuid[])[i % 3 + 1], 'test.bulk', 'row ' || i, '{}' FROM generate_series(1, 2000) i;
SELECT logs_scans - :scans_before AS admin_logs_scans, chain_writes - :writes_before AS chain_row_writes FROM pg_temp.scans;
-- A savepoint rolled back takes its rows' heads with it; the rows after it link to the row before.
SAVEPOINT s;
INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail) VALUES (:erin, :A, 'test.undone', 'x', '{}');
ROLLBACK TO SAVEPOINT s;
INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail) VALUES (:erin, :A, 'test.after', 'x', '{}');
SAVEPOINT t;
INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail) VALUES (:erin, :A, 'test.kept', 'x', '{}');
RELEASE SAVEPOINT t;
COMMIT;
SELECT tenant_id IS NULL AS platform, rows, ok, first_bad_id, detail FROM clinres.verify_admin_logs() ORDER BY tenant_id NULLS FIRST;
SELECT bool_and(c.head_id = h.last_id AND encode(c.head_hash, 'hex') = h.head_hash) AS heads_written
  FROM clinres.admin_log_chains c JOIN clinres.admin_log_head() h ON c.chain = coalesce(h.tenant_id, '00000000-0000-0000-0000-000000000000');

-- Required reason: a mutation without one is 22023 and writes nothing; with one it goes through.
SET clinres.require_change_reason = on;
SELECT clinres.set_context(:alice, :A, false);
SELECT count(*) AS logs_before FROM clinres.admin_logs \gset
SELECT pg_temp.try($$SELECT clinres.set_user_modules('$$ || :'tr1' || $$', 'a0000000-0000-0000-0000-00000000000a', '{asl}')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('tr3@hosp-a.example', 'Trail Three', 'secret-tr-3')$$);
BEGIN;
SET LOCAL clinres.change_reason = '   ';
SELECT pg_temp.try($$SELECT clinres.set_user_modules('$$ || :'tr1' || $$', 'a0000000-0000-0000-0000-00000000000a', '{asl}')$$);
COMMIT;
SELECT count(*) = :logs_before AS nothing_logged, clinres._module_config(:'tr1', :A) AS modules,
       NOT EXISTS (SELECT FROM clinres.users WHERE email = 'tr3@hosp-a.example') AS nobody_created
  FROM clinres.admin_logs;
BEGIN;
SET LOCAL clinres.change_reason = 'ticket CR-3';
SELECT clinres.set_user_modules(:'tr1', :A, ARRAY['asl']) IS NOT NULL;
COMMIT;
SELECT action, change_reason FROM clinres.admin_logs ORDER BY id DESC LIMIT 1;
RESET clinres.require_change_reason;
-- Rows of the autonomous worker (login outcomes, surviving the caller's rollback) need no reason,
-- even where one is required in every session (the worker reads the database's settings).
SELECT current_database() AS db \gset
ALTER DATABASE :"db" SET clinres.require_change_reason = on;
SELECT count(*) AS failed_before FROM clinres.admin_logs WHERE action = 'login_failed' \gset
SELECT pg_temp.try($$SELECT clinres.login('tr1@hosp-a.example', 'not the password') IS NULL$$) AS login_answers;
SELECT count(*) - :failed_before AS login_failed_rows, bool_and(change_reason IS NULL) AS without_reason
  FROM clinres.admin_logs WHERE action = 'login_failed';
ALTER DATABASE :"db" RESET clinres.require_change_reason;
-- Only a superuser sets the requirement.
CREATE ROLE clinres_regress_trail;
SET ROLE clinres_regress_trail;
SELECT pg_temp.try($$SELECT set_config('clinres.require_change_reason', 'off', false)$$);
SELECT pg_temp.try($$SELECT * FROM clinres.verify_admin_logs()$$);
SELECT pg_temp.try($$SELECT * FROM clinres.admin_log_head()$$);
RESET ROLE;
DROP ROLE clinres_regress_trail;

-- Export: the rows the context user may audit, with hashes and the canonical text whose SHA-256 is row_hash.
SELECT clinres.set_context(:alice, :A, false);
-- The byte-order mark shown by name: psql 16 and later give it no display width, 15 one column.
SELECT replace(split_part(convert_from(clinres.export_admin_logs(), 'UTF8'), E'\r\n', 1), E'\uFEFF', '<BOM>') AS header;
SELECT count(*) - 2 AS rows_of_a FROM regexp_split_to_table(convert_from(clinres.export_admin_logs(), 'UTF8'), E'\r\n');
SELECT count(*) AS tenant_a_rows FROM clinres.admin_logs WHERE tenant_id = :A;
SELECT bool_and(e.row_hash = encode(sha256(convert_to(e.canonical, 'UTF8')), 'hex')) AS canonical_hashes_to_row_hash, count(*)
  FROM clinres._export_admin_logs(NULL) e;
SELECT pg_temp.try($$SELECT length(clinres.export_admin_logs(NULL, 'pdf'))$$);
SELECT pg_temp.try($$SELECT length(clinres.export_admin_logs('b0000000-0000-0000-0000-00000000000b'))$$);
SELECT substr(clinres.export_admin_logs(NULL, 'xlsx'), 1, 2) = '\x504b' AS xlsx_is_a_zip;
SELECT clinres.set_context(:erin, NULL, false);
SELECT count(*) - 2 = (SELECT count(*) FROM clinres.admin_logs) AS every_row
  FROM regexp_split_to_table(convert_from(clinres.export_admin_logs(), 'UTF8'), E'\r\n');

-- Tampering by the owner with the append-only trigger off: each is found, with the first bad id.
SELECT min(id) AS a1, min(id) + 0 AS a1b FROM clinres.admin_logs WHERE tenant_id = :A \gset
SELECT array_agg(id ORDER BY id) AS aids FROM clinres.admin_logs WHERE tenant_id = :A \gset
SELECT (:'aids'::bigint[])[2] AS a2, (:'aids'::bigint[])[3] AS a3 \gset
CREATE TABLE pg_temp.saved AS SELECT * FROM clinres.admin_logs;
ALTER TABLE clinres.admin_logs DISABLE TRIGGER append_only;
-- A changed row.
UPDATE clinres.admin_logs SET detail = detail || '{"name": "Mallory"}' WHERE id = :a2;
SELECT first_bad_id = :a2 AS first_bad_is_changed, ok, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM clinres.verify_admin_logs(:A);
-- Changed and its hash recomputed: the next row no longer follows it.
UPDATE clinres.admin_logs l SET row_hash = sha256(convert_to(clinres._admin_log_canonical_of(l), 'UTF8')) WHERE id = :a2;
SELECT first_bad_id = :a3 AS first_bad_is_next, ok, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM clinres.verify_admin_logs(:A);
UPDATE clinres.admin_logs l SET detail = s.detail, row_hash = s.row_hash FROM pg_temp.saved s WHERE s.id = l.id AND l.id = :a2;
SELECT ok AS restored FROM clinres.verify_admin_logs(:A);
-- A row of form 2 changed, with a detail_sha256 written into it that is the digest of its former
-- detail (what an erased row of form 1 hashes instead of its detail): form 2 never hashes one, so
-- the change is found.
UPDATE clinres.admin_logs SET detail = detail || '{"name": "Mallory"}',
       detail_sha256 = sha256(convert_to(clinres._admin_log_digested(detail, salt)::text, 'UTF8'))
 WHERE id = :a2;
SELECT first_bad_id = :a2 AS first_bad_is_changed_form_2, ok, regexp_replace(detail, '\d+', 'N', 'g') AS detail
  FROM clinres.verify_admin_logs(:A);
UPDATE clinres.admin_logs l SET detail = s.detail, detail_sha256 = NULL FROM pg_temp.saved s WHERE s.id = l.id AND l.id = :a2;
SELECT ok AS restored FROM clinres.verify_admin_logs(:A);
-- A deleted row: the next one is reported; the first row deleted: the new first one.
DELETE FROM clinres.admin_logs WHERE id = :a2;
SELECT first_bad_id = :a3 AS first_bad_after_deleted, ok, rows, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM clinres.verify_admin_logs(:A);
DELETE FROM clinres.admin_logs WHERE id = :a1;
SELECT first_bad_id = :a3 AS first_bad_after_first_deleted, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM clinres.verify_admin_logs(:A);
INSERT INTO clinres.admin_logs OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.saved s WHERE s.id IN (:a1, :a2);
SELECT ok AS restored FROM clinres.verify_admin_logs(:A);
-- The last row deleted (nothing follows it to break): the chain's head names it.
SELECT max(id) AS alast FROM clinres.admin_logs WHERE tenant_id = :A \gset
DELETE FROM clinres.admin_logs WHERE id = :alast;
SELECT first_bad_id = :alast AS first_bad_is_deleted_last, ok, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM clinres.verify_admin_logs(:A);
-- A row appended with the chain's trigger off (hashes forged to link): found after the head.
INSERT INTO clinres.admin_logs OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.saved s WHERE s.id = :alast;
ALTER TABLE clinres.admin_logs DISABLE TRIGGER chain;
INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail, prev_hash, row_hash)
SELECT :erin, :A, 'forged', 'x', '{}', row_hash, row_hash FROM clinres.admin_logs WHERE id = :alast RETURNING id AS forged \gset
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER chain;
SELECT first_bad_id = :forged AS first_bad_is_forged, ok FROM clinres.verify_admin_logs(:A);
DELETE FROM clinres.admin_logs WHERE id = :forged;
SELECT ok AS restored FROM clinres.verify_admin_logs(:A);
-- Two rows swapped (each takes the other's place, hashes and all).
UPDATE clinres.admin_logs l SET actor_id = s.actor_id, action = s.action, target = s.target, detail = s.detail,
       change_reason = s.change_reason, created_at = s.created_at, prev_hash = s.prev_hash, row_hash = s.row_hash
  FROM pg_temp.saved s WHERE (l.id, s.id) IN ((:a2, :a3), (:a3, :a2));
SELECT first_bad_id = :a2 AS first_bad_is_swapped, ok FROM clinres.verify_admin_logs(:A);
UPDATE clinres.admin_logs l SET actor_id = s.actor_id, action = s.action, target = s.target, detail = s.detail,
       change_reason = s.change_reason, created_at = s.created_at, prev_hash = s.prev_hash, row_hash = s.row_hash
  FROM pg_temp.saved s WHERE s.id = l.id;
-- A row moved to another tenant breaks both chains.
UPDATE clinres.admin_logs SET tenant_id = :B WHERE id = :a2;
SELECT tenant_id = :A AS a, ok, first_bad_id = :a2 OR first_bad_id = :a3 AS names_moved_or_next FROM clinres.verify_admin_logs() WHERE tenant_id IN (:A, :B) ORDER BY 1;
UPDATE clinres.admin_logs SET tenant_id = :A WHERE id = :a2;
-- Every row of a chain deleted: the chain is reported empty.
DELETE FROM clinres.admin_logs WHERE tenant_id = :B;
SELECT rows, ok, detail FROM clinres.verify_admin_logs(:B);
INSERT INTO clinres.admin_logs OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.saved s WHERE s.tenant_id = :B;
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
SELECT bool_and(ok) AS all_ok_again, sum(rows) = (SELECT count(*) FROM pg_temp.saved) AS every_row FROM clinres.verify_admin_logs();
-- A rebuilt chain: its rows verify, the head its chain's row recorded does not.
SELECT head_hash AS anchored, last_id AS anchored_id FROM clinres.admin_log_head(:A) \gset
ALTER TABLE clinres.admin_logs DISABLE TRIGGER append_only;
UPDATE clinres.admin_logs SET detail = '{"rewritten": true}' WHERE id = :a1;
DO $$
DECLARE r clinres.admin_logs; prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'; h bytea;
BEGIN
    FOR r IN SELECT * FROM clinres.admin_logs WHERE tenant_id = 'a0000000-0000-0000-0000-00000000000a' ORDER BY id LOOP
        r.prev_hash := prev;
        h := sha256(convert_to(clinres._admin_log_canonical_of(r), 'UTF8'));
        UPDATE clinres.admin_logs SET prev_hash = prev, row_hash = h WHERE id = r.id;
        prev := h;
    END LOOP;
END $$;
SELECT ok, regexp_replace(detail, '\d+', 'N', 'g') AS detail FROM clinres.verify_admin_logs(:A);
-- ... and the head in admin_log_chains rewritten too: the chain verifies; only the anchored head tells.
UPDATE clinres.admin_log_chains c SET head_hash = l.row_hash FROM clinres.admin_logs l WHERE c.chain = :A AND l.id = c.head_id;
SELECT ok AS rebuilt_chain_verifies FROM clinres.verify_admin_logs(:A);
SELECT encode(row_hash, 'hex') = :'anchored' AS anchor_still_matches FROM clinres.admin_logs WHERE id = :anchored_id;
UPDATE clinres.admin_logs l SET detail = s.detail, prev_hash = s.prev_hash, row_hash = s.row_hash FROM pg_temp.saved s WHERE s.id = l.id;
UPDATE clinres.admin_log_chains c SET head_hash = l.row_hash FROM clinres.admin_logs l WHERE c.chain = :A AND l.id = c.head_id;
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
SELECT bool_and(ok) AS all_ok FROM clinres.verify_admin_logs();

-- Under REPEATABLE READ a writer cannot fork a chain either: the new row links to the head it sees.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT clinres.set_context(:alice, :A, false);
SELECT clinres.set_user_modules(:'tr1', :A, NULL) IS NOT NULL;
COMMIT;
SELECT bool_and(ok) AS all_ok FROM clinres.verify_admin_logs();

-- Erasure (erase_user, SUPER_ADMIN only): the user's personal data leaves the catalog (a
-- pseudonym) and the trail's rows about it ({"erased": digest}), and every chain still verifies.
SELECT clinres.set_context(:erin, NULL, false);
SELECT clinres.create_user('er1@hosp-a.example', 'Erasable One', 'secret-er-1', :A, 'USER') AS er1 \gset
SELECT clinres.update_user(:'er1', '{"name": "Erasable Uno", "phone": "+41 44 000 00 01"}') IS NOT NULL;
SELECT clinres.assign_tenant(:'er1', :B, 'USER') IS NOT NULL;
-- A row about er1 as 0.3.0 wrote it (form 1), at the head of the platform chain.
DO $$
DECLARE r clinres.admin_logs; c clinres.admin_log_chains;
BEGIN
    SELECT * INTO c FROM clinres.admin_log_chains WHERE chain = '00000000-0000-0000-0000-000000000000';
    r.id := nextval('clinres.admin_logs_id_seq'); r.created_at := now(); r.action := 'user.update';
    r.target := (SELECT id::text FROM clinres.users WHERE email = 'er1@hosp-a.example');
    r.detail := '{"before": {"email": "er1@hosp-a.example", "name": "Erasable One"}, "after": {"status": "active"}}';
    r.hash_version := 1; r.prev_hash := c.head_hash;
    r.row_hash := sha256(convert_to(clinres._admin_log_canonical_of(r), 'UTF8'));
    INSERT INTO clinres.admin_logs OVERRIDING SYSTEM VALUE SELECT r.*;
    UPDATE clinres.admin_log_chains SET head_id = r.id, head_hash = r.row_hash WHERE chain = c.chain;
END $$;
SELECT hash_version, count(*) AS rows_about_er1,
       count(*) FILTER (WHERE detail::text ~ 'er1@hosp-a|Erasable|\+41 44') AS with_personal_data
  FROM clinres.admin_logs WHERE target = :'er1' GROUP BY 1 ORDER BY 1;
SELECT bool_and(ok) AS all_ok_before FROM clinres.verify_admin_logs();
-- Who may: a SUPER_ADMIN only, and not on themselves.
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.try($$SELECT clinres.erase_user('$$ || :'er1' || $$')$$);
SELECT clinres.set_context(:erin, NULL, false);
SELECT pg_temp.try($$SELECT clinres.erase_user('00000000-0000-0000-0000-0000000000e0')$$);
SELECT pg_temp.try($$SELECT clinres.erase_user('00000000-0000-0000-0000-00000000dead')$$);
SELECT pg_temp.try($$SELECT clinres.erase_user(NULL)$$);
BEGIN;
SET LOCAL clinres.change_reason = 'GDPR request 17';
SELECT clinres.erase_user(:'er1') = :'er1' AS erased;
COMMIT;
SELECT replace(email, replace(:'er1', '-', ''), 'ID') AS email, replace(name, replace(:'er1', '-', ''), 'ID') AS name,
       phone, password_hash, status
  FROM clinres.users WHERE id = :'er1';
SELECT hash_version, count(*) AS rows_about_er1,
       count(*) FILTER (WHERE detail::text ~ 'er1@hosp-a|Erasable|\+41 44') AS with_personal_data,
       count(*) FILTER (WHERE salt IS NOT NULL) AS with_salt, count(*) FILTER (WHERE detail_sha256 IS NOT NULL) AS with_kept_digest
  FROM clinres.admin_logs WHERE target = :'er1' AND action <> 'user.erase' GROUP BY 1 ORDER BY 1;
-- What an erased row keeps: every other field, and the digests in place of the values.
SELECT regexp_replace(detail::text, '[0-9a-f]{64}', 'DIGEST', 'g') AS detail
  FROM clinres.admin_logs WHERE target = :'er1' AND action = 'user.update' ORDER BY id;
SELECT action, tenant_id IS NULL AS platform, detail, change_reason FROM clinres.admin_logs WHERE action = 'user.erase';
SELECT tenant_id IS NULL AS platform, ok, first_bad_id, detail FROM clinres.verify_admin_logs() ORDER BY tenant_id NULLS FIRST;
-- Erasing again finds nothing left to erase; a deleted user's rows are erased too.
SELECT clinres.erase_user(:'er1') IS NOT NULL;
SELECT detail FROM clinres.admin_logs ORDER BY id DESC LIMIT 1;
SELECT clinres.create_user('er2@hosp-a.example', 'Erasable Two', NULL, :A, 'USER') AS er2 \gset
SELECT clinres.delete_user(:'er2', everywhere => true) IS NOT NULL;
SELECT count(*) FILTER (WHERE detail::text ~ 'er2@hosp-a|Erasable Two') AS rows_with_personal_data FROM clinres.admin_logs WHERE target = :'er2';
SELECT clinres.erase_user(:'er2') IS NOT NULL;
SELECT detail FROM clinres.admin_logs ORDER BY id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE detail::text ~ 'er2@hosp-a|Erasable Two') AS rows_with_personal_data FROM clinres.admin_logs WHERE target = :'er2';
SELECT bool_and(ok) AS all_ok_after_erasure FROM clinres.verify_admin_logs();
-- An erased value changed by the owner is found like any other change.
ALTER TABLE clinres.admin_logs DISABLE TRIGGER append_only;
SELECT min(id) AS er1_first FROM clinres.admin_logs WHERE target = :'er1' AND hash_version = 2 \gset
SELECT detail AS er1_first_detail FROM clinres.admin_logs WHERE id = :er1_first \gset
UPDATE clinres.admin_logs SET detail = jsonb_set(detail, '{email}', '{"erased": "0000000000000000000000000000000000000000000000000000000000000000"}')
 WHERE id = :er1_first;
SELECT first_bad_id = :er1_first AS first_bad_is_forged_erasure, ok FROM clinres.verify_admin_logs(:A);
UPDATE clinres.admin_logs SET detail = :'er1_first_detail' WHERE id = :er1_first;
ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only;
SELECT bool_and(ok) AS all_ok FROM clinres.verify_admin_logs();
