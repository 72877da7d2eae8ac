#!/usr/bin/env bash
# The Citus suite (docs/scale-out.md): builds a Citus cluster on localhost (a coordinator
# and two workers, a third worker added later) with the PostgreSQL that PG_CONFIG (or
# pg_config on PATH) names, in which Citus and clinres must be installed, and checks:
# fail-closed answers before distribution, clinres.distribute() and running it again,
# clinres.citus_check(), row-level security on distributed tables through router and
# multi-shard queries from the coordinator and from a worker, fresh answers on every node
# after grants and revokes, a node added later, and the per-row cost of both policy forms
# (figures only). Prints one skip line and exits 0 when Citus is not installed.
# Usage (repository root): test/citus/run.sh   (CLINRES_CITUS_PORT: first port tried, 5610)
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
PG_CONFIG=${PG_CONFIG:-pg_config}
pkglibdir=$("$PG_CONFIG" --pkglibdir) || fail "no pg_config"
if [ ! -f "$pkglibdir/citus.so" ]; then
    echo "citus: skipped, Citus is not installed in $pkglibdir (docs/scale-out.md says how to run this suite)"
    exit 0
fi
[ -f "$pkglibdir/clinres.so" ] || fail "clinres is not installed in $pkglibdir (make install first)"
bindir=$("$PG_CONFIG" --bindir)
export PATH=$bindir:$PATH
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE

base=$(mktemp -d /tmp/clinres-citus.XXXXXX)
chmod 755 "$base"
[ "$(id -u)" -eq 0 ] && chown postgres "$base"
coord=$(free_port "${CLINRES_CITUS_PORT:-5610}") || fail "no free port"
w1=$(free_port $((coord + 1))) && w2=$(free_port $((w1 + 1))) && w3=$(free_port $((w2 + 1))) || fail "no free port"
nodes=()

# Stops every node this run started and removes its files.
cleanup() {
    for p in "${nodes[@]}"; do (cd / && as_postgres "$bindir/pg_ctl" -D "$base/$p" -m immediate -w stop >/dev/null 2>&1); done
    jobs -p | xargs -r kill 2>/dev/null
    rm -rf "$base"
}
trap cleanup EXIT

# psql on node PORT as USER (default postgres): unaligned, tuples only, stops at the first error.
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$base" -p "$1" -U "${3:-postgres}" -d postgres -c "$2"; }
# The SQLSTATE of SQL on node PORT (as USER), or "ok" when it succeeds.
sqlstate() {
    local out
    if out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -h "$base" -p "$1" -U "${3:-postgres}" -d postgres -c "$2" 2>&1 >/dev/null); then
        echo ok
    else
        echo "$out" | sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p' | head -1
    fi
}

passed=0 failed=0
# Compares an answer with the expected one and reports it.
check() {
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)); echo "ok - $1"
    else
        failed=$((failed + 1)); echo "not ok - $1"; echo "    expected: $2"; echo "    got:      $3"
    fi
}

# initdb, configure and start node PORT, with Citus (preloaded first) and clinres installed.
start_node() {
    local port=$1 data=$base/$1
    (cd / && as_postgres "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null) \
        || fail "initdb of node $port"
    cat >>"$data/postgresql.conf" <<EOF
port = $port
listen_addresses = 'localhost'
unix_socket_directories = '$base'
shared_preload_libraries = 'citus'
max_connections = 100
max_prepared_transactions = 100
wal_level = logical
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    nodes+=("$port")
    (cd / && as_postgres "$bindir/pg_ctl" -D "$data" -l "$data.log" -w -t 60 start >/dev/null) || { cat "$data.log"; fail "start of node $port"; }
    sql "$port" "CREATE EXTENSION citus" || fail "CREATE EXTENSION citus on node $port"
}

# Long-lived psql sessions (like an application's pooled connection): open, then query.
open_session() {
    local name=$1
    mkfifo "$base/$name.in"
    psql -X -q -At -h "$base" -p "$2" -U "$3" -d postgres <"$base/$name.in" >"$base/$name.log" 2>&1 &
    exec {fd}>"$base/$name.in"
    eval "session_$name=$fd"
}
in_session() {
    local name=$1 fdvar="session_$1"
    rm -f "$base/$name.done"
    printf '\\o %s\n%s\n\\o\n\\! touch %s\n' "$base/$name.out" "$2" "$base/$name.done" >&"${!fdvar}"
    for _ in $(seq 1200); do [ -e "$base/$name.done" ] && break; sleep 0.05; done
    [ -e "$base/$name.done" ] || fail "session $name did not answer: $(tail -3 "$base/$name.log")"
    tr '\n' ' ' <"$base/$name.out" | sed 's/ $//'
}

A=a0000000-0000-0000-0000-00000000000a B=b0000000-0000-0000-0000-00000000000b
alice=00000000-0000-0000-0000-0000000000a1 bob=00000000-0000-0000-0000-0000000000b0
carol=00000000-0000-0000-0000-0000000000c0 erin=00000000-0000-0000-0000-0000000000e0

echo "citus: $("$bindir/postgres" --version) with Citus from $pkglibdir; nodes on ports $coord (coordinator), $w1, $w2 (workers), $w3 (added later)"
for p in "$coord" "$w1" "$w2"; do start_node "$p"; done
sql "$coord" "SELECT citus_set_coordinator_host('localhost', $coord)" >/dev/null
sql "$coord" "SELECT citus_add_node('localhost', $w1)" >/dev/null
sql "$coord" "SELECT citus_add_node('localhost', $w2)" >/dev/null
echo "cluster up: $(sql "$coord" "SELECT string_agg(nodeport::text || CASE WHEN groupid = 0 THEN ' (coordinator)' ELSE '' END, ', ' ORDER BY groupid) FROM pg_dist_node")"

# --- before distribute: CREATE EXTENSION reaches the workers, whose own copy is empty -------------
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h "$base" -p "$coord" -U postgres -d postgres \
    -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql >/dev/null || fail "CREATE EXTENSION clinres"
check "clinres is on every node" "3" "$(sql "$coord" "SELECT count(*) FROM run_command_on_all_nodes(\$\$SELECT extversion FROM pg_extension WHERE extname = 'clinres'\$\$) WHERE success")"
check "before distribute: has_module on a worker fails closed (55000), never answers from its empty copy" "55000" \
    "$(sqlstate "$w1" "SELECT clinres.has_module('$alice', '$A', 'aia')")"
check "before distribute: the coordinator answers from its catalog" "t" "$(sql "$coord" "SELECT clinres.has_module('$alice', '$A', 'aia')")"
check "citus_check before distribute: no node ok" "0" "$(sql "$coord" "SELECT count(*) FILTER (WHERE ok) FROM clinres.citus_check()")"
check "distribute on a worker is refused (55000)" "55000" "$(sqlstate "$w1" "SELECT * FROM clinres.distribute()")"
# The wrong answer the issue found: a shard query on a worker whose catalog is its own empty copy.
sql "$coord" "CREATE ROLE clinres_citus_app LOGIN" && sql "$coord" "GRANT clinres_app TO clinres_citus_app" || fail "role"
sql "$coord" "
    CREATE TABLE public.before (tenant_id uuid NOT NULL, body text);
    SELECT create_distributed_table('public.before', 'tenant_id');
    INSERT INTO public.before SELECT '$A', 'b' || i FROM generate_series(1, 10) i;" >/dev/null || fail "table before distribute"
# (one statement per call: Citus sends a utility statement's whole query string to the workers)
sql "$coord" "ALTER TABLE public.before ENABLE ROW LEVEL SECURITY" && sql "$coord" "GRANT SELECT ON public.before TO clinres_citus_app" \
    && sql "$coord" "CREATE POLICY p ON public.before USING (tenant_id = clinres.current_tenant_id()
        AND clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), 'aia'))" || fail "policy before distribute"
check "before distribute: a shard query for a member with access fails closed (55000) instead of 0 rows" "55000" \
    "$(sqlstate "$coord" "BEGIN; SELECT clinres.set_context('$alice', '$A'); SELECT count(*) FROM public.before; COMMIT;" clinres_citus_app)"
# A module policy made before distribution (the form with initPlans) ...
sql "$coord" "CREATE TABLE public.early (tenant_id uuid NOT NULL, body text); SELECT clinres.enable_module_rls('public.early', 'aia')" >/dev/null
check "before distribute: enable_module_rls writes the initPlan form" "t" \
    "$(sql "$coord" "SELECT pg_get_expr(polqual, polrelid) ~ 'SELECT' FROM pg_policy WHERE polrelid = 'public.early'::regclass")"

# A live session of Carol in B: distribute() must not end it (truncating the shells fires their
# TRUNCATE triggers; the rows are in the placements by then).
S=5e550000-0000-0000-0000-00000000000c
sql "$coord" "INSERT INTO clinres.sessions (tenant_id, id, user_id, expires_at) VALUES ('$B', '$S', '$carol', now() + interval '1 day')" \
    || fail "session before distribute"

# --- distribute -----------------------------------------------------------------------------------
tables=$(sql "$coord" "SELECT count(*) FROM clinres._catalog_tables_in_fk_order()")
out=$(sql "$coord" "SELECT step, object, action FROM clinres.distribute()") || fail "distribute: $out"
echo "$out" | sed 's/^/    /'
check "distribute made every catalog table a reference table" "$tables" "$(echo "$out" | grep -c '|made a reference table$')"
check "distribute removed the rows left in the shells" "$tables" "$(echo "$out" | grep -c '|removed the local rows left in the shell$')"
check "distribute rewrote the early policy" "1" "$(echo "$out" | grep -c '|policy clinres_module_aia on public.early|rewritten without subqueries$')"
check "the catalog tables are reference tables, in foreign-key order" "0" "$(sql "$coord" "
    SELECT count(*) FROM pg_constraint f
      JOIN pg_dist_partition c ON c.logicalrelid = f.conrelid JOIN pg_dist_partition p ON p.logicalrelid = f.confrelid
     WHERE f.contype = 'f' AND f.connamespace = 'clinres'::regnamespace AND f.conrelid <> f.confrelid
       AND (c.partmethod, c.repmodel, p.partmethod, p.repmodel) <> ('n', 't', 'n', 't')")"
check "the shells on the coordinator hold no rows (0 bytes)" "0" "$(sql "$coord" "SELECT sum(pg_relation_size(t)) FROM clinres._catalog_tables_in_fk_order() t")"
out2=$(sql "$coord" "SELECT action FROM clinres.distribute()")
check "distribute again: nothing to do (idempotent)" "$tables already a reference table, every node has a copy of the reference tables" \
    "$(echo "$out2" | grep -c '^already a reference table$') already a reference table, $(echo "$out2" | grep -v '^already a reference table$')"
check "citus_check: every node ok" "3 of 3" "$(sql "$coord" "SELECT count(*) FILTER (WHERE ok) || ' of ' || count(*) FROM clinres.citus_check()")"
sql "$coord" "SELECT node, ok, detail FROM clinres.citus_check()" | sed 's/^/    /'
check "no node allows nested distributed execution database-wide (clinres scopes it to its own read)" "off off off" \
    "$(sql "$coord" "SELECT string_agg(result, ' ') FROM run_command_on_all_nodes(\$\$SELECT current_setting('citus.allow_nested_distributed_execution')\$\$)")"
# ALTER EXTENSION UPDATE on the coordinator runs the script there and again on each worker
# (with DDL propagation off): the upgrade script's citus section (up to its last statement)
# must run twice anywhere.
check "the upgrade script's citus section runs twice on the coordinator and on a worker" "ok ok ok ok" \
    "$(for p in "$coord" "$coord" "$w1" "$w1"; do sed -n '/^-- citus$/,/^REVOKE ALL ON FUNCTION clinres.citus_check() FROM PUBLIC;$/p' versions/clinres--0.1.0--0.2.0.sql | sed 's|MODULE_PATHNAME|$libdir/clinres|' \
        | PGOPTIONS="-c citus.enable_ddl_propagation=off -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h "$base" -p "$p" -U postgres -d postgres >/dev/null 2>&1 \
        && echo ok || echo failed; done | tr '\n' ' ' | sed 's/ $//')"
answers="SELECT string_agg(clinres.has_module(u, t, m)::text, ',' ORDER BY n)
           FROM (VALUES (1, '$alice'::uuid, '$A'::uuid, 'aia'), (2, '$bob', '$A', 'aia'), (3, '$bob', '$A', 'dc'),
                        (4, '$carol', '$A', 'aia'), (5, '$carol', '$B', 'aia')) v(n, u, t, m)"
for p in "$coord" "$w1" "$w2"; do
    check "has_module on node $p answers from the reference tables" "true,true,false,false,true" "$(sql "$p" "$answers")"
done

# --- clinres's triggers fire on every node's placement and change that node's copy ------------------
# ("OK" when every placement (3 nodes) answers the expected value)
on_placements() { sql "$coord" "SELECT CASE WHEN count(*) FILTER (WHERE success AND result = '$3') = 3 THEN 'OK' ELSE string_agg(nodeport || ':' || result, ' ') END
                                  FROM run_command_on_placements('$1', \$\$$2\$\$)"; }
check "distribute left Carol's live session live on every node" "OK" \
    "$(on_placements clinres.sessions "SELECT coalesce(end_reason, 'live') FROM %s WHERE id = '$S'" live)"
sql "$coord" "UPDATE clinres.user_tenants SET status = 'disabled' WHERE user_id = '$carol' AND tenant_id = '$B'" || fail "disable Carol"
check "a membership disabled ends its sessions on every node (end_sessions triggers)" "OK" \
    "$(on_placements clinres.sessions "SELECT end_reason FROM %s WHERE id = '$S'" membership_ended)"
sql "$coord" "UPDATE clinres.user_tenants SET status = 'active' WHERE user_id = '$carol' AND tenant_id = '$B'" || fail "enable Carol"
sql "$coord" "INSERT INTO clinres.former_members (tenant_id, user_id) VALUES ('$B', '$alice')" \
    && sql "$coord" "INSERT INTO clinres.user_tenants (tenant_id, user_id) VALUES ('$B', '$alice')" || fail "Alice joins B"
check "a former member who joins again is forgotten on every node (forget_former_member)" "OK" \
    "$(on_placements clinres.former_members "SELECT count(*) FROM %s WHERE user_id = '$alice'" 0)"
check "a new membership copies the user's name on every node (user_copy)" "OK" \
    "$(on_placements clinres.user_tenants "SELECT user_name = (SELECT name FROM clinres.users_$(sql "$coord" "SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'clinres.users'::regclass") WHERE id = '$alice') FROM %s WHERE user_id = '$alice' AND tenant_id = '$B'" t)"
sql "$coord" "DELETE FROM clinres.user_tenants WHERE user_id = '$alice' AND tenant_id = '$B'" || fail "Alice leaves B"
sql "$coord" "UPDATE clinres.users SET name = 'Bob Renamed' WHERE id = '$bob'" || fail "rename Bob"
check "a renamed user's memberships follow on every node (user_copy on users)" "OK" \
    "$(on_placements clinres.user_tenants "SELECT string_agg(DISTINCT user_name, ',') FROM %s WHERE user_id = '$bob'" "Bob Renamed")"
sql "$coord" "INSERT INTO clinres.modules (code, name, schema_name, route) VALUES ('zz', 'Z', 'zz_schema', '/zz')" \
    && sql "$coord" "INSERT INTO clinres.user_modules (tenant_id, user_id, module_code, is_enabled) VALUES ('$A', '$erin', 'zz', true)" \
    && sql "$coord" "DELETE FROM clinres.modules WHERE code = 'zz'" || fail "module zz"
check "a module deleted leaves its members a disabled row for every other module on every node (keep_module_configs)" "OK" \
    "$(on_placements clinres.user_modules "SELECT count(*) FILTER (WHERE NOT is_enabled) FROM %s WHERE user_id = '$erin' AND tenant_id = '$A'" \
        "$(sql "$coord" "SELECT count(*) FROM clinres.modules")")"
sql "$coord" "DELETE FROM clinres.user_modules WHERE user_id = '$erin' AND tenant_id = '$A'" || fail "Erin's configuration"

# --- row-level security on distributed tables -----------------------------------------------------
sql "$coord" "
    CREATE TABLE public.notes (tenant_id uuid NOT NULL, id int NOT NULL, body text);
    SELECT create_distributed_table('public.notes', 'tenant_id');
    INSERT INTO public.notes SELECT CASE WHEN i % 3 = 0 THEN '$B'::uuid ELSE '$A' END, i, 'n' || i FROM generate_series(1, 3000) i;
    SELECT clinres.enable_module_rls('public.notes', 'aia');
    SELECT create_distributed_table('public.early', 'tenant_id');
    INSERT INTO public.early SELECT '$A', 'e' || i FROM generate_series(1, 10) i;
    GRANT SELECT ON public.notes, public.early TO clinres_citus_app;" >/dev/null || fail "distributed tables"
check "enable_module_rls on a distributed table writes the form without subqueries" \
    "((tenant_id = clinres.current_tenant_id()) AND clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), 'aia'::text))" \
    "$(sql "$coord" "SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'public.notes'::regclass")"
check "the rewritten early policy let create_distributed_table through" "h" "$(sql "$coord" "SELECT partmethod FROM pg_dist_partition WHERE logicalrelid = 'public.early'::regclass")"
check "the policy is on every shard" "32" "$(sql "$coord" "SELECT count(*) FROM run_command_on_shards('public.notes', \$\$SELECT count(*) FROM pg_policy WHERE polrelid = '%s'::regclass\$\$) WHERE result = '1'")"
visible() { # PORT USER TENANT [WHERE]: the rows the app sees with that context, in one transaction
    psql -X -q -At -v ON_ERROR_STOP=1 -h "$base" -p "$1" -U clinres_citus_app -d postgres <<SQL 2>&1 | tail -1
BEGIN;
SELECT clinres.set_context('$2', '$3') IS NULL;
SELECT count(*) FROM public.notes ${4:-};
COMMIT;
SQL
}
for p in "$coord" "$w1"; do
    where="on node $p"; [ "$p" = "$coord" ] && where="from the coordinator" || where="from worker $p"
    check "multi-shard, $where: Alice in A sees A's 2000 rows" "2000" "$(visible "$p" "$alice" "$A")"
    check "router, $where: Alice in A, WHERE tenant_id = A" "2000" "$(visible "$p" "$alice" "$A" "WHERE tenant_id = '$A'")"
    check "router, $where: Alice in A, WHERE tenant_id = B" "0" "$(visible "$p" "$alice" "$A" "WHERE tenant_id = '$B'")"
    check "multi-shard, $where: Carol in B sees B's 1000 rows" "1000" "$(visible "$p" "$carol" "$B")"
    check "multi-shard, $where: Carol in A (not a member) sees nothing" "0" "$(visible "$p" "$carol" "$A")"
done
check "begin_request sets the context for the workers too: Alice in A sees A's 2000 rows" "2000" \
    "$(psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres -c "BEGIN" -c "SELECT clinres.begin_request('$alice', '$A', 'aia') IS NOT NULL" -c "SELECT count(*) FROM public.notes" -c "COMMIT" | tail -1)"
check "the router query is one task" "1" "$(psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM public.notes WHERE tenant_id = '$A'" | sed -n 's/.*Task Count: //p')"
check "the multi-shard query is 32 tasks" "32" "$(psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM public.notes" | sed -n 's/.*Task Count: //p')"
check "early table: Alice sees its 10 rows through the rewritten policy" "10" "$(psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres -c "BEGIN" -c "SELECT clinres.set_context('$alice', '$A')" -c "SELECT count(*) FROM public.early" -c "COMMIT" | sed -n 2p)"
check "without a context nothing is visible" "0" "$(sql "$coord" "SELECT count(*) FROM public.notes" clinres_citus_app)"
check "a session-level context is refused by default (42501)" "42501" \
    "$(sqlstate "$coord" "SELECT clinres.set_context('$alice', '$A', false)" clinres_citus_app)"
sql "$coord" "ALTER ROLE clinres_citus_app SET clinres.allow_session_context = on"
check "an allowed session-level context does not reach the workers: nothing visible (fails closed)" "0" \
    "$(psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres -c "SELECT clinres.set_context('$alice', '$A', false)" -c "SELECT count(*) FROM public.notes" | tail -1)"
sql "$coord" "ALTER ROLE clinres_citus_app RESET clinres.allow_session_context"
check "the context ends with the transaction (SET LOCAL semantics) on the workers too" "0" \
    "$(psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres -c "BEGIN" -c "SELECT clinres.set_context('$alice', '$A')" -c "COMMIT" -c "SELECT count(*) FROM public.notes" | tail -1)"

# Shard queries that the workers run with parallel workers (Citus cannot run a query in a
# parallel worker; clinres reads the placements there).
sql "$coord" "SET citus.shard_count = 2; CREATE TABLE public.big (tenant_id uuid NOT NULL, id int);
    SELECT create_distributed_table('public.big', 'tenant_id');
    INSERT INTO public.big SELECT CASE WHEN i % 4 = 0 THEN '$B'::uuid ELSE '$A' END, i FROM generate_series(1, 200000) i;
    SELECT clinres.enable_module_rls('public.big', 'aia');
    GRANT SELECT ON public.big TO clinres_citus_app;" >/dev/null || fail "table big"
for p in "$w1" "$w2"; do
    for setting in parallel_setup_cost parallel_tuple_cost min_parallel_table_scan_size; do sql "$p" "ALTER SYSTEM SET $setting = 0"; done
    sql "$p" "SELECT pg_reload_conf()" >/dev/null
done
sleep 0.5
# (The context readers are PARALLEL RESTRICTED, so a module policy keeps its scan out of
# parallel workers; has_module with the user and the row's tenant is parallel safe.)
in_parallel() { sql "$coord" "SELECT count(*) FROM public.big WHERE clinres.has_module('$1', tenant_id, 'aia')"; }
check "a shard query runs has_module in parallel workers on a worker (EXPLAIN shows one task)" "1" \
    "$(sql "$coord" "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*) FROM public.big WHERE clinres.has_module('$alice', tenant_id, 'aia')" | grep -c 'Workers Launched: [1-9]')"
check "in parallel workers on the workers: Alice has aia in A's 150000 rows, Carol in B's 50000, Erin (SUPER_ADMIN) in all" "150000 50000 200000" \
    "$(in_parallel "$alice") $(in_parallel "$carol") $(in_parallel "$erin")"
for p in "$w1" "$w2"; do  # (RESET ALL would also drop the ssl = on that CREATE EXTENSION citus set)
    for setting in parallel_setup_cost parallel_tuple_cost min_parallel_table_scan_size; do sql "$p" "ALTER SYSTEM RESET $setting"; done
    sql "$p" "SELECT pg_reload_conf()" >/dev/null
done

# --- freshness: long-lived application sessions on the coordinator and on a worker see every grant and
# --- revoke made by an administrator in another session, at their next transaction ---------------------
open_session appc "$coord" clinres_citus_app
open_session appw "$w2" clinres_citus_app
count_in() { in_session "$1" "BEGIN; SELECT clinres.set_context('$2', '$A') IS NULL; SELECT count(*) FROM public.notes; SELECT count(*) FROM public.notes WHERE tenant_id = '$A'; COMMIT;" | awk '{print $2 "/" $3}'; }
check "Bob (aia on) sees A's rows, coordinator session (multi-shard/router)" "2000/2000" "$(count_in appc "$bob")"
check "Bob (aia on) sees A's rows, worker session" "2000/2000" "$(count_in appw "$bob")"
for round in 1 2 3; do
    sql "$coord" "UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = '$bob' AND module_code = 'aia'"
    check "round $round: Bob's aia revoked -> coordinator session sees nothing" "0/0" "$(count_in appc "$bob")"
    check "round $round: Bob's aia revoked -> worker session sees nothing" "0/0" "$(count_in appw "$bob")"
    sql "$coord" "UPDATE clinres.user_modules SET is_enabled = true WHERE user_id = '$bob' AND module_code = 'aia'"
    check "round $round: Bob's aia granted again -> coordinator session sees A's rows" "2000/2000" "$(count_in appc "$bob")"
    check "round $round: Bob's aia granted again -> worker session sees A's rows" "2000/2000" "$(count_in appw "$bob")"
done
sql "$coord" "UPDATE clinres.tenant_modules SET is_enabled = false WHERE tenant_id = '$A' AND module_code = 'aia'"
check "A's subscription to aia off -> Alice sees nothing (coordinator, worker)" "0/0 0/0" "$(count_in appc "$alice") $(count_in appw "$alice")"
sql "$coord" "UPDATE clinres.tenant_modules SET is_enabled = true WHERE tenant_id = '$A' AND module_code = 'aia'"
sql "$coord" "UPDATE clinres.user_tenants SET status = 'disabled' WHERE user_id = '$alice'"
check "Alice's membership disabled -> she sees nothing (coordinator, worker)" "0/0 0/0" "$(count_in appc "$alice") $(count_in appw "$alice")"
sql "$coord" "UPDATE clinres.user_tenants SET status = 'active' WHERE user_id = '$alice'"
check "Alice's membership active again -> A's rows (coordinator, worker)" "2000/2000 2000/2000" "$(count_in appc "$alice") $(count_in appw "$alice")"

# --- a node added later -----------------------------------------------------------------------------
start_node "$w3"
sql "$coord" "SELECT citus_add_node('localhost', $w3)" >/dev/null
check "citus_check after adding a node: the new node is not ok (no copy)" "localhost:$w3|f" \
    "$(sql "$coord" "SELECT node, ok FROM clinres.citus_check() WHERE NOT ok")"
check "has_module on the new node fails closed (55000)" "55000" "$(sqlstate "$w3" "SELECT clinres.has_module('$alice', '$A', 'aia')")"
check "distribute copies the reference tables to the new node" "copied the reference tables to 1 node(s) that had none" \
    "$(sql "$coord" "SELECT action FROM clinres.distribute() WHERE object = 'nodes'")"
check "citus_check: every node ok, 4 nodes" "4 of 4" "$(sql "$coord" "SELECT count(*) FILTER (WHERE ok) || ' of ' || count(*) FROM clinres.citus_check()")"
check "has_module on the new node answers" "true,true,false,false,true" "$(sql "$w3" "$answers")"
shard=$(sql "$coord" "SELECT shardid FROM pg_dist_shard_placement WHERE nodeport = $w1 AND shardid IN (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'public.notes'::regclass AND get_shard_id_for_distribution_column('public.notes', '$A') = shardid)")
if [ -z "$shard" ]; then shard=$(sql "$coord" "SELECT get_shard_id_for_distribution_column('public.notes', '$A')"); fi
from=$(sql "$coord" "SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $shard")
sql "$coord" "SELECT citus_move_shard_placement($shard, 'localhost', $from, 'localhost', $w3, 'block_writes')" >/dev/null || fail "shard move"
check "tenant A's shard now lives on the new node" "$w3" "$(sql "$coord" "SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $shard")"
open_session appn "$w3" clinres_citus_app
check "router query on the moved shard, session on the new node: Bob sees A's rows" "2000/2000" "$(count_in appn "$bob")"
sql "$coord" "UPDATE clinres.user_modules SET is_enabled = false WHERE user_id = '$bob' AND module_code = 'aia'"
check "revoke -> the new node's session and the coordinator's see nothing" "0/0 0/0" "$(count_in appn "$bob") $(count_in appc "$bob")"
sql "$coord" "UPDATE clinres.user_modules SET is_enabled = true WHERE user_id = '$bob' AND module_code = 'aia'"
check "grant -> the new node's session and the coordinator's see A's rows" "2000/2000 2000/2000" "$(count_in appn "$bob") $(count_in appc "$bob")"

# --- per-row cost of the two policy forms (figures only, never a failure) -------------------------------
rows=200000
sql "$coord" "
    CREATE TABLE public.cost_plain AS SELECT '$A'::uuid AS tenant_id, i AS id FROM generate_series(1, $rows) i;
    CREATE TABLE public.cost_row (LIKE public.cost_plain); INSERT INTO public.cost_row SELECT * FROM public.cost_plain;
    CREATE TABLE public.cost_none (LIKE public.cost_plain); INSERT INTO public.cost_none SELECT * FROM public.cost_plain;
    CREATE TABLE public.cost_dist (LIKE public.cost_plain); SELECT create_distributed_table('public.cost_dist', 'tenant_id');
    CREATE TABLE public.cost_dist_none (LIKE public.cost_plain); SELECT create_distributed_table('public.cost_dist_none', 'tenant_id');
    INSERT INTO public.cost_dist SELECT * FROM public.cost_plain; INSERT INTO public.cost_dist_none SELECT * FROM public.cost_plain;
    ALTER TABLE public.cost_plain ENABLE ROW LEVEL SECURITY;
    CREATE POLICY plain ON public.cost_plain USING (tenant_id = (SELECT clinres.current_tenant_id())
        AND (SELECT clinres.has_module(clinres.current_user_id(), clinres.current_tenant_id(), 'aia')));
    SELECT clinres.enable_module_rls('public.cost_row', 'aia'), clinres.enable_module_rls('public.cost_dist', 'aia');
    GRANT SELECT ON public.cost_plain, public.cost_row, public.cost_none, public.cost_dist, public.cost_dist_none TO clinres_citus_app;" >/dev/null || fail "tables for the policy cost"
sql "$coord" "VACUUM ANALYZE public.cost_plain, public.cost_row, public.cost_none" >/dev/null
best_ms() { # TABLE: the best of 5 count(*) as the app with Alice's context, in ms
    psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -g | head -1
SET max_parallel_workers_per_gather = 0;
BEGIN;
SELECT clinres.set_context('$alice', '$A');
\timing on
SELECT count(*) FROM public.$1;
SELECT count(*) FROM public.$1;
SELECT count(*) FROM public.$1;
SELECT count(*) FROM public.$1;
SELECT count(*) FROM public.$1;
\timing off
COMMIT;
SQL
}
none=$(best_ms cost_none) plain=$(best_ms cost_plain) perrow=$(best_ms cost_row) dnone=$(best_ms cost_dist_none) drow=$(best_ms cost_dist)
check "both policy forms show every row to Alice" "$rows $rows $rows" "$(for t in cost_plain cost_row cost_dist; do psql -X -q -At -h "$base" -p "$coord" -U clinres_citus_app -d postgres -c "BEGIN" -c "SELECT clinres.set_context('$alice', '$A')" -c "SELECT count(*) FROM public.$t" -c "COMMIT" | sed -n 2p; done | tr '\n' ' ' | sed 's/ $//')"
awk -v r="$rows" -v n="$none" -v p="$plain" -v w="$perrow" -v dn="$dnone" -v dw="$drow" 'BEGIN {
    printf "per-row policy cost, count(*) over %d rows, best of 5 (figures only):\n", r
    printf "    local table, no RLS:                            %8.1f ms\n", n
    printf "    local table, initPlan form (plain PostgreSQL):  %8.1f ms  %6.1f ns/row\n", p, (p - n) * 1e6 / r
    printf "    local table, per-row form (Citus):              %8.1f ms  %6.1f ns/row\n", w, (w - n) * 1e6 / r
    printf "    distributed table (32 shards, 2 workers), no RLS:  %5.1f ms\n", dn
    printf "    distributed table, per-row form:               %8.1f ms  %6.1f ns/row (wall clock, shards in parallel)\n", dw, (dw - dn) * 1e6 / r }'

# --- a node that is down ------------------------------------------------------------------------------
(cd / && as_postgres "$bindir/pg_ctl" -D "$base/$w3" -m immediate -w stop >/dev/null 2>&1)
check "citus_check: a node that is down is reported, the others are ok" "localhost:$w3|false|unreachable 3" \
    "$(sql "$coord" "SELECT node || '|' || ok::text || '|' || split_part(detail, ':', 1) FROM clinres.citus_check() WHERE NOT ok") $(sql "$coord" "SELECT count(*) FROM clinres.citus_check() WHERE ok")"

echo "citus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
