-- The per-session access cache: hits avoid the catalog, and any change is seen at
-- the next statement (rollback never), by the same session included.
\pset null '(null)'
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
CREATE TEMP TABLE calls AS SELECT :alice::uuid AS user_id, :A::uuid AS tenant_id FROM generate_series(1, 1000);
CREATE TEMP TABLE s0 AS SELECT * FROM clinres.access_cache_stats();
SELECT count(*) FROM calls WHERE clinres.has_module(user_id, tenant_id, 'aia');
SELECT count(*) FROM calls WHERE clinres.has_module(user_id, tenant_id, 'aia');
-- 2000 calls, at most two reads of the catalog (the user and the tenant).
SELECT s.hits - s0.hits >= 1998 AS mostly_hits, s.misses - s0.misses <= 2 AS two_misses, s.entries >= 1 AS cached,
       s.bytes > 0 AS sized, s.capacity
  FROM clinres.access_cache_stats() s, s0;

-- Own changes: seen at the next statement, undone by ROLLBACK.
BEGIN;
UPDATE clinres.users SET status = 'disabled' WHERE id = :alice;
SELECT clinres.has_module(:alice, :A, 'aia') AS in_txn;
ROLLBACK;
SELECT clinres.has_module(:alice, :A, 'aia') AS after_rollback;
BEGIN;
SAVEPOINT s;
DELETE FROM clinres.user_tenants WHERE user_id = :alice;
SELECT clinres.has_module(:alice, :A, 'aia') AS in_savepoint;
ROLLBACK TO SAVEPOINT s;
SELECT clinres.has_module(:alice, :A, 'aia') AS after_savepoint_rollback;
COMMIT;
-- TRUNCATE and COPY are seen too.
SELECT clinres.has_module(:bob, :A, 'asl') AS bob_asl_before;
TRUNCATE clinres.user_modules;
SELECT clinres.has_module(:bob, :A, 'asl') AS bob_asl_after_truncate;
COPY clinres.user_modules (tenant_id, user_id, module_code, is_enabled) FROM stdin;
a0000000-0000-0000-0000-00000000000a	00000000-0000-0000-0000-0000000000b0	aia	t
\.
SELECT clinres.has_module(:bob, :A, 'asl') AS bob_asl_after_copy, clinres.has_module(:bob, :A, 'aia') AS bob_aia;
-- Changes under session_replication_role = replica (pg_restore, replication) too.
SET session_replication_role = replica;
UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = :bob;
RESET session_replication_role;
SELECT clinres.has_module(:bob, :A, 'aia') AS bob_aia_after_replica_update;

-- A subscription that lapses is honoured without any write.
UPDATE clinres.tenant_modules SET expires_at = clock_timestamp() + interval '2 seconds'
 WHERE tenant_id = :A AND module_code = 'dc';
SELECT clinres.has_module(:alice, :A, 'dc') AS before_expiry;
CREATE TEMP TABLE s1 AS SELECT * FROM clinres.access_cache_stats();
SELECT pg_sleep(2.3);
SELECT clinres.has_module(:alice, :A, 'dc') AS after_expiry;
SELECT s.invalidations = s1.invalidations AS no_invalidation, s.misses = s1.misses AS no_miss
  FROM clinres.access_cache_stats() s, s1;

-- A full cache replaces entries and keeps answering correctly (1 kB: about one user, one tenant).
SET clinres.access_cache_memory = 1;
SELECT u.name, t.code, string_agg(m.code, ',' ORDER BY m.code) FILTER (WHERE clinres.has_module(u.id, t.id, m.code))
  FROM clinres.users u, clinres.tenants t, (VALUES ('aia'), ('asl')) m(code)
 WHERE t.code IN ('HOSP_A', 'HOSP_B')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT entries <= 4 AS bounded, evictions > 0 AS evicted, capacity FROM clinres.access_cache_stats();
RESET clinres.access_cache_memory;
-- (the SQLSTATE only: the message's range reads '1 kB .. 2147483647 kB' from PostgreSQL 18 on)
\set VERBOSITY sqlstate
SET clinres.access_cache_memory = 0;
\set VERBOSITY default

-- DROP EXTENSION and CREATE EXTENSION in a live session.
SELECT clinres.has_module(:alice, :A, 'aia') AS before_drop;
DROP EXTENSION clinres;
CREATE EXTENSION clinres;
SELECT clinres.has_module(:alice, :A, 'aia') AS after_recreate;
\i test/fixtures/sample.sql
SELECT clinres.has_module(:alice, :A, 'aia') AS after_reload;

-- The invalidation trigger function fires only on clinres's catalog tables: on any
-- other table it would let whoever writes there empty every session's cache.
CREATE TEMP TABLE flood (x int);
CREATE TRIGGER flood AFTER INSERT ON flood FOR EACH STATEMENT EXECUTE FUNCTION clinres.access_cache_invalidate();
\set VERBOSITY sqlstate
INSERT INTO flood VALUES (1);
\set VERBOSITY default
CREATE TABLE public.flood (x int);
CREATE TRIGGER flood AFTER TRUNCATE ON public.flood FOR EACH STATEMENT EXECUTE FUNCTION clinres.access_cache_invalidate();
TRUNCATE public.flood;
DROP TABLE public.flood;

-- DISABLE TRIGGER ALL then ENABLE TRIGGER ALL (pg_restore --disable-triggers) would
-- leave the triggers firing on origin only; they are put back to ALWAYS, so a change
-- under session_replication_role = replica is still seen.
SELECT clinres.has_module(:bob, :A, 'aia') AS bob_aia_before;
ALTER TABLE clinres.user_modules DISABLE TRIGGER ALL;
ALTER TABLE clinres.user_modules ENABLE TRIGGER ALL;
ALTER TABLE clinres.users DISABLE TRIGGER access_cache_invalidate, ENABLE TRIGGER access_cache_invalidate;
SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgfoid = 'clinres.access_cache_invalidate()'::regprocedure AND c.relname IN ('user_modules', 'users')
 ORDER BY 1, 2;
SET session_replication_role = replica;
UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = :bob AND module_code = 'aia';
RESET session_replication_role;
SELECT clinres.has_module(:bob, :A, 'aia') AS bob_aia_after_replica_update;
-- A trigger disabled on purpose stays disabled.
ALTER TABLE clinres.tenants DISABLE TRIGGER access_cache_invalidate;
SELECT t.tgenabled FROM pg_trigger t WHERE t.tgname = 'access_cache_invalidate' AND t.tgrelid = 'clinres.tenants'::regclass;
ALTER TABLE clinres.tenants ENABLE ALWAYS TRIGGER access_cache_invalidate;

-- A cold scan over many users reads them in bulk (all users in one query when they
-- fill at most half the cache, else a tenant's members), not one query per user (the
-- session is new after \c).
INSERT INTO clinres.users (id, email, name) SELECT md5('bulk' || n)::uuid, 'bulk' || n || '@x.example', 'Bulk'
  FROM generate_series(1, 200) n;
INSERT INTO clinres.user_tenants (tenant_id, user_id) SELECT :A, md5('bulk' || n)::uuid FROM generate_series(1, 200) n;
UPDATE clinres.users SET status = 'disabled' WHERE email = 'bulk7@x.example';
\c
SELECT count(*) FILTER (WHERE clinres.has_module(u.id, :A, 'aia')) AS allowed, count(*) AS users
  FROM clinres.users u WHERE u.email LIKE 'bulk%';
SELECT misses <= 12 AS few_reads, entries >= 201 AS all_cached FROM clinres.access_cache_stats();
DELETE FROM clinres.users WHERE email LIKE 'bulk%';
