#!/usr/bin/env bash
# Access review benchmark: the 50,000-member tenant of the users benchmark (test/bench/users_setup.sql,
# 1,000,000 users), with a trail row for each membership and each module configuration and a validity
# on every 100th member's grants; prints access_review's and export_access_review's medians beside
# the same rows asked of has_module one by one, in one run. Figures only: never fails on time.
# Usage (repository root, clinres installed, PGHOST/PGPORT set, e.g. under scripts/cluster.sh):
#   test/bench/access_review.sh [--reuse]   (--reuse: keep a built data set)
set -euo pipefail
cd "$(dirname "$0")/../.."
db=clinres_bench_review
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $(psql -XAtc 'show server_version'), shared_buffers $(psql -XAtc 'show shared_buffers')"
if [ "${1:-}" != --reuse ] || [ -z "$(psql -XAtd postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION clinres CASCADE"
    echo "building 1,000,000 users ..."
    start=$(date +%s)
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f test/bench/users_setup.sql
    echo "  built in $(( $(date +%s) - start )) s"
fi
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f test/bench/measure.sql
psql -X -v ON_ERROR_STOP=1 -d "$db" -f test/bench/access_review.sql 2>&1
echo "machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"
