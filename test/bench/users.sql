-- User management benchmark (after users_setup.sql and measure.sql): the list page, searches,
-- paging and each mutation, as medians of N runs inside the server (bench_ms), against the
-- goals of issue 10. Then the plans of the hot statements (auto_explain, statements over 1 ms).
\set ON_ERROR_STOP 1
\pset footer off
\set t1 '''83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7'''
SELECT count(*) AS users, (SELECT count(*) FROM clinres.tenants) AS tenants,
       (SELECT count(*) FROM clinres.user_tenants WHERE tenant_id = :t1) AS members_of_t1
  FROM clinres.users;

-- The tenant admin of the 50,000-member tenant.
-- How loaded the machine is: a CPU-bound reference statement, to compare runs with each other.
SELECT round(bench_ms($$SELECT count(*) FROM generate_series(1, 1000000)$$, 5)::numeric, 1) AS reference_ms;
SELECT clinres.set_context(md5('u1')::uuid, :t1, false) IS NULL AS context_set;
CREATE TEMP TABLE results (n serial, what text, goal text, p50_ms float8, matches bigint);
INSERT INTO results (what, goal, p50_ms, matches)
VALUES ('list_users page 1, tenant of 50,000, exact total_count', '<= 10 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7')$$, 21),
        (SELECT total_count FROM clinres.list_users(:t1) LIMIT 1)),
       ('list_users page 500 of the same tenant', '<= 3 x page 1',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', page => 500)$$, 21),
        (SELECT total_count FROM clinres.list_users(:t1, page => 500) LIMIT 1)),
       ('1-character Chinese name search in that tenant (王)', '<= 50 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', search => '王')$$, 11),
        (SELECT total_count FROM clinres.list_users(:t1, search => '王') LIMIT 1)),
       ('2-character Chinese name search in that tenant (敏静)', '<= 50 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', search => '敏静')$$, 11),
        (SELECT total_count FROM clinres.list_users(:t1, search => '敏静') LIMIT 1)),
       -- The other sorts (issue 24): page 1 walks the sort's users index keeping the members.
       ('list_users page 1 sorted by name asc, same tenant', '<= 10 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', sort => 'name asc')$$, 21),
        (SELECT total_count FROM clinres.list_users(:t1, sort => 'name asc') LIMIT 1)),
       ('list_users page 1 sorted by email desc, same tenant', '<= 10 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', sort => 'email desc')$$, 21),
        (SELECT total_count FROM clinres.list_users(:t1, sort => 'email desc') LIMIT 1)),
       ('list_users page 1 sorted by last_login_at desc, same tenant', '<= 10 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', sort => 'last_login_at desc')$$, 21),
        (SELECT total_count FROM clinres.list_users(:t1, sort => 'last_login_at desc') LIMIT 1)),
       ('list_users page 500 sorted by name asc, same tenant (sorts the members)', '-',
        bench_ms($$SELECT count(*) FROM clinres.list_users('83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7', sort => 'name asc', page => 500)$$, 5),
        (SELECT total_count FROM clinres.list_users(:t1, sort => 'name asc', page => 500) LIMIT 1));

-- A SUPER_ADMIN across every tenant.
SELECT clinres.set_context(md5('super')::uuid, NULL, false) IS NULL AS context_set;
INSERT INTO results (what, goal, p50_ms, matches)
VALUES ('SUPER_ADMIN search, 6 characters, ~1,000 matches (h0042.)', '<= 20 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users(search => 'h0042.')$$, 11),
        (SELECT total_count FROM clinres.list_users(search => 'h0042.') LIMIT 1)),
       ('SUPER_ADMIN search, 3 Chinese characters (丁华英)', '<= 20 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users(search => '丁华英')$$, 11),
        (SELECT total_count FROM clinres.list_users(search => '丁华英') LIMIT 1)),
       ('SUPER_ADMIN search, exact email, any case', '<= 20 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users(search => 'U123456@Radio')$$, 11),
        (SELECT total_count FROM clinres.list_users(search => 'U123456@Radio') LIMIT 1)),
       ('SUPER_ADMIN search, 100,000 matches (cardio)', '<= 150 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users(search => 'cardio')$$, 11),
        (SELECT total_count FROM clinres.list_users(search => 'cardio') LIMIT 1)),
       ('SUPER_ADMIN, every user, page 1 (exact count of 1,000,001)', '-',
        bench_ms($$SELECT count(*) FROM clinres.list_users()$$, 5),
        (SELECT total_count FROM clinres.list_users() LIMIT 1)),
       ('SUPER_ADMIN, every user, page 1 sorted by name', '-',
        bench_ms($$SELECT count(*) FROM clinres.list_users(sort => 'name asc')$$, 5),
        (SELECT total_count FROM clinres.list_users(sort => 'name asc') LIMIT 1)),
       ('a tenant of ~950, page 1 (default sort)', '<= 10 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users(md5('t2')::uuid)$$, 21),
        (SELECT total_count FROM clinres.list_users(md5('t2')::uuid) LIMIT 1)),
       ('a tenant of ~950, page 1 sorted by name (sorts the members)', '<= 10 ms',
        bench_ms($$SELECT count(*) FROM clinres.list_users(md5('t2')::uuid, sort => 'name asc')$$, 21),
        (SELECT total_count FROM clinres.list_users(md5('t2')::uuid, sort => 'name asc') LIMIT 1));

-- Mutations by the tenant admin (bcrypt at the default cost 10 where a password is set).
SELECT clinres.set_context(md5('u1')::uuid, :t1, false) IS NULL AS context_set;
CREATE TEMP SEQUENCE bench_seq;
INSERT INTO results (what, goal, p50_ms)
VALUES ('create_user without a password', '<= 2 ms',
        bench_ms($$SELECT clinres.create_user('bench' || pg_backend_pid() || '-' || nextval('bench_seq') || '@new.example', '新用户', tenant_id => '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7')$$, 51)),
       ('create_user with modules', '<= 2 ms',
        bench_ms($$SELECT clinres.create_user('bench' || pg_backend_pid() || '-' || nextval('bench_seq') || '@new.example', '新用户', modules => ARRAY['aia', 'pkb'])$$, 51)),
       ('update_user (name)', '<= 2 ms',
        bench_ms($$SELECT clinres.update_user(md5('u2')::uuid, jsonb_build_object('name', '张' || nextval('bench_seq')))$$, 51)),
       ('set_user_modules (toggle [aia] / inherit)', '<= 2 ms',
        bench_ms($$SELECT clinres.set_user_modules(md5('u3')::uuid, '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7',
                                                   CASE WHEN nextval('bench_seq') % 2 = 0 THEN ARRAY['aia'] END)$$, 51)),
       ('set_tenant_role (toggle USER / TENANT_ADMIN)', '<= 2 ms',
        bench_ms($$SELECT clinres.set_tenant_role(md5('u4')::uuid, '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7',
                                                  CASE WHEN nextval('bench_seq') % 2 = 0 THEN 'USER' ELSE 'TENANT_ADMIN' END)$$, 51)),
       ('set_user_status (toggle the membership)', '<= 2 ms',
        bench_ms($$SELECT clinres.set_user_status(md5('u5')::uuid, CASE WHEN nextval('bench_seq') % 2 = 0 THEN 'active' ELSE 'disabled' END,
                                                  '83f1535f-99ab-0bf4-e9d0-2dfd85d3e3f7')$$, 51)),
       ('get_user', '-',
        bench_ms($$SELECT clinres.get_user(md5('u6')::uuid)$$, 51)),
       ('bcrypt alone, cost 10 (pgcrypto crypt)', '-',
        bench_ms($$SELECT crypt('correct horse battery', gen_salt('bf', 10))$$, 11)),
       ('reset_password (given, cost 10)', '<= 2 ms + bcrypt',
        bench_ms($$SELECT clinres.reset_password(md5('u7')::uuid, 'correct horse battery')$$, 11)),
       ('create_user with a password (cost 10)', '<= 2 ms + bcrypt',
        bench_ms($$SELECT clinres.create_user('bench' || pg_backend_pid() || '-' || nextval('bench_seq') || '@new.example', '新用户', 'correct horse battery')$$, 11));
CREATE TEMP TABLE victims AS
SELECT u.id, row_number() OVER (ORDER BY u.email) AS n FROM clinres.users u WHERE u.email LIKE 'bench' || pg_backend_pid() || '-%@new.example';
CREATE TEMP SEQUENCE victim_seq;
INSERT INTO results (what, goal, p50_ms)
VALUES ('delete_user (a user of this tenant only, everywhere)', '<= 2 ms',
        bench_ms($$SELECT clinres.delete_user((SELECT v.id FROM victims v WHERE v.n = (SELECT nextval('victim_seq'))), everywhere => true)$$, 51));
SELECT clinres.set_context(md5('super')::uuid, NULL, false) IS NULL AS context_set;
CREATE TEMP SEQUENCE toggle_seq;
INSERT INTO results (what, goal, p50_ms)
VALUES ('assign_tenant / remove_tenant (toggle, SUPER_ADMIN)', '<= 2 ms',
        bench_ms($$SELECT CASE WHEN nextval('toggle_seq') % 2 = 1
                               THEN clinres.assign_tenant(md5('u8')::uuid, md5('t500')::uuid)::text
                               ELSE clinres.remove_tenant(md5('u8')::uuid, md5('t500')::uuid)::text END$$, 51));

SELECT n, what, goal, round(p50_ms::numeric, 2) AS p50_ms, matches FROM results ORDER BY n;
SELECT round(((SELECT p50_ms FROM results WHERE n = 2) / (SELECT p50_ms FROM results WHERE n = 1))::numeric, 2) AS page500_over_page1;

-- Plans of the statements inside list_users that take over 1 ms.
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 1;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = off;
SET auto_explain.log_buffers = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
\echo '== plans: tenant page 1'
SELECT clinres.set_context(md5('u1')::uuid, :t1, false) IS NULL AS context_set;
SELECT count(*) FROM clinres.list_users(:t1);
\echo '== plans: tenant page 500'
SELECT count(*) FROM clinres.list_users(:t1, page => 500);
\echo '== plans: 2-character Chinese search in the tenant'
SELECT count(*) FROM clinres.list_users(:t1, search => '敏静');
\echo '== plans: SUPER_ADMIN search, ~1,000 matches'
SELECT clinres.set_context(md5('super')::uuid, NULL, false) IS NULL AS context_set;
SELECT count(*) FROM clinres.list_users(search => 'h0042.');
\echo '== plans: SUPER_ADMIN search, 100,000 matches'
SELECT count(*) FROM clinres.list_users(search => 'cardio');
