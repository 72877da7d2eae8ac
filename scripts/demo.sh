#!/usr/bin/env bash
# The main job: installs PostgreSQL 15 if missing (unless PG_CONFIG names another installation,
# e.g. PG_CONFIG=/opt/pg17/bin/pg_config scripts/demo.sh), builds and installs clinres, starts
# a throw-away cluster (scripts/cluster.sh, on the PostgreSQL that PG_CONFIG names), creates
# the extension, loads a small sample and shows what has_module, user_modules and
# session_profile answer. Usage: scripts/demo.sh   (test/client/demo.sh checks what it prints)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make -s && make -s install-if-changed
exec scripts/cluster.sh bash -c '
set -e
# Shows a statement as psql would (a prompt on each line), then what it answers.
q() { echo; echo "$1" | sed "1s/^/clinres=# /; 2,\$s/^/clinres-# /"; psql -X -q -v ON_ERROR_STOP=1 -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql
q "SELECT u.name, t.code AS tenant, m.code AS module, clinres.has_module(u.id, t.id, m.code)
     FROM clinres.users u, clinres.tenants t, clinres.modules m
    WHERE t.code IN ('\''HOSP_A'\'', '\''HOSP_B'\'') AND m.code IN ('\''aia'\'', '\''pkb'\'', '\''asl'\'')
    ORDER BY u.name, t.code, m.sort_order"
q "SELECT * FROM clinres.user_modules('\''00000000-0000-0000-0000-0000000000b0'\'', '\''a0000000-0000-0000-0000-00000000000a'\'')"
# session_profile answers for the context user only: set the context and ask in one transaction.
q "BEGIN;
SELECT clinres.set_context('\''00000000-0000-0000-0000-0000000000a1'\'', '\''a0000000-0000-0000-0000-00000000000a'\'');
SELECT jsonb_pretty(clinres.session_profile('\''00000000-0000-0000-0000-0000000000a1'\'', '\''a0000000-0000-0000-0000-00000000000a'\''));
COMMIT;"
'
