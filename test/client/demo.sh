#!/usr/bin/env bash
# The README's first command as a newcomer runs it: scripts/demo.sh exits 0 and prints what
# test/client/expected/demo.out shows (the has_module answers, Bob's user_modules rows and
# the session_profile of Alice, asked in one transaction after set_context).
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
out=$(mktemp /tmp/clinres-demo.XXXXXX)
trap 'rm -f "$out" "$out.err"' EXIT
rc=0
scripts/demo.sh >"$out" 2>"$out.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$out" "$out.err"; fail "scripts/demo.sh exited $rc"; }
diff -u test/client/expected/demo.out "$out" || fail "scripts/demo.sh printed something else (diff above)"
echo "demo: scripts/demo.sh exits 0 and prints test/client/expected/demo.out"
