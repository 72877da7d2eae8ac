#!/usr/bin/env bash
# Writes the upgrade script from the last release to the version in development: versions/next.sql
# with every function of the SQL parts (scripts/sql-code.py) in place of its "-- @code" line.
# Both builds (Makefile, CMakeLists.txt) call it. Usage: scripts/build-upgrade.sh OUT PART.sql...
set -euo pipefail
out=$1; shift
here=$(dirname "$0")
next=$here/../versions/next.sql
grep -qx -- '-- @code' "$next" || { echo "build-upgrade: versions/next.sql has no '-- @code' line" >&2; exit 1; }
{
    sed '/^-- @code$/,$d' "$next"
    python3 "$here/sql-code.py" "$@"
    sed '1,/^-- @code$/d' "$next"
} >"$out.tmp"
mv "$out.tmp" "$out"
