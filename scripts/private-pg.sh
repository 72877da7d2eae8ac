#!/usr/bin/env bash
# Makes a private copy of a PostgreSQL installation under DIR, so that `make install` and the
# suites can run there without root and without touching the system's server (several checkouts
# can test at once). Prints the copy's pg_config. PostgreSQL finds its files relative to its
# binaries, so the copy keeps the original's layout below DIR.
# Usage: scripts/private-pg.sh DIR      (the installation is PG_CONFIG's, default pg_config)
set -euo pipefail
dest=${1:?usage: scripts/private-pg.sh DIR}
pgc=${PG_CONFIG:-pg_config}
bindir=$("$pgc" --bindir)
# Every directory the installation uses; each is copied to the same path below DIR.
dirs=("$bindir" "$("$pgc" --pkglibdir)" "$("$pgc" --sharedir)" "$("$pgc" --includedir-server)"
      "$("$pgc" --includedir)" "$(dirname "$("$pgc" --pgxs)")/../..")
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
for d in "${dirs[@]}"; do
    d=$(realpath -m "$d")
    mkdir -p "$dest$d"
    cp -a "$d/." "$dest$d/"
done
[ "$(id -u)" -ne 0 ] || chmod -R a+rX "$dest"
out="$dest$bindir/pg_config"
# The copy must describe itself, or `make install` would write into the original.
[ "$("$out" --pkglibdir)" = "$dest$("$pgc" --pkglibdir)" ] || { echo "private-pg: $out does not relocate" >&2; exit 1; }
echo "$out"
