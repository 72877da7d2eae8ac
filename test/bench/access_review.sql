-- Access review benchmark (after users_setup.sql and measure.sql): see access_review.sh.
\set ON_ERROR_STOP 1
\pset footer off
\set t1 '''83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7'''
-- The trail the review reads (once per data set): each member of T0001 created by its admin, every
-- 10th member's module configuration set; every 100th member's grants end in 30 days.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM clinres.admin_logs WHERE action = 'user.create') THEN
        INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
        SELECT md5('u1')::uuid, ut.tenant_id, 'user.create', ut.user_id::text, '{}'
          FROM clinres.user_tenants ut WHERE ut.tenant_id = '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7' ORDER BY ut.user_id;
        INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
        SELECT md5('u1')::uuid, um.tenant_id, 'tenant.modules', um.user_id::text,
               jsonb_build_object('before', jsonb_build_object('modules', NULL),
                                  'after', jsonb_build_object('modules', jsonb_agg(um.module_code ORDER BY um.module_code)
                                                                             FILTER (WHERE um.is_enabled)))
          FROM clinres.user_modules um WHERE um.tenant_id = '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7'
         GROUP BY um.tenant_id, um.user_id ORDER BY um.user_id;
        UPDATE clinres.user_modules um SET valid_until = now() + interval '30 days'
          FROM clinres.user_tenants ut
         WHERE ut.tenant_id = um.tenant_id AND ut.user_id = um.user_id AND um.tenant_id = '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7'
           AND abs(hashtext(um.user_id::text)) % 10 = 0 AND um.is_enabled;
        ANALYZE clinres.admin_logs;
    END IF;
END $$;
SELECT (SELECT count(*) FROM clinres.user_tenants WHERE tenant_id = :t1) AS members_of_t1,
       (SELECT count(*) FROM clinres.admin_logs WHERE tenant_id = :t1) AS trail_rows_of_t1,
       (SELECT count(*) FROM clinres.user_modules WHERE tenant_id = :t1 AND valid_until IS NOT NULL) AS grants_with_validity;
-- How loaded the machine is: a CPU-bound reference statement, to compare runs with each other.
SELECT round(bench_ms($$SELECT count(*) FROM generate_series(1, 1000000)$$, 5)::numeric, 1) AS reference_ms;
-- The tenant admin of T0001 asks.
SELECT clinres.set_context(md5('u1')::uuid, :t1, false) IS NULL AS context_set;
CREATE TEMP TABLE results (n serial, what text, p50_ms float8, rows bigint);
-- Where the time goes: the rule over every member (C++), then the SQL around it.
SELECT round(bench_ms($$SELECT count(*) FROM clinres._access_review('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7')$$, 3)::numeric, 1)
           AS rule_over_every_member_ms;
INSERT INTO results (what, p50_ms, rows)
VALUES ('access_review(T0001): every member x module it may use, source, validity, grantor',
        bench_ms($$SELECT count(*) FROM clinres.access_review('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7')$$, 5),
        (SELECT count(*) FROM clinres.access_review(:t1))),
       ('the same pairs asked of has_module one by one (members x modules)',
        bench_ms($$SELECT count(*) FROM clinres.user_tenants ut CROSS JOIN clinres.modules m
                    WHERE ut.tenant_id = '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7' AND clinres.has_module(ut.user_id, ut.tenant_id, m.code)$$, 5),
        (SELECT count(*) FROM clinres.user_tenants ut CROSS JOIN clinres.modules m
          WHERE ut.tenant_id = :t1 AND clinres.has_module(ut.user_id, ut.tenant_id, m.code))),
       ('export_access_review(T0001, csv)',
        bench_ms($$SELECT length(clinres.export_access_review('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', 'csv'))$$, 3),
        (SELECT length(clinres.export_access_review(:t1, 'csv')))),
       ('export_access_review(T0001, xlsx)',
        bench_ms($$SELECT length(clinres.export_access_review('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', 'xlsx'))$$, 3),
        (SELECT length(clinres.export_access_review(:t1, 'xlsx'))));
SELECT what, round(p50_ms::numeric, 1) AS p50_ms, rows AS "rows (exports: bytes)",
       CASE n WHEN 1 THEN CASE WHEN p50_ms < 2000 THEN 'meets < 2 s' ELSE 'misses < 2 s' END END AS goal
  FROM results ORDER BY n;
SELECT round(((SELECT p50_ms FROM results WHERE n = 1) / (SELECT p50_ms FROM results WHERE n = 2))::numeric, 2)
           AS "access_review / has_module per pair",
       (SELECT count(*) FROM clinres.access_review(:t1) WHERE granted_by IS NOT NULL) AS rows_with_grantor,
       (SELECT count(*) FROM clinres.access_review(:t1) WHERE valid_until IS NOT NULL) AS rows_with_an_end;
