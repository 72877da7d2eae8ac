#!/usr/bin/env bash
# The release check: for each PostgreSQL installation given by its pg_config, builds clinres,
# installs it there and runs every suite (scripts/suites.sh, on throw-away clusters of that
# installation, scripts/cluster.sh); then, given a 15 and a 17, test/matrix/pg_upgrade.sh from
# 15 to 17. Prints "PG NN: N passed, M failed" per installation and a total line; exits non-zero
# if anything failed.
# A packaged installation (under /usr/lib/postgresql) is first copied (scripts/private-pg.sh) so
# that the system's server is never written to; any other (a source build in a prefix of its own)
# receives clinres as it is. Each installation builds and runs in a copy of this checkout (its
# files as git lists them, committed or not), so the checkout is left alone. One after another;
# with --parallel, all at once (quicker where cores are spare; the suites' timing-sensitive parts
# then share the CPU). --upgrade-from PG_CONFIG names the 15 that pg_upgrade starts from (default:
# the first 15 given); if it is not among the others, clinres is only built and installed there.
# Each installation's output is kept in a log.
# Usage: scripts/matrix.sh [--parallel] [--upgrade-from PG_CONFIG] PG_CONFIG...
#   e.g. scripts/matrix.sh pg_config /opt/pg16/bin/pg_config /opt/pg17/bin/pg_config /opt/pg18/bin/pg_config
set -uo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: scripts/matrix.sh [--parallel] [--upgrade-from PG_CONFIG] PG_CONFIG..." >&2; exit 2; }
parallel=false upgrade_from=""
while [ $# -gt 0 ]; do
    case $1 in
        --parallel) parallel=true; shift ;;
        --upgrade-from) [ $# -ge 2 ] || usage; upgrade_from=$2; shift 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || usage
logs=$(mktemp -d /tmp/clinres-matrix.XXXXXX)
chmod 755 "$logs"   # a private copy in it runs as the postgres user when we are root
trap 'rm -rf "$logs"/src-* "$logs"/copy-*/' EXIT   # the checkouts' and installations' copies; the logs stay
major() { "$1" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'; }
packaged() { [[ "$("$1" --bindir)" == /usr/lib/postgresql/* ]]; }

# build N PG_CONFIG [SUITES]: builds and installs clinres from a copy of the checkout, then runs
# every suite there when SUITES is given.
build() {
    local src=$logs/src-$1
    mkdir -p "$src"
    git ls-files -co --exclude-standard | tar --ignore-failed-read -cf - -T - 2>/dev/null | tar -xf - -C "$src"
    cd "$src" || exit 1
    export PG_CONFIG=$2
    scripts/deps.sh && make -s -j2 && make -s install || { echo "build or install failed"; exit 1; }
    [ -z "${3:-}" ] || scripts/suites.sh
}

# Every installation named: the arguments, then --upgrade-from when it is not one of them.
all=("$@")
extra=true
for arg in "$@"; do [ "$arg" != "$upgrade_from" ] || extra=false; done
[ -z "$upgrade_from" ] || ! $extra || all+=("$upgrade_from")

# The tools (and the packaged PostgreSQL) first, when a packaged or missing pg_config is named.
for arg in "${all[@]}"; do
    pgc=$(command -v "$arg" || true)
    if [ -z "$pgc" ] || packaged "$pgc"; then scripts/deps.sh || exit 1; break; fi
done

# The installations to use: a private copy of a packaged one.
total_passed=0 total_failed=0 lines=() logfile=() old="" new=""
n=0
for arg in "${all[@]}"; do
    n=$((n + 1))
    pgc=$(command -v "$arg") || { lines+=("$arg: no such pg_config: 0 passed, 1 failed"); total_failed=$((total_failed + 1)); continue; }
    name="PG $(major "$pgc")"
    if packaged "$pgc"; then
        pgc=$(scripts/private-pg.sh "$logs/copy-$n") || { lines+=("$name: no private copy: 0 passed, 1 failed"); total_failed=$((total_failed + 1)); continue; }
    fi
    if [ "$n" -gt $# ]; then    # --upgrade-from, not among the others: build and install only
        old=$pgc
        echo "== clinres for the pg_upgrade test: $pgc (log: $logs/upgrade-from.log) =="
        (build "$n" "$pgc") >"$logs/upgrade-from.log" 2>&1 || { lines+=("pg_upgrade: no clinres in $pgc: 0 passed, 1 failed"); total_failed=$((total_failed + 1)); old=none; }
        continue
    fi
    [ "$arg" != "$upgrade_from" ] || old=$pgc
    [ -n "$upgrade_from" ] || [ -n "$old" ] || [ "$name" != "PG 15" ] || old=$pgc
    [ -n "$new" ] || [ "$name" != "PG 17" ] || new=$pgc
    echo "== $name: $pgc (log: $logs/$n.log) =="
    if $parallel; then (build "$n" "$pgc" suites) >"$logs/$n.log" 2>&1 & else (build "$n" "$pgc" suites) >"$logs/$n.log" 2>&1; fi
    logfile[n]=$logs/$n.log
done
wait

i=0
for arg in "$@"; do
    i=$((i + 1))
    log=${logfile[i]:-}
    [ -n "$log" ] || continue
    name="PG $(major "$(command -v "$arg")")"
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    [ -n "$counts" ] || counts="0 passed, 1 failed"   # the build, or the cluster, failed
    grep -E '^FAILED|^not ok|\.\.\. FAILED' "$log" | sed "s/^/  $name: /"
    p=${counts%% passed*} f=${counts#*passed, }; f=${f%% failed*}
    total_passed=$((total_passed + p)) total_failed=$((total_failed + f))
    lines+=("$name: $counts ($arg; log $log)")
    echo "$name: $counts"
done

if [ -n "$old" ] && [ "$old" != none ] && [ -n "$new" ]; then
    step="pg_upgrade $(major "$old") -> 17"
    echo "== $step: $old -> $new (log: $logs/pg_upgrade.log) =="
    if bash test/matrix/pg_upgrade.sh "$old" "$new" >"$logs/pg_upgrade.log" 2>&1; then
        tail -1 "$logs/pg_upgrade.log"
        lines+=("$step: 1 passed, 0 failed"); total_passed=$((total_passed + 1))
    else
        tail -20 "$logs/pg_upgrade.log"
        lines+=("$step: 0 passed, 1 failed"); total_failed=$((total_failed + 1))
    fi
fi

echo "== matrix =="
printf '%s\n' "${lines[@]}"
echo "total: $total_passed passed, $total_failed failed (logs: $logs)"
[ "$total_failed" -eq 0 ]
