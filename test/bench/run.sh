#!/usr/bin/env bash
# Benchmarks, in one throw-away cluster, each measured side by side in this run:
# - access: builds 100 tenants, 10,000 users and a 1M-row RLS table, and prints
#   (a) per-row cost, (b) pgbench TPS, (c) RLS count(*), (d) cache footprint;
# - access cache (test/bench/cache.sh, clinres preloaded): mixed load with a writer, cold vs
#   warm scan, pgbench -C, warm random pairs at 15k and 100k pairs, bytes per cached user;
# - schema isolation: migrating a 10M-row vs a 1k-row table, with and without exact counts;
# - connection usage: clinres.connection_usage vs count(*) from pg_stat_activity, 90 idle sessions;
# - user management: list, search, paging and mutations over 1,000,000 users (test/bench/users.sh).
# Figures only: it never fails on time.
# Usage (repository root): test/bench/run.sh [seconds per pgbench run, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh
make -s && make -s install
export BENCH_SECONDS=${1:-10}
exec pg_virtualenv -v 15 -o shared_buffers=512MB -o shared_preload_libraries=clinres bash -c '
set -euo pipefail
echo "machine: $(nproc) cores, $(free -g | awk "/Mem:/ {print \$2}") GiB, $(uname -r), PostgreSQL $(psql -XAtc "show server_version")"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION clinres CASCADE" -f test/oracle.sql -f test/bench/measure.sql
echo "building the data set ..."
psql -X -q -v ON_ERROR_STOP=1 -f test/bench/setup.sql >/dev/null
psql -X -v ON_ERROR_STOP=1 -f test/bench/access.sql

echo
echo "(b) pgbench, 4 clients each, prepared, ${BENCH_SECONDS}s per round, random user and tenant"
echo "    both statements run at the same time, so that they share the machine'"'"'s state"
tmp=$(mktemp -d)
cat > "$tmp/has_module.sql" <<SQL
\set u random(1, 10000)
\set t random(1, 100)
SELECT clinres.has_module(md5('"'"'u'"'"' || :u)::uuid, md5('"'"'t'"'"' || :t)::uuid, '"'"'aia'"'"');
SQL
cat > "$tmp/trivial.sql" <<SQL
\set u random(1, 10000)
\set t random(1, 100)
SELECT md5('"'"'u'"'"' || :u)::uuid, md5('"'"'t'"'"' || :t)::uuid, '"'"'aia'"'"';
SQL
tps() { awk "/^tps/ {print \$3; exit}" "$1"; }
ratios=()
for round in 1 2 3; do
    pgbench -n -M prepared -c 4 -j 1 -T "$BENCH_SECONDS" -f "$tmp/trivial.sql" > "$tmp/t.out" 2>/dev/null &
    pgbench -n -M prepared -c 4 -j 1 -T "$BENCH_SECONDS" -f "$tmp/has_module.sql" > "$tmp/h.out" 2>/dev/null
    wait
    t=$(tps "$tmp/t.out"); h=$(tps "$tmp/h.out")
    ratios+=("$(awk -v t="$t" -v h="$h" "BEGIN {printf \"%.3f\", h / t}")")
    printf "  round %s: trivial %.0f tps, has_module %.0f tps\n" "$round" "$t" "$h"
done
echo "  has_module / trivial: $(printf "%s\n" "${ratios[@]}" | sort -g | sed -n 2p) (median of ${ratios[*]}; target >= 0.9)"
rm -rf "$tmp"

echo
test/bench/cache.sh

echo
echo "schema isolation: migrate_schemas on a 10,000,000-row vs a 1,000-row table"
psql -X -v ON_ERROR_STOP=1 -f test/bench/schema.sql

echo
echo "connection usage: one query per transaction, pgbench 1 client, ${BENCH_SECONDS}s per run, 90 idle sessions open"
for i in $(seq 90); do (echo "SELECT 1;"; sleep $((BENCH_SECONDS * 4 + 30))) | psql -X -q >/dev/null 2>&1 & done
sleep 3
tmp=$(mktemp -d)
echo "SELECT * FROM clinres.connection_usage;" > "$tmp/usage.sql"
echo "SELECT count(*) FROM pg_stat_activity;" > "$tmp/psa.sql"
tps1() { pgbench -n -M prepared -c 1 -T "$BENCH_SECONDS" -f "$1" 2>/dev/null | awk "/^tps/ {print \$3; exit}"; }
echo "  sessions counted: $(psql -XAtc "SELECT connections FROM clinres.connection_usage")"
p1=$(tps1 "$tmp/psa.sql"); u1=$(tps1 "$tmp/usage.sql"); p2=$(tps1 "$tmp/psa.sql"); u2=$(tps1 "$tmp/usage.sql")
awk -v p1="$p1" -v p2="$p2" -v u1="$u1" -v u2="$u2" "BEGIN {
  printf \"  count(*) FROM pg_stat_activity:     %8.0f tps (%.1f us per query)\n\", (p1+p2)/2, 2e6/(p1+p2);
  printf \"  SELECT * FROM clinres.connection_usage: %8.0f tps (%.1f us per query)\n\", (u1+u2)/2, 2e6/(u1+u2);
  printf \"  connection_usage / pg_stat_activity throughput: %.3f (target >= 1: no slower)\n\", (u1+u2)/(p1+p2) }"
rm -rf "$tmp"
kill $(jobs -p) 2>/dev/null || true

echo
echo "user management: 1,000,000 users in 1,000 tenants (test/bench/users.sh)"
test/bench/users.sh
'
