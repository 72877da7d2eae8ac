-- Differential test: the C++ access functions against the plain-SQL oracle
-- (test/oracle.sql) on a randomized catalog, across many random mutations made
-- by this session (seen uncommitted) and by another session (through dblink).
-- Every round compares all (user, tenant, module) triples, twice, and explain_access's answer
-- and reason for each with has_module's and the oracle's.
\set SHOW_CONTEXT never
\i test/oracle.sql
SET client_min_messages = warning;  -- quiet whether or not another test made it
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT setseed(0.2026);
DELETE FROM clinres.users;
DELETE FROM clinres.tenants WHERE code <> 'PUBLIC';
INSERT INTO clinres.tenants (id, code, name)
SELECT md5('dt' || n)::uuid, 'DT' || n, 'tenant ' || n FROM generate_series(1, 12) n;
INSERT INTO clinres.users (id, email, name)
SELECT md5('du' || n)::uuid, 'du' || n || '@diff.example', 'user ' || n FROM generate_series(1, 60) n;

-- Applies n random changes to the catalog, each a plain SQL statement.
CREATE FUNCTION public.diff_mutate(n int, seed float8) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    u uuid; t uuid; m text; r float8;
BEGIN
    PERFORM setseed(seed);
    FOR i IN 1 .. n LOOP
        SELECT id INTO u FROM clinres.users ORDER BY random() LIMIT 1;
        SELECT id INTO t FROM clinres.tenants WHERE code <> 'PUBLIC' ORDER BY random() LIMIT 1;
        SELECT code INTO m FROM clinres.modules ORDER BY random() LIMIT 1;
        r := random();
        IF r < 0.05 THEN
            UPDATE clinres.users SET status = CASE status WHEN 'active' THEN 'disabled' ELSE 'active' END WHERE id = u;
        ELSIF r < 0.08 THEN
            UPDATE clinres.tenants SET status = CASE status WHEN 'active' THEN 'disabled' ELSE 'active' END WHERE id = t;
        ELSIF r < 0.10 THEN
            UPDATE clinres.users SET platform_role = CASE WHEN platform_role IS NULL THEN 'SUPER_ADMIN' END WHERE id = u;
        ELSIF r < 0.11 THEN
            UPDATE clinres.modules SET is_active = NOT is_active WHERE code = m;
        ELSIF r < 0.30 THEN
            INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
            VALUES (t, u, CASE WHEN random() < 0.3 THEN 'TENANT_ADMIN' ELSE 'USER' END)
            ON CONFLICT (tenant_id, user_id) DO UPDATE
               SET status = CASE user_tenants.status WHEN 'active' THEN 'disabled' ELSE 'active' END;
        ELSIF r < 0.32 THEN
            -- A validity (0.4.0) that started or starts, ends or ended, or none.
            UPDATE clinres.user_tenants SET valid_from = v.f, valid_until = coalesce(v.f, now() - interval '5 days') + v.d
              FROM (SELECT CASE WHEN random() < 0.7 THEN now() + (random() - 0.6) * interval '10 days' END AS f,
                           CASE WHEN random() < 0.7 THEN random() * interval '10 days' + interval '1 s' END AS d) v
             WHERE tenant_id = t AND user_id = u;
        ELSIF r < 0.35 THEN
            DELETE FROM clinres.user_tenants WHERE tenant_id = t AND user_id = u;
        ELSIF r < 0.55 THEN
            INSERT INTO clinres.tenant_modules (tenant_id, module_code, is_enabled, expires_at)
            VALUES (t, m, random() < 0.8, CASE WHEN random() < 0.2 THEN now() + (random() - 0.5) * interval '10 days' END)
            ON CONFLICT (tenant_id, module_code) DO UPDATE
               SET is_enabled = random() < 0.7,
                   expires_at = CASE WHEN random() < 0.3 THEN now() + (random() - 0.5) * interval '10 days' END;
        ELSIF r < 0.60 THEN
            DELETE FROM clinres.tenant_modules WHERE tenant_id = t AND module_code = m;
        ELSIF r < 0.85 THEN
            INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled, valid_from, valid_until)
            SELECT t, u, m, random() < 0.6, v.f, coalesce(v.f, now() - interval '5 days') + v.d
              FROM (SELECT CASE WHEN random() < 0.2 THEN now() + (random() - 0.6) * interval '10 days' END AS f,
                           CASE WHEN random() < 0.2 THEN random() * interval '10 days' + interval '1 s' END AS d) v
            ON CONFLICT (tenant_id, user_id, module_code) DO UPDATE SET is_enabled = NOT user_modules.is_enabled;
        ELSIF r < 0.95 THEN
            DELETE FROM clinres.user_modules WHERE tenant_id = t AND user_id = u;
        ELSE
            UPDATE clinres.role_permissions SET role_code = CASE role_code WHEN 'TENANT_ADMIN' THEN 'USER' ELSE 'TENANT_ADMIN' END
             WHERE permission_code = (SELECT code FROM clinres.permissions ORDER BY random() LIMIT 1)
               AND role_code <> 'SUPER_ADMIN';
        END IF;
    END LOOP;
END $$;
SELECT public.diff_mutate(400, 0.1);

-- Counts triples where the C++ functions and the oracle disagree, and logs them.
CREATE TABLE public.diff_log (round int, phase text, triples bigint, allowed bigint, mismatches bigint);
CREATE FUNCTION public.diff_counts(OUT triples bigint, OUT allowed bigint, OUT mismatches bigint) LANGUAGE sql AS $$
    SELECT count(*), count(*) FILTER (WHERE clinres_oracle.has_module(u.id, t.id, m.code)),
           count(*) FILTER (WHERE clinres.has_module(u.id, t.id, m.code)
                                  IS DISTINCT FROM clinres_oracle.has_module(u.id, t.id, m.code)
                               OR (m.sort_order = (SELECT min(sort_order) FROM clinres.modules)
                                   AND (clinres.landing_module(u.id, t.id) IS DISTINCT FROM clinres_oracle.landing_module(u.id, t.id)
                                        OR EXISTS (SELECT 1 FROM clinres.permissions p
                                                    WHERE clinres.has_permission(u.id, t.id, p.code)
                                                          IS DISTINCT FROM clinres_oracle.has_permission(u.id, t.id, p.code))))
                               -- explain_access: has_module's answer, and the oracle's reason for it.
                               OR e.allowed IS DISTINCT FROM clinres.has_module(u.id, t.id, m.code)
                               OR e.reason IS DISTINCT FROM clinres_oracle.access_reason(u.id, t.id, m.code))
      FROM clinres.users u, clinres.tenants t, clinres.modules m,
           LATERAL clinres._explain_access(u.id, t.id, m.code) e
$$;
CREATE FUNCTION public.diff_compare(p_round int, p_phase text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO public.diff_log SELECT p_round, p_phase, c.* FROM public.diff_counts() c
$$;
-- One statement that runs while another session commits changes: each of its inner
-- statements takes a new snapshot and must see them (it writes nothing until the end,
-- so only the snapshots tell its inner statements apart).
CREATE FUNCTION public.diff_long(p_round int, other text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c record;
    results public.diff_log[] := '{}';
BEGIN
    FOR k IN 1 .. 2 LOOP
        PERFORM * FROM dblink(other, format('SELECT public.diff_mutate(3, %s)', (p_round * 10 + k + 900) / 10000.0))
                    AS t(done text);
        c := public.diff_counts();
        results := results || ROW(p_round, 'other session, one statement', c.triples, c.allowed, c.mismatches)::public.diff_log;
    END LOOP;
    INSERT INTO public.diff_log SELECT * FROM unnest(results);
END $$;

-- Each round: local changes checked before commit, then another session's changes
-- checked after it commits, then while one statement runs. The checking session's
-- cache stays warm throughout.
CREATE PROCEDURE public.diff_run(rounds int) LANGUAGE plpgsql AS $$
DECLARE
    other text := format('host=%s dbname=%s port=%s', split_part(current_setting('unix_socket_directories'), ',', 1),
                         current_database(), current_setting('port'));
BEGIN
    FOR r IN 1 .. rounds LOOP
        PERFORM public.diff_compare(r, 'warm');
        PERFORM public.diff_mutate(3, r / 1000.0);
        PERFORM public.diff_compare(r, 'own uncommitted');
        COMMIT;
        PERFORM * FROM dblink(other, format('SELECT public.diff_mutate(3, %s)', (r + 500) / 1000.0)) AS t(done text);
        COMMIT;
        PERFORM public.diff_compare(r, 'other session');
        COMMIT;
        PERFORM public.diff_long(r, other);
        COMMIT;
    END LOOP;
END $$;
CALL public.diff_run(7);
SELECT sum(triples) >= 100000 AS enough_triples, sum(mismatches) AS mismatches,
       count(DISTINCT round) AS rounds FROM public.diff_log;
SELECT phase, sum(mismatches) AS mismatches FROM public.diff_log GROUP BY phase ORDER BY phase;
-- The answers really changed along the way (the test is not comparing constants).
SELECT count(DISTINCT allowed) > 5 AS answers_changed, min(allowed) > 0 AS some_allowed,
       bool_and(allowed < triples) AS some_denied FROM public.diff_log;
-- The reasons explain_access gave along the way were many (the comparison is not of one constant).
SELECT count(DISTINCT e.reason) >= 10 AS many_reasons,
       count(*) FILTER (WHERE e.reason LIKE '%valid' OR e.reason LIKE '%expired') > 0 AS validities_decided
  FROM clinres.users u, clinres.tenants t, clinres.modules m, LATERAL clinres._explain_access(u.id, t.id, m.code) e;
-- Modules, tenants and aia subscriptions the mutations turned off are on again, so that some
-- pairs below are allowed whatever the random mutations did.
UPDATE clinres.modules SET is_active = true;
UPDATE clinres.tenants SET status = 'active';
INSERT INTO clinres.tenant_modules (tenant_id, module_code) SELECT id, 'aia' FROM clinres.tenants
ON CONFLICT (tenant_id, module_code) DO UPDATE SET is_enabled = true, expires_at = NULL;
DELETE FROM clinres.user_modules;
UPDATE clinres.users SET status = 'active';
UPDATE clinres.user_tenants SET status = 'active', valid_from = NULL, valid_until = NULL;
-- One call site asked about thousands of different pairs, in scrambled order: its
-- memo grows into a table of answers (see functions.cpp), which must agree too.
CREATE TEMP TABLE many_pairs AS
SELECT p.user_id, p.tenant_id
  FROM generate_series(1, 12000) g
  JOIN LATERAL (SELECT CASE WHEN g % 3 = 0 THEN u.id ELSE md5('nobody' || (g % 4000))::uuid END AS user_id, t.id AS tenant_id
                  FROM clinres.users u, clinres.tenants t
                 WHERE u.email = 'du' || (g % 60 + 1) || '@diff.example' AND t.code = 'DT' || (g * 7 % 12 + 1)) p ON true
 ORDER BY md5(g::text);
SELECT count(*) AS pairs, count(DISTINCT (user_id, tenant_id)) AS distinct_pairs FROM many_pairs;
SELECT count(*) FILTER (WHERE clinres.has_module(user_id, tenant_id, 'aia')
                        IS DISTINCT FROM clinres_oracle.has_module(user_id, tenant_id, 'aia')) AS mismatches_cold,
       count(*) FILTER (WHERE clinres_oracle.has_module(user_id, tenant_id, 'aia')) > 0 AS some_allowed
  FROM many_pairs;
SELECT count(*) FILTER (WHERE clinres.has_module(user_id, tenant_id, 'aia')
                        IS DISTINCT FROM clinres_oracle.has_module(user_id, tenant_id, 'aia')) AS mismatches_warm
  FROM many_pairs;
-- Every (user, tenant) pair of the differential's users and tenants, 30 times over,
-- scrambled: they repeat, so the call site counts them and makes a table sized for
-- them part-way through the scan; its answers must agree too.
SELECT count(*) FILTER (WHERE clinres.has_module(uid, tid, 'aia')
                        IS DISTINCT FROM clinres_oracle.has_module(uid, tid, 'aia')) AS mismatches_repeated,
       count(*) AS pairs, count(*) FILTER (WHERE clinres_oracle.has_module(uid, tid, 'aia')) > 1000 AS many_allowed,
       count(*) FILTER (WHERE NOT clinres_oracle.has_module(uid, tid, 'aia')) > 1000 AS many_denied
  FROM (SELECT u.id AS uid, t.id AS tid FROM clinres.users u, clinres.tenants t, generate_series(1, 30) k
         WHERE u.email LIKE 'du%@diff.example' AND t.code LIKE 'DT%' ORDER BY md5(u.id::text || t.id::text || k)) r;

-- Put back what the mutations changed outside users and tenants.
UPDATE clinres.modules SET is_active = true;
DELETE FROM clinres.role_permissions;
INSERT INTO clinres.role_permissions (role_code, permission_code)
SELECT r, p.code FROM unnest(ARRAY['SUPER_ADMIN', 'TENANT_ADMIN']) AS r, clinres.permissions p;
DROP PROCEDURE public.diff_run(int);
DROP FUNCTION public.diff_long(int, text);
DROP FUNCTION public.diff_compare(int, text);
DROP FUNCTION public.diff_counts();
DROP FUNCTION public.diff_mutate(int, float8);
DROP TABLE public.diff_log;
DROP SCHEMA clinres_oracle CASCADE;
