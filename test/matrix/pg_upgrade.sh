#!/usr/bin/env bash
# pg_upgrade of a cluster that uses clinres: a cluster of the OLD installation, with clinres at its
# previous release and the sample data (test/fixtures/sample.sql), is upgraded to the NEW
# installation with pg_upgrade, then ALTER EXTENSION clinres UPDATE brings clinres to the current
# version on the new server. Afterwards has_module gives every answer it gave before, the sample
# users' passwords still log in, and the token verifies. clinres must be installed in both
# installations (scripts/matrix.sh runs this after installing it, for 15 -> 17).
# Usage: test/matrix/pg_upgrade.sh OLD_PG_CONFIG NEW_PG_CONFIG
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
[ $# -eq 2 ] || { echo "usage: test/matrix/pg_upgrade.sh OLD_PG_CONFIG NEW_PG_CONFIG" >&2; exit 2; }
old_bin=$("$1" --bindir) new_bin=$("$2" --bindir)
major() { "$1" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'; }
old_major=$(major "$1") new_major=$(major "$2")
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" clinres.control)
prev=$(last_release)
[ -n "$prev" ] && [ "$prev" != "$current" ] || fail "no release before $current in versions/SHA256SUMS"
dir=$(mktemp -d /tmp/clinres-pg_upgrade.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
stop() { as_postgres "$1/pg_ctl" -D "$2" -m fast -w stop >/dev/null 2>&1 || true; }
cleanup() { stop "$old_bin" "$dir/old"; stop "$new_bin" "$dir/new"; rm -rf "$dir"; }
trap cleanup EXIT

# Both clusters alike, as pg_upgrade requires (18 enables data checksums by default: not here).
checksums=()
[ "$new_major" -lt 18 ] || checksums=(--no-data-checksums)
as_postgres "$old_bin/initdb" -D "$dir/old" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
as_postgres "$new_bin/initdb" -D "$dir/new" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync "${checksums[@]}" >/dev/null
port=$(free_port 56432)
for d in old new; do
    printf "port = %s\nlisten_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\n" "$port" "$dir" \
        >>"$dir/$d/postgresql.conf"
done
q() { "$1/psql" -X -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d clinres_pg_upgrade "${@:2}"; }
answers() {
    q "$1" -c "SELECT pg_catalog.string_agg(pg_catalog.format('%s %s %s %s', u.email, t.code, m.code,
                      clinres.has_module(u.id, t.id, m.code)), E'\n' ORDER BY u.email, t.code, m.code)
                 FROM clinres.users u, clinres.tenants t, clinres.modules m"
}

# The old cluster: clinres $prev with the sample data.
as_postgres "$old_bin/pg_ctl" -D "$dir/old" -l "$dir/old.log" -w start >/dev/null
"$old_bin/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "CREATE DATABASE clinres_pg_upgrade"
PGOPTIONS="-c client_min_messages=warning" q "$old_bin" -q -c "CREATE EXTENSION clinres VERSION '$prev' CASCADE" \
    -f test/fixtures/sample.sql >/dev/null
before=$(answers "$old_bin")
[ "$(echo "$before" | grep -c ' t$')" -ge 1 ] || fail "the sample grants no module on PostgreSQL $old_major"
# Some builds of 15 (the packaged 15.20-0+deb12u1 where this was written) give every column an attribute option
# pg_attver that upstream servers reject, so that pg_upgrade to them fails for any database.
stamped=$(q "$old_bin" -c "SELECT count(*) FROM pg_catalog.pg_attribute WHERE attoptions::text LIKE '%pg_attver=%'")
stop "$old_bin" "$dir/old"

# pg_upgrade (its own ports and socket; it writes its logs in the current directory or the new cluster).
(cd "$dir" && as_postgres "$new_bin/pg_upgrade" -b "$old_bin" -B "$new_bin" -d "$dir/old" -D "$dir/new" \
    -p "$port" -P "$port" -s "$dir" >"$dir/pg_upgrade.log" 2>&1) \
    || { cat "$dir/pg_upgrade.log"; find "$dir" -path '*pg_upgrade*' -name 'pg_upgrade_dump_*.log' -exec tail -n 20 {} +; \
         [ "$stamped" -eq 0 ] || echo "($stamped columns of the old cluster have the attribute option pg_attver, which" \
             "$("$old_bin/postgres" --version) sets on every column; a server without it rejects it:" \
             "try an upstream build of $old_major as OLD_PG_CONFIG)"; \
         fail "pg_upgrade from $old_major to $new_major"; }

as_postgres "$new_bin/pg_ctl" -D "$dir/new" -l "$dir/new.log" -w start >/dev/null
[ "$(q "$new_bin" -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'clinres'")" = "$prev" ] \
    || fail "clinres is not at $prev after pg_upgrade"
q "$new_bin" -q -c "ALTER EXTENSION clinres UPDATE"
got=$(q "$new_bin" -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'clinres'")
[ "$got" = "$current" ] || fail "ALTER EXTENSION clinres UPDATE on $new_major left version $got, expected $current"
after=$(answers "$new_bin")
[ "$after" = "$before" ] || { diff <(echo "$before") <(echo "$after") || true; fail "has_module answers changed"; }
# A login with the password hashed on the old server, and its token accepted by the new one.
who=$(q "$new_bin" -c "SELECT clinres.set_session(clinres.login('alice@hosp-a.example', 'alice-pw')->>'token');
                       SELECT clinres.current_user_id()" | tail -1)
[ "$who" = 00000000-0000-0000-0000-0000000000a1 ] || fail "login after the upgrade gave the session user '$who'"
[ -z "$(q "$new_bin" -c "SELECT clinres.login('alice@hosp-a.example', 'wrong-pw')")" ] \
    || fail "a wrong password logs in after the upgrade"
echo "pg_upgrade $old_major -> $new_major: clinres $prev -> $current by ALTER EXTENSION UPDATE;" \
     "$(echo "$after" | wc -l) has_module answers unchanged; login and token verified"
