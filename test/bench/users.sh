#!/usr/bin/env bash
# User management benchmark: builds 1,000,000 users in 1,000 tenants (one of 50,000 members) in
# database clinres_bench_users of the cluster that PGHOST/PGPORT name, then prints the medians
# against the goals of issue 10 and the plans of the hot statements. Figures only: never fails on time.
# Usage (repository root, clinres installed): test/bench/users.sh [--reuse]   (--reuse: keep a built data set)
set -euo pipefail
cd "$(dirname "$0")/../.."
db=clinres_bench_users
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
psql -X -v ON_ERROR_STOP=1 -d "$db" -f test/bench/users.sql 2>&1
echo "machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"
