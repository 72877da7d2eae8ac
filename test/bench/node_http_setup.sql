-- Data of the Node HTTP comparison (test/bench/node_http.sh), on top of test/fixtures/node_app.sql:
-- 100,000 users in 200 tenants, hospital A (the sample's, administered by Alice) with 10,000
-- members; the others spread over hospital B and 198 more tenants (about 450 each). Emails
-- u<i>@<department>.h<tenant>.example (10 departments, 10% each), Chinese names; md5-derived ids.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET synchronous_commit = off;
INSERT INTO clinres.tenants (id, code, name)
SELECT md5('t' || t)::uuid, 'T' || lpad(t::text, 4, '0'), '医院' || t FROM generate_series(3, 200) t;
INSERT INTO clinres.tenant_modules (tenant_id, module_code)
SELECT md5('t' || t)::uuid, m FROM generate_series(3, 200) t, unnest(ARRAY['asl', 'aia', 'pkb', 'dc']) m;
-- tenant of user i: A for i <= 9,998 (A has 2 sample members), else B or one of the 198.
CREATE TEMP TABLE bench_users AS
SELECT i, md5('nu' || i)::uuid AS id,
       CASE WHEN i <= 9998 THEN 'a0000000-0000-0000-0000-00000000000a'::uuid
            WHEN i % 199 = 0 THEN 'b0000000-0000-0000-0000-00000000000b'::uuid
            ELSE md5('t' || (2 + i % 199))::uuid END AS tenant
  FROM generate_series(1, 99995) i;
INSERT INTO clinres.users (id, email, name, phone, created_at)
SELECT b.id,
       'u' || i || '@' || (ARRAY['cardio', 'neuro', 'onco', 'derma', 'pedia', 'ortho', 'radio', 'surg', 'psych', 'gastro'])[1 + i % 10]
           || '.h' || left(b.tenant::text, 4) || '.example',
       substr(n.surnames, 1 + (i * 7919) % length(n.surnames), 1) || substr(n.given, 1 + (i * 31) % length(n.given), 1),
       '+86 139' || lpad(i::text, 8, '0'),
       timestamptz '2024-01-01' + i * interval '5 minutes'
  FROM bench_users b,
       (SELECT '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程'::text AS surnames,
               '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉'::text AS given) n;
INSERT INTO clinres.user_tenants (tenant_id, user_id) SELECT tenant, id FROM bench_users;
INSERT INTO aia_schema.notes (tenant_id, body)
SELECT 'a0000000-0000-0000-0000-00000000000a', 'note ' || i FROM generate_series(4, 20) i;
VACUUM ANALYZE;
SELECT (SELECT count(*) FROM clinres.users) AS users, (SELECT count(*) FROM clinres.tenants) AS tenants,
       (SELECT count(*) FROM clinres.user_tenants WHERE tenant_id = 'a0000000-0000-0000-0000-00000000000a') AS members_of_a;
