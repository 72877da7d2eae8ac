#!/usr/bin/env bash
# Installs what building and testing clinres needs on Debian 12, if it is missing.
set -euo pipefail
need=()
for pkg in postgresql-15 postgresql-server-dev-15 postgresql-contrib postgresql-common make g++ cmake pgbouncer \
           libgtest-dev libminizip-dev libexpat1-dev libxlsxwriter-dev zlib1g-dev python3-openpyxl clang libclang-rt-14-dev unzip; do
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
