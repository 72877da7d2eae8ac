#!/usr/bin/env bash
# Builds and installs clinres, then runs every test suite on throw-away PostgreSQL 15 clusters
# (scripts/suites.sh) and ends with "N passed, M failed". Usage (from the repository root): scripts/test.sh
# Another installation: PG_CONFIG=/opt/pg17/bin/pg_config scripts/test.sh (installs clinres there
# and runs the suites on clusters of it, scripts/cluster.sh; scripts/matrix.sh runs several).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
# No make clean: make rebuilds what a changed source, header or flag affects (.build-flags).
# The -Werror build is the CMake one, in the suites.
make -s -j2 && make -s install || { echo "0 passed, 1 failed"; exit 1; }
# Each suite gets a throw-away cluster of its own (scripts/cluster.sh), several at once.
exec scripts/suites.sh
