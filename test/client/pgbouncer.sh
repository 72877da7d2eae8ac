#!/usr/bin/env bash
# A real pooler: Debian's pgbouncer on loopback in transaction mode in front of the
# test cluster. 20 pgbench clients share at most 4 server connections;
# connections_by_client attributes those to pgbouncer's role and address; and
# clinres.set_context(..., is_local => true) never leaks from one client's
# transaction into another's. A session-level context is refused to the application
# role (set_context) or ignored (a direct SET), so clients mixing those in leak
# nothing either; a negative control (is_local => false by a superuser) must leak.
# A session token works through every server connection, and stops working on all of them
# between two requests once its session is ended (logout, then revoke_sessions), though each
# server connection had the session cached.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
dir=$(mktemp -d /tmp/clinres-bouncer.XXXXXX)
chmod 755 "$dir"
port=$(free_port 56432)
db=clinres_bouncer_test
q() { psql -X -At -d "$db" -c "$1"; }
cleanup() {
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    sleep 0.5
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS clinres_bouncer" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
    -c "DROP ROLE IF EXISTS clinres_bouncer" -c "CREATE ROLE clinres_bouncer LOGIN PASSWORD 'bouncer-pw'" >/dev/null
q "CREATE EXTENSION clinres CASCADE" >/dev/null
q "GRANT clinres_app TO clinres_bouncer" >/dev/null  # what an application is given
cat >"$dir/pgbouncer.ini" <<INI
[databases]
$db = host=127.0.0.1 port=$PGPORT dbname=$db
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 100
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
printf '"clinres_bouncer" "bouncer-pw"\n"postgres" "%s"\n' "${PGPASSWORD:-}" >"$dir/users.txt"  # pg_virtualenv's TCP needs it
[ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
as_postgres pgbouncer -d -q "$dir/pgbouncer.ini"
wait_for 5 "pgbouncer did not start on port $port" \
    bash -c "echo >/dev/tcp/127.0.0.1/$port" 2>/dev/null

# Each transaction must start without a context, set its own, and see its own
# (a failed check divides by zero, which aborts the pgbench client).
cat >"$dir/local.sql" <<'SQL'
\set u random(1, 1000000000)
BEGIN;
SELECT 1 / (clinres.current_user_id() IS NULL)::int AS no_context_leaked_in;
SELECT clinres.set_context(md5(:u::text)::uuid, '00000000-0000-0000-0000-000000000001', true);
SELECT 1 / (clinres.current_user_id() IS NOT DISTINCT FROM md5(:u::text)::uuid)::int AS own_context;
COMMIT;
SQL
sed 's/, true);/, false);/' "$dir/local.sql" >"$dir/session.sql"
# A client that sets a session-level context directly, outside any transaction.
cat >"$dir/direct.sql" <<'SQL'
\set u random(1, 1000000000)
SELECT set_config('clinres.user_id', md5(:u::text)::uuid::text, false),
       set_config('clinres.tenant_id', '00000000-0000-0000-0000-000000000001', false);
SQL
bench() { PGPASSWORD=bouncer-pw pgbench -n -h 127.0.0.1 -p "$port" -U "${user:-clinres_bouncer}" -c 20 -j 2 "$@" "$db" 2>&1; }

bench -T 3 -f "$dir/local.sql" >"$dir/run.out" &
sleep 1.5
by_client=$(q "SELECT client_addr, usename, sum(connections) FROM clinres.connections_by_client
               WHERE usename = 'clinres_bouncer' GROUP BY 1, 2")
wait $! || { cat "$dir/run.out"; fail "pgbench through pgbouncer failed: a context leaked or was lost"; }
grep -q "number of failed transactions: 0" "$dir/run.out" || { cat "$dir/run.out"; fail "failed transactions"; }
tx=$(awk '/number of transactions actually processed/ {print $6}' "$dir/run.out")
echo "  is_local => true: $tx transactions by 20 clients, no context leaked"
echo "  connections_by_client during the run: $by_client"
addr=${by_client%%|*}; servers=${by_client##*|}
[ "$addr" = "127.0.0.1" ] || fail "server connections not attributed to pgbouncer's address: '$by_client'"
[ "$servers" -ge 1 ] && [ "$servers" -le 4 ] || fail "expected 1..4 server connections for 20 clients, got '$servers'"

# The application role may not set a session-level context...
if bench -t 5 -f "$dir/session.sql" >"$dir/refused.out"; then
    cat "$dir/refused.out"; fail "set_context(..., is_local => false) by the application role was not refused"
fi
grep -q "a session-level clinres context is not allowed" "$dir/refused.out" || { cat "$dir/refused.out"; fail "refused for another reason"; }
echo "  is_local => false by the application role: refused (42501)"
# ...and one it sets directly is ignored: clients mixing direct SETs in leak nothing.
bench -T 2 -f "$dir/local.sql@3" -f "$dir/direct.sql@1" >"$dir/direct.out" \
    || { cat "$dir/direct.out"; fail "a directly SET session-level context leaked into another client"; }
echo "  SET clinres.user_id (session level) by the application role: ignored, nothing leaked"

# Negative control: a session-level context (a superuser's) does leak under transaction pooling.
if user=postgres bench -t 50 -f "$dir/session.sql" >"$dir/control.out"; then
    cat "$dir/control.out"; fail "negative control: is_local => false did not leak, so the check above proves nothing"
fi
grep -q "division by zero" "$dir/control.out" || { cat "$dir/control.out"; fail "negative control failed for another reason"; }
echo "  is_local => false by a superuser: the leak is detected (negative control)"

# Sessions through the pooler: 4 clients at once hold the 4 server connections, each verifying
# the token (so each caches its session), then the session ends, then the same again.
q "INSERT INTO clinres.tenants (id, code, name) VALUES ('a0000000-0000-0000-0000-00000000000a', 'HOSP_A', 'A');
   INSERT INTO clinres.tenant_modules (tenant_id, module_code) VALUES ('a0000000-0000-0000-0000-00000000000a', 'aia');
   INSERT INTO clinres.users (id, email, name, password_hash) VALUES
     ('00000000-0000-0000-0000-0000000000a1', 'alice@x.example', 'Alice', crypt('alice-pw', gen_salt('bf', 4))),
     ('00000000-0000-0000-0000-0000000000b0', 'bob@x.example', 'Bob', crypt('bob-pw', gen_salt('bf', 4)));
   INSERT INTO clinres.user_tenants (tenant_id, user_id, role_code) VALUES
     ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a1', 'TENANT_ADMIN'),
     ('a0000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000b0', 'USER')" >/dev/null
pooled() { PGPASSWORD=bouncer-pw psql -X -At -h 127.0.0.1 -p "$port" -U clinres_bouncer -d "$db" -v ON_ERROR_STOP=1 "$@"; }
bob_token=$(pooled -c "SELECT clinres.login('bob@x.example', 'bob-pw') ->> 'token'")
alice_token=$(pooled -c "SELECT clinres.login('alice@x.example', 'alice-pw') ->> 'token'")
[ -n "$bob_token" ] && [ -n "$alice_token" ] || fail "login through pgbouncer returned no token"
requests() { # tag -> one line per client: the server pid and the outcome of begin_request(bob's token)
    for c in 1 2 3 4; do
        pooled -c "BEGIN" -c "SELECT pg_backend_pid() || ' ' || coalesce(clinres.begin_request('$bob_token', 'aia') ->> 'module', '?')" \
               -c "SELECT pg_sleep(0.3)" -c "COMMIT" >"$dir/$1.$c" 2>&1 &
    done
    wait
    for c in 1 2 3 4; do grep -v '^\(BEGIN\|COMMIT\|\)$' "$dir/$1.$c" | head -1; done
}
before=$(requests before)
echo "$before" | grep -vq ' aia$' && { echo "$before"; fail "bob's token did not work on every server connection"; }
pids=$(echo "$before" | awk '{print $1}' | sort -u | wc -l)
[ "$pids" -ge 2 ] || fail "expected the 4 clients on several server connections, got $pids"
session_id=$(pooled -c "SELECT clinres.logout('$bob_token')")
after=$(requests after)
echo "$after" | grep -vq 'invalid session token' && { echo "$after"; fail "bob's token still worked after logout on some server connection"; }
echo "  session token: worked on $pids server connections, refused (28000) on all of them right after logout"
# Revocation by an administrator, between two requests of the same client connection.
bob_token=$(pooled -c "SELECT clinres.login('bob@x.example', 'bob-pw') ->> 'token'")
before=$(requests before2)
echo "$before" | grep -vq ' aia$' && { echo "$before"; fail "bob's new token did not work"; }
revoked=$(pooled -c "BEGIN" -c "SELECT clinres.set_session('$alice_token') IS NOT NULL" \
                 -c "SELECT clinres.revoke_sessions('00000000-0000-0000-0000-0000000000b0')" -c "COMMIT" | sed -n 3p)
[ "$revoked" = 1 ] || fail "revoke_sessions ended '$revoked' sessions, expected 1"
after=$(requests after2)
echo "$after" | grep -vq 'invalid session token' && { echo "$after"; fail "bob's token still worked after revoke_sessions"; }
echo "  revoke_sessions by a TENANT_ADMIN: bob's token refused (28000) on every server connection at the next request"
echo "pgbouncer: 20 clients over $servers server connections from 127.0.0.1, set_context(is_local) never leaked; ended sessions refused at once"
