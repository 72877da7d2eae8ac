#!/usr/bin/env bash
# The denial marker as a client sees it: psql's verbose error report shows SCHEMA NAME
# clinres, TABLE NAME the kind and COLUMN NAME the code for clinres's denials, and none of
# them for PostgreSQL's own 42501 (a missing GRANT).
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
db=clinres_denial_test
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS clinres_denial_client" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE DATABASE $db" -c "CREATE ROLE clinres_denial_client NOLOGIN" >/dev/null
# CREATE EXTENSION makes the role clinres_app (on a fresh cluster it does not exist before).
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql \
    -c "CREATE TABLE public.private (x int)" -c "GRANT clinres_app TO clinres_denial_client" >/dev/null 2>&1
verbose() {
    psql -X -q -d "$db" -c "SET ROLE clinres_denial_client" -c '\set VERBOSITY verbose' -c "$1" 2>&1 || true
}
denied=$(verbose "SELECT clinres.require_module('00000000-0000-0000-0000-0000000000b0', 'a0000000-0000-0000-0000-00000000000a', 'ASL')")
echo "$denied" | sed 's/^/  /'
echo "$denied" | grep -q '^ERROR:  42501: permission denied for module "asl"' || fail "no 42501 module denial"
echo "$denied" | grep -q '^SCHEMA NAME:  clinres$' || fail "the denial has no SCHEMA NAME clinres"
echo "$denied" | grep -q '^TABLE NAME:  module$' || fail "the denial has no TABLE NAME module"
echo "$denied" | grep -q '^COLUMN NAME:  asl$' || fail "the denial has no COLUMN NAME asl"
grant=$(verbose "SELECT * FROM public.private")
echo "$grant" | sed 's/^/  /'
echo "$grant" | grep -q '^ERROR:  42501: permission denied for table private' || fail "no 42501 for a missing grant"
if echo "$grant" | grep -q 'SCHEMA NAME'; then fail "a missing grant carries a schema name"; fi
echo "denial marker: clinres's 42501 carries schema clinres, table module, column asl; a missing GRANT carries none"
