-- Benchmark data: 100 tenants, 10,000 users, memberships with some restrictions,
-- and a 1,000,000-row table gated by row-level security. Deterministic ids:
-- tenant n is md5('t' || n)::uuid, user n is md5('u' || n)::uuid.
SELECT setseed(0.42);
INSERT INTO clinres.tenants (id, code, name, status)
SELECT md5('t' || n)::uuid, 'T' || n, 'Tenant ' || n, CASE WHEN n % 50 = 0 THEN 'disabled' ELSE 'active' END
  FROM generate_series(1, 100) n;
INSERT INTO clinres.tenant_modules (tenant_id, module_code, is_enabled, expires_at)
SELECT md5('t' || n)::uuid, m.code, random() > 0.1,
       CASE WHEN random() < 0.1 THEN now() - interval '1 day' WHEN random() < 0.2 THEN now() + interval '30 days' END
  FROM generate_series(1, 100) n, clinres.modules m
 WHERE m.code = 'aia' OR random() < 0.6;
INSERT INTO clinres.users (id, email, name, status, platform_role)
SELECT md5('u' || n)::uuid, 'user' || n || '@bench.example', 'User ' || n,
       CASE WHEN n % 100 = 0 THEN 'disabled' ELSE 'active' END, CASE WHEN n % 1000 = 1 THEN 'SUPER_ADMIN' END
  FROM generate_series(1, 10000) n;
-- Every user belongs to tenant (n % 100) + 1; half also to ((n * 7) % 100) + 1.
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code, status)
SELECT DISTINCT ON (t, n) md5('t' || t)::uuid, md5('u' || n)::uuid,
       CASE WHEN n % 20 = 0 THEN 'TENANT_ADMIN' ELSE 'USER' END, CASE WHEN n % 37 = 0 THEN 'disabled' ELSE 'active' END
  FROM generate_series(1, 10000) n, LATERAL (VALUES ((n % 100) + 1), (CASE WHEN n % 2 = 0 THEN ((n * 7) % 100) + 1 END)) v(t)
 WHERE t IS NOT NULL;
-- A fifth of the memberships restrict the user to their own module list.
INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled)
SELECT ut.tenant_id, ut.user_id, m.code, random() < 0.5
  FROM clinres.user_tenants ut, clinres.modules m
 WHERE abs(hashtext(ut.user_id::text)) % 5 = 0 AND m.code IN ('aia', 'pkb', 'asl');

-- The RLS-gated table: each row belongs to a tenant and was written by one of its
-- members; rows are stored in g order, so consecutive rows belong to different
-- (user, tenant) pairs (a call-site memo of the last pair does not help).
CREATE TABLE public.bench_docs (id bigint PRIMARY KEY, tenant_id uuid NOT NULL, user_id uuid NOT NULL, body int);
CREATE TEMP TABLE memberships AS
SELECT row_number() OVER (ORDER BY tenant_id, user_id) AS k, tenant_id, user_id FROM clinres.user_tenants;
INSERT INTO public.bench_docs
SELECT g, m.tenant_id, m.user_id, g % 1000
  FROM generate_series(1, 1000000) g
  JOIN memberships m ON m.k = (g::bigint * 7919) % (SELECT count(*) FROM memberships) + 1
 ORDER BY g;
CREATE INDEX ON public.bench_docs (tenant_id);
VACUUM ANALYZE public.bench_docs;
