-- User management benchmark data: 1,000,000 users in 1,000 tenants; tenant 1 has 50,000
-- members, the other 950,000 users are spread over tenants 2..1000 (about 951 each).
-- Names are Chinese: one of 100 surnames and two of 32 given-name characters each; emails
-- are u<i>@<department>.h<tenant>.example with one of 10 departments (10% of users each);
-- phones +86 1xx xxxx xxxx. Ids are md5-derived so that runs are comparable.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SET synchronous_commit = off;

INSERT INTO clinres.tenants (id, code, name)
SELECT md5('t' || t)::uuid, 'T' || lpad(t::text, 4, '0'), '医院' || t FROM generate_series(1, 1000) t;
INSERT INTO clinres.tenant_modules (tenant_id, module_code)
SELECT md5('t' || t)::uuid, m FROM generate_series(1, 1000) t, unnest(ARRAY['asl', 'aia', 'pkb', 'dc']) m;

CREATE TEMP TABLE bench_names AS
SELECT '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'::text AS surnames,
       '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉'::text AS given;

-- Tenant of user i: 1 for i <= 50,000, else 2 + (i mod 999).
INSERT INTO clinres.users (id, email, name, phone, status, created_at, last_login_at)
SELECT md5('u' || i)::uuid,
       'u' || i || '@' || (ARRAY['cardio', 'neuro', 'onco', 'derma', 'pedia', 'ortho', 'radio', 'surg', 'psych', 'gastro'])[1 + i % 10]
           || '.h' || lpad((CASE WHEN i <= 50000 THEN 1 ELSE 2 + i % 999 END)::text, 4, '0') || '.example',
       substr(n.surnames, 1 + ((i::bigint * 7919) % 100)::int, 1) || substr(n.given, 1 + (i * 31) % 32, 1) || substr(n.given, 1 + (i / 32 * 17) % 32, 1),
       '+86 1' || lpad(((i::bigint * 2654435761) % 10000000000)::text, 10, '0'),
       CASE WHEN i % 50 = 0 THEN 'disabled' ELSE 'active' END,
       timestamptz '2024-01-01' + i * interval '37 seconds',
       CASE WHEN i % 3 = 0 THEN timestamptz '2026-01-01' + (i % 100000) * interval '61 seconds' END
  FROM generate_series(1, 1000000) i, bench_names n;

INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code)
SELECT md5('t' || CASE WHEN i <= 50000 THEN 1 ELSE 2 + i % 999 END)::uuid, md5('u' || i)::uuid,
       CASE WHEN i % 500 = 1 THEN 'TENANT_ADMIN' ELSE 'USER' END
  FROM generate_series(1, 1000000) i;
-- Every 10th member has its own module configuration.
INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
SELECT md5('t' || CASE WHEN i <= 50000 THEN 1 ELSE 2 + i % 999 END)::uuid, md5('u' || i)::uuid, m, m <> 'dc'
  FROM generate_series(10, 1000000, 10) i, unnest(ARRAY['asl', 'aia', 'pkb', 'dc']) m;

-- The actors: a SUPER_ADMIN, and user 1 (TENANT_ADMIN of tenant 1).
INSERT INTO clinres.users (id, email, name, platform_role)
VALUES (md5('super')::uuid, 'super@platform.example', '超级管理员', 'SUPER_ADMIN');

VACUUM ANALYZE clinres.users, clinres.user_tenants, clinres.user_modules, clinres.tenants, clinres.tenant_modules;
