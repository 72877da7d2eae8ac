#!/usr/bin/env bash
# Runs every clinres test suite on a throw-away PostgreSQL 15 cluster and ends with
# "N passed, M failed". Usage (from the repository root): scripts/test.sh
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
make -s clean && make -s && make -s install || { echo "0 passed, 1 failed"; exit 1; }
exec pg_virtualenv -v 15 scripts/suites.sh
