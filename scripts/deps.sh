#!/usr/bin/env bash
# Installs what building and testing clinres needs on Debian 12, if it is missing: by default with
# Debian's PostgreSQL 15. With PG_CONFIG naming another installation (one built from source, say
# PostgreSQL 16, 17 or 18), it installs no PostgreSQL package but checks that installation has what
# the suites use. Usage: scripts/deps.sh   or   PG_CONFIG=/opt/pg17/bin/pg_config scripts/deps.sh
set -euo pipefail
postgres_pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-contrib)
if [ -n "${PG_CONFIG:-}" ] && [[ "$("$PG_CONFIG" --bindir)" != /usr/lib/postgresql/* ]]; then
    postgres_pkgs=()
    share=$("$PG_CONFIG" --sharedir) pgxs=$(dirname "$("$PG_CONFIG" --pgxs)")/../..
    for f in "$share/extension/pgcrypto.control" "$share/extension/pg_trgm.control" \
             "$share/extension/dblink.control" "$pgxs/src/test/isolation/pg_isolation_regress"; do
        [ -e "$f" ] || { echo "deps: $PG_CONFIG's installation lacks $f (install contrib/pgcrypto, contrib/pg_trgm, contrib/dblink and src/test/isolation)" >&2; exit 1; }
    done
fi
need=()
for pkg in "${postgres_pkgs[@]}" postgresql-common make g++ cmake pgbouncer \
           libgtest-dev libminizip-dev libexpat1-dev libxlsxwriter-dev zlib1g-dev libssl-dev python3-openpyxl python3-bcrypt clang libclang-rt-14-dev unzip; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# An interrupted pg_virtualenv can leave its marker behind, which makes the next one
# refuse to start ("Cluster 15/regress exists"); remove it when no such cluster exists.
stale=/etc/postgresql/15/regress
if [ -f "$stale/.by_pg_virtualenv" ] && ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *regress ' \
   && [ "$(ls -A "$stale")" = ".by_pg_virtualenv" ] && [ "$(id -u)" -eq 0 ]; then
    rm -rf "$stale"
fi
