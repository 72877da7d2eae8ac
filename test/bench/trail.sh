#!/usr/bin/env bash
# Audit-trail benchmark (figures only, never fails on time), in database clinres_bench_trail of the
# cluster that PGHOST/PGPORT name:
# 1. the cost of a mutation (set_user_modules, one audit row, its own transaction) with the hash
#    chain and a change reason, against the same with the chain trigger off and no reason: the
#    ratio of the medians of rounds of N calls each (goal <= 1.2);
# 2. verify_admin_logs over 1,000,000 rows in 11 chains (goal < 5 s), and the bulk insert that chained them;
# 3. the cost per row of one statement of many audit rows in a fresh session (as import_users
#    writes them): rows/s of 5,000 and of 50,000 rows, each in a new database; a ratio near 1 is
#    linear (the chain trigger's head lookup was once a scan per row: quadratic).
# Usage (repository root, clinres installed): test/bench/trail.sh [N] [ROUNDS] [1: part 1 only]
set -euo pipefail
cd "$(dirname "$0")/../.."
db=clinres_bench_trail n=${1:-2000} rounds=${2:-5} parts=${3:-123}
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $(psql -XAtc 'show server_version'), shared_buffers $(psql -XAtc 'show shared_buffers')"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
PGOPTIONS="-c client_min_messages=warning" q -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql >/dev/null
# The "without" runs need unchained rows to be accepted.
q -c "ALTER TABLE clinres.admin_logs ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN row_hash DROP NOT NULL"
q <<'SQL'
CREATE PROCEDURE public.mutate(n int, reason boolean) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM clinres.set_context('00000000-0000-0000-0000-0000000000a1', 'a0000000-0000-0000-0000-00000000000a', false);
    FOR i IN 1..n LOOP
        IF reason THEN PERFORM set_config('clinres.change_reason', 'CR-' || i, true); END IF;
        PERFORM clinres.set_user_modules('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a',
                                         CASE WHEN i % 2 = 0 THEN ARRAY['aia'] ELSE ARRAY['aia', 'pkb'] END);
        COMMIT;
    END LOOP;
END $$;
SQL
# The rounds run in one session (as an application's pooled connection would), whose backend's CPU
# time is read from /proc too (when the server runs on this machine): on a loaded machine the wall
# time counts the waits for a core, the CPU time what a mutation costs.
coproc M { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db"; }
echo "SELECT pg_backend_pid();" >&"${M[1]}"; read -r mpid <&"${M[0]}"
cpu_of() { [ -r "/proc/$1/stat" ] && awk -v t="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000000 / t)}' "/proc/$1/stat" || echo 0; }
# One round: N mutations, each committed; prints microseconds of wall and of backend CPU time per mutation.
round() {
    local with=$1
    echo "ALTER TABLE clinres.admin_logs $([ "$with" = 1 ] && echo 'ENABLE ALWAYS' || echo DISABLE) TRIGGER chain;" >&"${M[1]}"
    local t0=$(date +%s%N) c0=$(cpu_of "$mpid")
    echo "CALL public.mutate($n, $([ "$with" = 1 ] && echo true || echo false)); SELECT 'done';" >&"${M[1]}"
    read -r _ <&"${M[0]}"
    echo "$(( ($(date +%s%N) - t0) / 1000 / n )) $(( ($(cpu_of "$mpid") - c0) / n ))"
}
round 1 >/dev/null; round 0 >/dev/null   # warm-up
with=() without=() with_cpu=() without_cpu=()
for r in $(seq 1 "$rounds"); do
    read -r w c < <(round 0); without+=("$w"); without_cpu+=("$c")
    read -r w c < <(round 1); with+=("$w"); with_cpu+=("$c")
done
echo '\q' >&"${M[1]}"; wait "$M_PID" 2>/dev/null || true
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
mw=$(median "${with[@]}") mo=$(median "${without[@]}")
cw=$(median "${with_cpu[@]}") co=$(median "${without_cpu[@]}")
echo "mutation (set_user_modules, 1 audit row, own transaction), $rounds rounds of $n, alternating, one session:"
echo "  without chain/reason: ${without[*]} us, median $mo us; backend CPU ${without_cpu[*]} us, median $co us"
echo "  with chain+reason:    ${with[*]} us, median $mw us; backend CPU ${with_cpu[*]} us, median $cw us"
echo "  ratio: $(echo "scale=3; $mw / $mo" | bc) wall, $( [ "$co" -gt 0 ] && echo "scale=3; $cw / $co" | bc || echo '?') backend CPU (goal <= 1.2)"
if [ "$parts" = 1 ]; then psql -X -q -d postgres -c "DROP DATABASE $db"; exit 0; fi

# 2. 1,000,000 chained rows: 10 tenants and the platform chain, inserted in one statement.
q -c "ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER chain" -c "ALTER TABLE clinres.admin_logs DISABLE TRIGGER append_only" \
  -c "DELETE FROM clinres.admin_logs" -c "DELETE FROM clinres.admin_log_chains" \
  -c "ALTER TABLE clinres.admin_logs ENABLE ALWAYS TRIGGER append_only"
t0=$(date +%s%N)
q -c "SET clinres.change_reason = 'bench'" -c "INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
      SELECT '00000000-0000-0000-0000-0000000000a1', CASE WHEN i % 11 = 0 THEN NULL ELSE md5((i % 11)::text)::uuid END,
             'tenant.modules', gen_random_uuid()::text,
             jsonb_build_object('before', jsonb_build_object('modules', ARRAY['aia']), 'after', jsonb_build_object('modules', ARRAY['aia', 'pkb']))
        FROM generate_series(1, 1000000) i"
echo "bulk insert of 1,000,000 chained rows (one statement): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
q -c "VACUUM ANALYZE clinres.admin_logs"
# The backend's CPU time too (from /proc, when the server runs on this machine): on a loaded
# machine the wall time counts the waits for a core, the CPU time what verifying costs.
coproc V { psql -X -q -At -d "$db"; }
echo "SELECT pg_backend_pid();" >&"${V[1]}"; read -r vpid <&"${V[0]}"
cpu_ms() { [ -r "/proc/$vpid/stat" ] && awk -v t="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / t)}' "/proc/$vpid/stat" || echo 0; }
for r in 1 2 3; do
    t0=$(date +%s%N) c0=$(cpu_ms)
    echo "SELECT count(*), sum(rows), bool_and(ok) FROM clinres.verify_admin_logs();" >&"${V[1]}"; read -r out <&"${V[0]}"
    echo "verify_admin_logs() over 1,000,000 rows: $(( ($(date +%s%N) - t0) / 1000000 )) ms, backend CPU $(( $(cpu_ms) - c0 )) ms (chains|rows|ok: $out; goal < 5000 ms)"
done
echo '\q' >&"${V[1]}"; wait "$V_PID" 2>/dev/null || true

# 3. One statement of N rows in a fresh session and a fresh database: rows per second.
bulk_rate() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ${db}_bulk" -c "CREATE DATABASE ${db}_bulk"
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -d "${db}_bulk" -c "CREATE EXTENSION clinres CASCADE" >/dev/null
    local t0=$(date +%s%N)
    psql -X -q -v ON_ERROR_STOP=1 -d "${db}_bulk" -c "INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)
          SELECT NULL, CASE WHEN i % 11 = 0 THEN NULL ELSE md5((i % 11)::text)::uuid END, 'user.create', gen_random_uuid()::text,
                 jsonb_build_object('email', 'u' || i || '@example.org', 'name', 'User ' || i)
            FROM generate_series(1, $1) i"
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    psql -X -q -d postgres -c "DROP DATABASE ${db}_bulk"
    echo $(( $1 * 1000 / (ms > 0 ? ms : 1) ))
}
small=$(bulk_rate 5000) large=$(bulk_rate 50000)
echo "one statement of audit rows, fresh session: 5,000 rows $small rows/s, 50,000 rows $large rows/s"
echo "  ratio (rows/s of 5,000 / of 50,000): $(echo "scale=2; $small / $large" | bc) (1 is linear; quadratic would be about 10)"
echo "machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"
psql -X -q -d postgres -c "DROP DATABASE $db"
