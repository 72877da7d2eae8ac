-- The decision matrix (docs/users.md, "Who may do what"): every management verb and import mode
-- x actor x target, generated from the lists below, so that a new verb, actor or target kind is
-- one line. Each cell runs the real SQL call as the actor (context tenant HOSP_A) and rolls it
-- back; the cell shows the outcome ('ok' or the SQLSTATE). The check column compares every
-- outcome with the decision (clinres._allowed): a path that skips the decision shows up as
-- "SKIPPED"; a refused call that changed anything before failing is impossible (it is rolled
-- back by its error), and refused calls are counted apart.
\set SHOW_CONTEXT never
\i test/fixtures/sample.sql
SET client_min_messages = warning;
-- Custom roles: view/create/edit, and view/delete.
INSERT INTO clinres.roles (code, scope, name) VALUES ('EDITOR', 'tenant', 'editor'), ('DELETER', 'tenant', 'deleter');
INSERT INTO clinres.role_permissions (role_code, permission_code)
VALUES ('EDITOR', 'user:view'), ('EDITOR', 'user:create'), ('EDITOR', 'user:edit'), ('DELETER', 'user:view'), ('DELETER', 'user:delete');
INSERT INTO clinres.users (id, email, name) VALUES
    ('00000000-0000-0000-0000-0000000000f1', 'editor@hosp-a.example', 'Editor'),
    ('00000000-0000-0000-0000-0000000000f2', 'deleter@hosp-a.example', 'Deleter'),
    ('00000000-0000-0000-0000-0000000000f3', 'disabled-admin@hosp-a.example', 'Disabled admin'),
    ('00000000-0000-0000-0000-0000000000f4', 'admin@hosp-b.example', 'Admin of B'),
    ('00000000-0000-0000-0000-0000000000f5', 'admin2@hosp-a.example', 'Second admin'),
    ('00000000-0000-0000-0000-0000000000f6', 'both@hosp-a.example', 'Of both'),
    ('00000000-0000-0000-0000-0000000000f7', 'nobody@hosp-a.example', 'Of none'),
    ('00000000-0000-0000-0000-0000000000f8', 'user@hosp-a.example', 'Plain user');
UPDATE clinres.users SET status = 'disabled' WHERE id = '00000000-0000-0000-0000-0000000000f3';
INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES
    ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000f1', 'EDITOR'),
    ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000f2', 'DELETER'),
    ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000f3', 'TENANT_ADMIN'),
    ('b0000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000f4', 'TENANT_ADMIN'),
    ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000f5', 'TENANT_ADMIN'),
    ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000f6', 'USER'),
    ('b0000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000f6', 'USER'),
    ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000f8', 'USER');

CREATE TEMP TABLE actors (ord int, name text, id uuid);
INSERT INTO actors VALUES
    (1, 'SUPER_ADMIN', '00000000-0000-0000-0000-0000000000e0'), (2, 'TENANT_ADMIN', '00000000-0000-0000-0000-0000000000a1'),
    (3, 'EDITOR', '00000000-0000-0000-0000-0000000000f1'), (4, 'DELETER', '00000000-0000-0000-0000-0000000000f2'),
    (5, 'USER', '00000000-0000-0000-0000-0000000000b0'), (6, 'disabled admin', '00000000-0000-0000-0000-0000000000f3'),
    (7, 'admin of B', '00000000-0000-0000-0000-0000000000f4');
-- NULL id: the actor itself.
CREATE TEMP TABLE targets (ord int, name text, id uuid);
INSERT INTO targets VALUES
    (1, 'self', NULL), (2, 'USER', '00000000-0000-0000-0000-0000000000f8'), (3, 'TENANT_ADMIN', '00000000-0000-0000-0000-0000000000f5'),
    (4, 'SUPER_ADMIN', '00000000-0000-0000-0000-0000000000e0'), (5, 'of A and B', '00000000-0000-0000-0000-0000000000f6'),
    (6, 'of B only', '00000000-0000-0000-0000-0000000000c0'), (7, 'of no tenant', '00000000-0000-0000-0000-0000000000f7');
-- verb: what _allowed is asked (with tenant HOSP_A, or NULL for the account); call: the SQL, %1$L the target, %2$L its email, %3$L its name.
CREATE TEMP TABLE verbs (ord int, label text, verb text, on_account boolean, role text, call text);
INSERT INTO verbs VALUES
    (1, 'get_user', 'view', true, NULL, 'SELECT clinres.get_user(%1$L)'),
    (2, 'update_user', 'update', true, NULL, 'SELECT clinres.update_user(%1$L, ''{"name": "Renamed"}'')'),
    (3, 'reset_password', 'password', true, NULL, 'SELECT clinres.reset_password(%1$L, ''new-password-1'')'),
    (4, 'status (account)', 'disable', true, NULL, 'SELECT clinres.set_user_status(%1$L, ''disabled'')'),
    (5, 'delete (account)', 'delete', true, NULL, 'SELECT clinres.delete_user(%1$L, everywhere => true)'),
    (6, 'assign_tenant', 'add', false, 'USER', 'SELECT clinres.assign_tenant(%1$L, ''a0000000-0000-0000-0000-00000000000a'', ''USER'')'),
    (7, 'set_tenant_role', 'role', false, 'EDITOR', 'SELECT clinres.set_tenant_role(%1$L, ''a0000000-0000-0000-0000-00000000000a'', ''EDITOR'')'),
    (8, 'set_user_modules', 'modules', false, NULL, 'SELECT clinres.set_user_modules(%1$L, ''a0000000-0000-0000-0000-00000000000a'', ARRAY[''aia''])'),
    (9, 'status (tenant)', 'disable_member', false, NULL, 'SELECT clinres.set_user_status(%1$L, ''disabled'', ''a0000000-0000-0000-0000-00000000000a'')'),
    (10, 'remove_tenant', 'remove', false, NULL, 'SELECT clinres.remove_tenant(%1$L, ''a0000000-0000-0000-0000-00000000000a'')'),
    (11, 'delete (tenant)', 'remove', false, NULL, 'SELECT clinres.delete_user(%1$L, ''a0000000-0000-0000-0000-00000000000a'')'),
    -- Import rows name the user by email; their outcome is the report's (an error row is refused).
    (12, 'import update name', 'update', true, NULL,
     'SELECT (SELECT string_agg(CASE WHEN r.action = ''error'' THEN ''refused'' ELSE r.action END, '','') FROM clinres.import_users(convert_to(format(E''email,name\n%%s,Renamed\n'', %2$L), ''UTF8''), NULL, ''csv'', false, ''update'') r)'),
    (13, 'import update role', 'role', false, 'EDITOR',
     'SELECT (SELECT string_agg(CASE WHEN r.action = ''error'' THEN ''refused'' ELSE r.action END, '','') FROM clinres.import_users(convert_to(format(E''email,name,role\n%%s,%%s,EDITOR\n'', %2$L, %3$L), ''UTF8''), NULL, ''csv'', false, ''update'') r)'),
    -- Sessions: another user's need user:edit and the ceiling in a tenant of it (any, when none is named).
    (14, 'list_sessions', 'sessions', true, NULL, 'SELECT count(*) FROM clinres.list_sessions(%1$L)'),
    (15, 'revoke_sessions', 'sessions', true, NULL, 'SELECT clinres.revoke_sessions(%1$L)'),
    (16, 'explain_access', 'explain', false, NULL, 'SELECT clinres.explain_access(%1$L, ''a0000000-0000-0000-0000-00000000000a'', ''aia'')'),
    (17, 'erase_user', 'erase', true, NULL, 'SELECT clinres.erase_user(%1$L)'),
    (18, 'grant_module', 'modules', false, NULL, 'SELECT clinres.grant_module(%1$L, ''a0000000-0000-0000-0000-00000000000a'', ''aia'')'),
    -- A membership's validity (import only, for an existing member; a new one's is the add's).
    (19, 'import validity', 'validity', false, NULL,
     'SELECT (SELECT string_agg(CASE WHEN r.action = ''error'' THEN ''refused'' ELSE r.action END, '','') FROM clinres.import_users(convert_to(format(E''email,name,valid_until\n%%s,%%s,2999-01-01\n'', %2$L, %3$L), ''UTF8''), NULL, ''csv'', false, ''update'') r)');

-- One cell: runs the call as the actor and rolls it back; 'ok', the import's verdict, or the SQLSTATE.
CREATE FUNCTION pg_temp.attempt(actor uuid, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    PERFORM clinres.set_context(actor, 'a0000000-0000-0000-0000-00000000000a');
    EXECUTE q INTO r;
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'rollback', DETAIL = coalesce(r, '');
EXCEPTION WHEN OTHERS THEN
    IF SQLERRM = 'rollback' THEN
        GET STACKED DIAGNOSTICS r = PG_EXCEPTION_DETAIL;
        RETURN CASE WHEN r LIKE '%refused%' THEN '42501' ELSE 'ok' END;
    END IF;
    RETURN SQLSTATE;
END $$;

CREATE TEMP TABLE cells AS
SELECT v.ord AS v_ord, v.label, a.ord AS a_ord, a.name AS actor, t.ord AS t_ord, t.name AS target,
       pg_temp.attempt(a.id, format(v.call, coalesce(t.id, a.id), (SELECT u.email FROM clinres.users u WHERE u.id = coalesce(t.id, a.id)),
                                     (SELECT u.name FROM clinres.users u WHERE u.id = coalesce(t.id, a.id)))) AS outcome,
       -- An import row joins a user who is not a member (add), and changes a member's role only when it differs.
       CASE WHEN v.label LIKE 'import%' AND m.role_code IS NULL
            THEN clinres._allowed(a.id, 'add', 'a0000000-0000-0000-0000-00000000000a', coalesce(t.id, a.id), coalesce(v.role, 'USER'))
                 AND (v.verb IN ('role', 'validity') OR clinres._allowed(a.id, v.verb, NULL, coalesce(t.id, a.id)))
            WHEN v.label LIKE 'import%' AND v.verb = 'role' AND m.role_code = v.role THEN true
            ELSE clinres._allowed(a.id, v.verb, CASE WHEN v.on_account THEN NULL ELSE 'a0000000-0000-0000-0000-00000000000a'::uuid END,
                                  coalesce(t.id, a.id), v.role) END AS allowed,
       (SELECT clinres._allowed(a.id, 'context', 'a0000000-0000-0000-0000-00000000000a', NULL)) AS context
  FROM verbs v CROSS JOIN actors a CROSS JOIN targets t
  LEFT JOIN clinres.user_tenants m ON m.tenant_id = 'a0000000-0000-0000-0000-00000000000a' AND m.user_id = coalesce(t.id, a.id);

-- The matrix: one row per call and actor, one column per target.
SELECT label, actor,
       max(outcome) FILTER (WHERE t_ord = 1) AS self, max(outcome) FILTER (WHERE t_ord = 2) AS "USER",
       max(outcome) FILTER (WHERE t_ord = 3) AS "TENANT_ADMIN", max(outcome) FILTER (WHERE t_ord = 4) AS "SUPER_ADMIN",
       max(outcome) FILTER (WHERE t_ord = 5) AS "of A and B", max(outcome) FILTER (WHERE t_ord = 6) AS "of B only",
       max(outcome) FILTER (WHERE t_ord = 7) AS "no tenant"
  FROM cells GROUP BY v_ord, label, a_ord, actor ORDER BY v_ord, a_ord;

-- Every call that succeeded was allowed by the decision, and every call the decision refused
-- failed with 42501 (or P0002: not a member); data errors (23505: already a member) are apart.
SELECT label, actor, target, outcome, allowed,
       CASE WHEN outcome = 'ok' AND NOT (allowed AND context) THEN 'SKIPPED the decision'
            WHEN outcome IN ('42501', 'P0002') AND allowed AND context THEN 'refused by something else' END AS problem
  FROM cells
 WHERE (outcome = 'ok' AND NOT (allowed AND context)) OR (outcome IN ('42501', 'P0002') AND allowed AND context)
 ORDER BY v_ord, a_ord, t_ord;
SELECT count(*) AS cells, count(*) FILTER (WHERE outcome = 'ok') AS allowed_calls,
       count(*) FILTER (WHERE outcome IN ('42501', 'P0002')) AS refused_calls,
       count(*) FILTER (WHERE outcome NOT IN ('ok', '42501', 'P0002')) AS data_errors
  FROM cells;

-- Leaves the database as the fixture made it, for the files after this one.
DELETE FROM clinres.users WHERE email IN ('editor@hosp-a.example', 'deleter@hosp-a.example', 'disabled-admin@hosp-a.example',
                                          'admin@hosp-b.example', 'admin2@hosp-a.example', 'both@hosp-a.example',
                                          'nobody@hosp-a.example', 'user@hosp-a.example');
DELETE FROM clinres.role_permissions WHERE role_code IN ('EDITOR', 'DELETER');
DELETE FROM clinres.roles WHERE code IN ('EDITOR', 'DELETER');
