#!/usr/bin/env bash
# Installs what building and testing clinres needs on Debian 12, if it is missing.
set -euo pipefail
need=()
for pkg in postgresql-15 postgresql-server-dev-15 postgresql-contrib postgresql-common make g++ cmake pgbouncer; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's postgresql package starts a system cluster; clinres's scripts use their own.
