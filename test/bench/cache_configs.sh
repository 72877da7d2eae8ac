#!/usr/bin/env bash
# The access cache's goals (issue 24) in both configurations, one throw-away cluster each:
# the defaults (clinres not preloaded) and clinres in shared_preload_libraries. Builds the
# benchmark data set (10,000 users in 100 tenants, 1M rows) and runs test/bench/cache.sh's
# figures 2-6 (cold/warm, pgbench -C, warm pairs at 30k and 300k, bytes, reads after a
# grant change), each printed beside its goal. Figures only: it never fails on time.
# Usage (repository root, PG_CONFIG set): test/bench/cache_configs.sh [figure ...]
# (BENCH_SECONDS per pgbench run, default 5; SHARED_TABLE, the preloaded run's
# clinres.shared_access_cache_memory, default 64MB: the table is off unless set). A few minutes per configuration.
set -euo pipefail
cd "$(dirname "$0")/../.."
export BENCH_SECONDS=${BENCH_SECONDS:-5}
figures=${*:-2 3 4 5 6}
run='set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION clinres CASCADE" -f test/oracle.sql -f test/bench/measure.sql >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -f test/bench/setup.sql >/dev/null
test/bench/cache.sh '"$figures"
echo "== defaults (clinres not preloaded) =="
scripts/cluster.sh -o shared_buffers=512MB bash -c "$run"
echo
echo "== clinres preloaded, clinres.shared_access_cache_memory = ${SHARED_TABLE:-64MB} =="
scripts/cluster.sh -o shared_buffers=512MB -o shared_preload_libraries=clinres \
    -o "clinres.shared_access_cache_memory='${SHARED_TABLE:-64MB}'" bash -c "$run"
