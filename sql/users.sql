-- User management (API.md section 5): listing, reading, creating, editing, and bad input.
-- Errors are caught by try() and shown as "SQLSTATE message", so each call shows its code.
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
-- get_user's JSON without what changes from run to run.
CREATE FUNCTION pg_temp.show(j jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT j - '{id,created_at,updated_at,last_login_at,locked_until}'::text[]
             || jsonb_build_object('tenants', (SELECT coalesce(jsonb_agg(t - 'joined_at'), '[]') FROM jsonb_array_elements(j -> 'tenants') t))
$$;
CREATE FUNCTION pg_temp.uid(e text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM clinres.users WHERE lower(email) = lower(e) $$;

-- Catalog: emails are unique regardless of case, phones when set; the login columns exist.
SELECT pg_temp.try($$INSERT INTO clinres.users (email, name) VALUES ('ALICE@hosp-a.example', 'x') RETURNING 1$$);
SELECT pg_temp.try($$INSERT INTO clinres.users (email, name, phone) VALUES ('new@x.example', 'x', '+86 138 0000 0001') RETURNING 1$$);
SELECT column_name, data_type, column_default FROM information_schema.columns
 WHERE table_schema = 'clinres' AND table_name = 'users' AND ordinal_position > 10 ORDER BY ordinal_position;
SELECT indexname FROM pg_indexes WHERE schemaname = 'clinres' AND tablename IN ('users', 'user_tenants', 'admin_logs') ORDER BY 1;

-- No context user: every management call is 42501.
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users()$$);
SELECT pg_temp.try($$SELECT clinres.count_users()$$);
SELECT pg_temp.try($$SELECT clinres.get_user('00000000-0000-0000-0000-0000000000b0')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('x@y.example', 'X')$$);

-- Alice, TENANT_ADMIN of A: her tenant's members, newest first by default.
SELECT clinres.set_context(:alice, :A, false);
SELECT email, name, phone, status, role_code, membership_status, modules, total_count FROM clinres.list_users();
-- Hospital B is not hers: nothing listed, nothing revealed.
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(tenant_id => 'b0000000-0000-0000-0000-00000000000b')$$);
SELECT pg_temp.try($$SELECT clinres.get_user('00000000-0000-0000-0000-0000000000c0')$$);
-- An id nobody has gets the same answer as Carol's (existence is not revealed to a tenant admin).
SELECT pg_temp.try($$SELECT clinres.get_user('00000000-0000-0000-0000-00000000ffff')$$);
-- Only a SUPER_ADMIN lists across tenants: without a context tenant Alice is refused.
SELECT clinres.set_context(:alice, NULL, false);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users()$$);
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.show(clinres.get_user(:bob));

-- create_user: role and module codes or names in any case; modules NULL inherits.
SELECT pg_temp.try($$SELECT clinres.create_user('Dave@Hosp-A.example', '张大伟', 'dave-pass-1', NULL, 'user', ARRAY['AIA', '数据清洗']) IS NOT NULL$$);
SELECT pg_temp.try($$SELECT clinres.create_user('eve@hosp-a.example', 'Eve Li', NULL, 'a0000000-0000-0000-0000-00000000000a', 'TENANT_ADMIN', NULL, '+86 139 1234 5678') IS NOT NULL$$);
SELECT pg_temp.show(clinres.get_user(pg_temp.uid('dave@hosp-a.example')));
SELECT password_hash ~ '^\$2a\$10\$' AS bcrypt_cost_10, crypt('dave-pass-1', password_hash) = password_hash AS verifies
  FROM clinres.users WHERE email = 'Dave@Hosp-A.example';
-- The user's module answers follow at once.
SELECT m.code, clinres.has_module(pg_temp.uid('dave@hosp-a.example'), :A, m.code) FROM clinres.modules m ORDER BY m.sort_order;
-- Duplicates: email in any case, phone, each naming the field; nothing is written.
SELECT pg_temp.try($$SELECT clinres.create_user('DAVE@hosp-a.example', 'Again')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('frank@hosp-a.example', 'Frank', phone => '+86 139 1234 5678')$$);
SELECT count(*) AS users FROM clinres.users;
-- Unknown role, unknown module, unsubscribed module, unknown tenant, NULL tenant.
SELECT pg_temp.try($$SELECT clinres.create_user('f@x.example', 'F', role_code => 'OWNER')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('f@x.example', 'F', modules => ARRAY['chat'])$$);
SELECT pg_temp.try($$SELECT clinres.create_user('f@x.example', 'F', modules => ARRAY['rvw'])$$);
SELECT pg_temp.try($$SELECT clinres.create_user('f@x.example', 'F', tenant_id => '00000000-0000-0000-0000-00000000ffff')$$);
SELECT clinres.set_context(:alice, NULL, false);
SELECT pg_temp.try($$SELECT clinres.create_user('f@x.example', 'F')$$);
SELECT clinres.set_context(:alice, :A, false);
-- Bad fields: empty or malformed email, NULL or over-long name, malformed phone, short password.
SELECT pg_temp.try($$SELECT clinres.create_user('', 'F')$$);
SELECT pg_temp.try($$SELECT clinres.create_user(NULL, 'F')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('not-an-email', 'F')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('f@x.example', NULL)$$);
SELECT pg_temp.try($$SELECT clinres.create_user('f@x.example', '  ')$$);
SELECT pg_temp.try(format($$SELECT clinres.create_user('f@x.example', %L)$$, repeat('名', 10000)));
SELECT pg_temp.try(format($$SELECT clinres.create_user('f@x.example', %L) IS NOT NULL$$, repeat('名', 100)));
SELECT pg_temp.try($$SELECT clinres.create_user('g@x.example', E'G\u0007')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('g@x.example', 'G', phone => 'call me')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('g@x.example', 'G', 'short')$$);
SELECT pg_temp.try($$SELECT clinres.create_user('g@x.example', 'G', repeat('密', 25))$$);
-- Each of those errors carries the field marker (schema clinres, table field, column the key),
-- as update_user's do; a denial keeps the denial marker (table row, column user); the 23505 a
-- concurrent writer causes (clinres._raise_duplicate, raised after the unique index) names its field too.
CREATE FUNCTION pg_temp.marker(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; t text; c text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = SCHEMA_NAME, t = TABLE_NAME, c = COLUMN_NAME;
    RETURN format('%s %s.%s.%s', SQLSTATE, s, t, c);
END $$;
SELECT q, pg_temp.marker(q) FROM (VALUES
    ($$SELECT clinres.create_user('not-an-email', 'F')$$),
    ($$SELECT clinres.create_user('DAVE@hosp-a.example', 'Again')$$),
    ($$SELECT clinres.create_user('marker@x.example', '  ')$$),
    ($$SELECT clinres.create_user('marker@x.example', 'G', phone => 'call me')$$),
    ($$SELECT clinres.create_user('frank@hosp-a.example', 'Frank', phone => '+86 139 1234 5678')$$),
    ($$SELECT clinres.create_user('marker@x.example', 'G', 'short')$$),
    ($$SELECT clinres.create_user('marker@x.example', 'F', role_code => 'OWNER')$$),
    ($$SELECT clinres.create_user('marker@x.example', 'F', modules => ARRAY['chat'])$$),
    ($$SELECT clinres.create_user('marker@x.example', 'F', tenant_id => '00000000-0000-0000-0000-00000000ffff')$$),
    ($$SELECT clinres.create_user('marker@x.example', 'F', role_code => 'SUPER_ADMIN')$$),
    ($$SELECT clinres._raise_duplicate('DAVE@hosp-a.example', NULL)$$),
    ($$SELECT clinres._raise_duplicate('nobody@x.example', '+86 139 1234 5678')$$)) v(q);

-- list_users: paging, validation, sort whitelist, filters, search.
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(page => 0)$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(page => NULL)$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(page_size => 101)$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(page_size => 0)$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(sort => 'password desc')$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(sort => 'name; DROP TABLE x')$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(sort => 'name sideways')$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(sort => NULL)$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(status => 'gone')$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(role_code => 'OWNER')$$);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.list_users(module_code => 'chat')$$);
SELECT email, total_count FROM clinres.list_users(sort => 'NAME  Asc');
SELECT email, total_count FROM clinres.list_users(sort => 'email desc', page => 2, page_size => 2);
SELECT email, total_count FROM clinres.list_users(page => 9);
-- count_users: list_users' total on any page, also past the end (no rows there to carry it); same rules.
SELECT clinres.count_users() AS total, clinres.count_users(search => 'hosp-a') AS matching,
       clinres.count_users(search => 'nobody-matches') AS none,
       (SELECT count(*) FROM clinres.list_users(page => 9)) AS rows_on_page_9;
SELECT pg_temp.try($$SELECT clinres.count_users(status => 'gone')$$);
-- Pages never overlap, even when every sort key ties (the id breaks ties).
UPDATE clinres.users SET created_at = '2026-01-01' WHERE email <> 'erin@platform.example';
SELECT count(DISTINCT id) AS distinct_ids, count(*) AS rows_seen
  FROM generate_series(1, 5) p, clinres.list_users(page => p, page_size => 1);
SELECT (SELECT array_agg(id) FROM clinres.list_users(page_size => 5)) =
       (SELECT array_agg(id ORDER BY p) FROM generate_series(1, 5) p, clinres.list_users(page => p, page_size => 1)) AS same_order;
-- The other sorts walk the memberships' copies of name, email and last login (kept equal to the
-- users' by triggers); page by page the same order as one page, never logged in last.
UPDATE clinres.users SET last_login_at = '2026-02-01'::timestamptz + ((ascii(lower(email)) * 3) % 7) * interval '1 day'
 WHERE email NOT LIKE 'bob%';
SELECT count(*) AS stale_copies FROM clinres.user_tenants ut JOIN clinres.users u ON u.id = ut.user_id
 WHERE ut.user_last_login_at IS DISTINCT FROM u.last_login_at;
SELECT s.sort, (SELECT array_agg(id ORDER BY p) FROM generate_series(1, 5) p, clinres.list_users(page => p, page_size => 1, sort => s.sort))
               = (SELECT array_agg(id) FROM clinres.list_users(page_size => 100, sort => s.sort)) AS same_order,
       (SELECT array_agg(email) FROM clinres.list_users(page_size => 100, sort => s.sort)) AS emails
  FROM unnest(ARRAY['name asc', 'name desc', 'email asc', 'email desc', 'last_login_at asc', 'last_login_at desc']) s(sort);
UPDATE clinres.users SET last_login_at = NULL;
-- Filters: role, status (user or membership), module (by configuration).
SELECT email FROM clinres.list_users(role_code => 'tenant_admin', sort => 'email asc');
SELECT email FROM clinres.list_users(module_code => 'dc', sort => 'email asc');
SELECT email FROM clinres.list_users(module_code => 'pkb', sort => 'email asc');
UPDATE clinres.user_tenants SET status = 'disabled' WHERE user_id = :bob;
SELECT email, membership_status FROM clinres.list_users(status => 'disabled');
SELECT count(*) FROM clinres.list_users(status => 'active');
UPDATE clinres.user_tenants SET status = 'active' WHERE user_id = :bob;
-- Search: email, name and phone, as a case-insensitive substring; Chinese; phone digits; LIKE characters are literal.
SELECT email FROM clinres.list_users(search => 'HOSP-A.EX', sort => 'email asc');
SELECT email FROM clinres.list_users(search => '大伟');
SELECT email FROM clinres.list_users(search => '伟');
SELECT email FROM clinres.list_users(search => 'eve li');
SELECT email FROM clinres.list_users(search => '139 1234');
SELECT email FROM clinres.list_users(search => '13912345678');
SELECT count(*) FROM clinres.list_users(search => '%');
SELECT count(*) FROM clinres.list_users(search => '_');
SELECT count(*) FROM clinres.list_users(search => '   ');
SELECT pg_temp.try(format($$SELECT count(*) FROM clinres.list_users(search => %L)$$, repeat('x', 101)));
SELECT email FROM clinres.list_users(search => NULL, role_code => NULL, status => NULL, module_code => NULL, sort => 'email asc');

-- Erin (SUPER_ADMIN) lists every tenant's users with tenant_id NULL; role filters on platform roles.
SELECT clinres.set_context(:erin, :A, false);
SELECT email, role_code, membership_status, modules, total_count FROM clinres.list_users(sort => 'email asc');
SELECT email FROM clinres.list_users(role_code => 'super_admin');
SELECT email FROM clinres.list_users(search => 'hosp-b');
SELECT email FROM clinres.list_users(module_code => 'aia', sort => 'email asc');
SELECT email FROM clinres.list_users(status => 'disabled');
SELECT clinres.count_users() = (SELECT count(*) FROM clinres.users) AS counts_every_user,
       clinres.count_users(search => 'hosp-b') AS matching_hosp_b;
SELECT pg_temp.try($$SELECT clinres.get_user('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.show(clinres.get_user(:carol));

-- update_user: name, email, phone; unknown keys, non-objects, bad values and duplicates are refused.
SELECT clinres.set_context(:alice, :A, false);
SELECT pg_temp.show(clinres.update_user(:bob, '{"name": "Robert 王", "phone": "+86 137 0000 0002"}'));
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '{"password_hash": "x"}')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '{"platform_role": "SUPER_ADMIN"}')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '["name"]')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', NULL)$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '{"name": null}')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '{"name": 5}')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '{"email": "Alice@HOSP-A.example"}')$$);
SELECT pg_temp.try($$SELECT clinres.update_user('00000000-0000-0000-0000-0000000000b0', '{"phone": "+86 138 0000 0001"}')$$);
-- A phone can be cleared; the email's case can change.
SELECT pg_temp.show(clinres.update_user(:bob, '{"phone": null, "email": "Bob@hosp-a.example"}')) ->> 'email';
SELECT phone FROM clinres.users WHERE id = :bob;
-- The tenant list searches the membership's copy of the search text, kept equal to the user's.
SELECT email FROM clinres.list_users(search => 'ROBERT 王');
SELECT count(*) AS stale_copies FROM clinres.user_tenants ut JOIN clinres.users u ON u.id = ut.user_id
 WHERE ut.user_search_text IS DISTINCT FROM u.search_text OR ut.user_created_at IS DISTINCT FROM u.created_at
    OR ut.user_name IS DISTINCT FROM u.name OR ut.user_email_key IS DISTINCT FROM lower(u.email)
    OR ut.user_last_login_at IS DISTINCT FROM u.last_login_at;

-- set_user_status: global (tenant NULL) or a membership; effects on has_module are immediate.
SELECT pg_temp.show(clinres.set_user_status(:bob, 'disabled', :A)) -> 'tenants' -> 0 ->> 'status';
SELECT clinres.has_module(:bob, :A, 'aia');
SELECT pg_temp.show(clinres.set_user_status(:bob, 'active', :A)) -> 'tenants' -> 0 ->> 'status';
SELECT pg_temp.show(clinres.set_user_status(:bob, 'disabled')) ->> 'status';
SELECT clinres.has_module(:bob, :A, 'aia');
SELECT pg_temp.show(clinres.set_user_status(:bob, 'active')) ->> 'status';
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000b0', 'gone')$$);
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000b0', NULL)$$);
SELECT pg_temp.try($$SELECT clinres.set_user_status('00000000-0000-0000-0000-0000000000b0', 'disabled', '00000000-0000-0000-0000-000000000001')$$);

-- reset_password: a given one (returns NULL), a generated one (returned once), too short; unlocks.
UPDATE clinres.users SET failed_logins = 5, locked_until = now() + interval '1 hour' WHERE id = :bob;
SELECT clinres.reset_password(:bob, 'new-bob-password');
SELECT crypt('new-bob-password', password_hash) = password_hash AS verifies, failed_logins, locked_until FROM clinres.users WHERE id = :bob;
SELECT clinres.reset_password(:bob) AS generated \gset
SELECT length(:'generated') AS generated_length, crypt(:'generated', password_hash) = password_hash AS verifies
  FROM clinres.users WHERE id = :bob;
SELECT pg_temp.try($$SELECT clinres.reset_password('00000000-0000-0000-0000-0000000000b0', 'short')$$);
-- The bcrypt cost is a setting (4..31, default 10; superuser-only).
SET clinres.bcrypt_cost = 4;
SELECT clinres.reset_password(:bob, 'cheap-password') IS NULL AS returned_null;
SELECT password_hash ~ '^\$2a\$04\$' AS cost_4 FROM clinres.users WHERE id = :bob;
SET clinres.bcrypt_cost = 3;
RESET clinres.bcrypt_cost;
SHOW clinres.bcrypt_cost;

-- tenant_options and module_options.
SELECT code, name FROM clinres.tenant_options();
SELECT code, name FROM clinres.module_options(:A);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.module_options('b0000000-0000-0000-0000-00000000000b')$$);
SELECT clinres.set_context(:erin, NULL, false);
SELECT code FROM clinres.tenant_options();
SELECT code FROM clinres.module_options(:B);
SELECT pg_temp.try($$SELECT count(*) FROM clinres.module_options(NULL)$$);

-- The functions are SECURITY DEFINER with a fixed search_path, not executable by PUBLIC, granted to clinres_app.
SELECT p.proname, p.prosecdef, p.proconfig,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may,
       has_function_privilege('clinres_app', p.oid, 'EXECUTE') AS app_may
  FROM pg_proc p WHERE p.pronamespace = 'clinres'::regnamespace
   AND p.proname IN ('list_users', 'get_user', 'create_user', 'update_user', 'set_user_status', 'reset_password',
                     'delete_user', 'assign_tenant', 'set_tenant_role', 'remove_tenant', 'set_user_modules',
                     'tenant_options', 'module_options', 'list_admin_logs')
 ORDER BY p.proname;
-- No internal function of user management is executable by PUBLIC or the application.
SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'clinres'::regnamespace
   AND (has_function_privilege('public', p.oid, 'EXECUTE') OR has_function_privilege('clinres_app', p.oid, 'EXECUTE'))
   AND p.proname IN ('_actor', '_is_super', '_may', '_tenant_code', '_require', '_visible_user', '_guard_target',
                     '_require_global', '_role', '_role_within_ceiling', '_require_ceiling', '_tenant_modules',
                     '_member_modules', '_write_modules', '_module_config', '_log', '_user_json', '_field_problem',
                     '_bcrypt_cost', '_bcrypt', '_random_password', '_user_search_text', '_check_user_rows',
                     '_write_user_rows', '_update_member', '_create_or_add_user', '_check_page', '_list_users', '_list_admin_logs', '_remove_member',
                     '_user_tenants_copy', '_users_copy_changed', '_admin_logs_append_only', '_raise_duplicate',
                     '_keep_module_configs');
SELECT clinres.set_context(NULL, NULL, false);
