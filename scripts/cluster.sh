#!/usr/bin/env bash
# Runs a command against a throw-away cluster of the PostgreSQL that PG_CONFIG names (default
# pg_config), then stops and removes it. The command sees what pg_virtualenv would give it:
# PGHOST=localhost, PGPORT, PGUSER=postgres, PGPASSWORD, PGDATABASE=postgres, PG_CONFIG.
# Works for any installation (a private copy from scripts/private-pg.sh, or one built from
# source), as root (the cluster then runs as the postgres user) or not.
# Usage: scripts/cluster.sh [-o 'name=value']... COMMAND [ARG...]
set -euo pipefail
opts=()
while [ $# -gt 0 ] && [ "$1" = -o ]; do opts+=("$2"); shift 2; done
[ $# -gt 0 ] || { echo "usage: scripts/cluster.sh [-o 'name=value']... COMMAND [ARG...]" >&2; exit 2; }
pgc=$(command -v "${PG_CONFIG:-pg_config}")
bindir=$("$pgc" --bindir)
work=$(mktemp -d /tmp/clinres-cluster.XXXXXX)
as=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$work"
    as=(runuser -u postgres --)
fi
password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
echo "$password" > "$work/pw"
[ "$(id -u)" -ne 0 ] || chown postgres: "$work/pw"
cleanup() {
    "${as[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
"${as[@]}" "$bindir/initdb" -D "$work/data" -U postgres --pwfile="$work/pw" --auth-local=trust \
    --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 \
    || { cat "$work/initdb.log"; exit 1; }
{
    echo "listen_addresses = 'localhost'"
    echo "unix_socket_directories = '$work'"
    echo "fsync = off"
    for o in "${opts[@]}"; do echo "$o"; done
} >>"$work/data/postgresql.conf"
# A free port: the first from a random start that nothing listens on. Clusters started at the
# same moment (scripts/suites.sh) may pick the same one: then the start fails and another is tried.
for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    if "${as[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -o "-p $port" -w start >/dev/null; then
        break
    fi
    [ "$try" -lt 5 ] && grep -q "could not bind\|could not create any TCP/IP sockets" "$work/server.log" \
        || { cat "$work/server.log"; exit 1; }
done
rc=0
PGHOST=localhost PGPORT=$port PGUSER=postgres PGPASSWORD=$password PGDATABASE=postgres PG_CONFIG=$pgc \
    PATH="$bindir:$PATH" "$@" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "*** server log (last 50 lines) ***"
    tail -50 "$work/server.log"
    # A failed assertion's line (a server built with --enable-cassert) comes before its backtrace.
    grep -E '^TRAP: ' "$work/server.log" | sed 's/^/*** /' || true
fi
exit "$rc"
