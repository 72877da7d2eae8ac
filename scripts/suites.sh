#!/usr/bin/env bash
# Inside a throw-away cluster (pg_virtualenv sets PGHOST, PGPORT, PGUSER...): runs the
# regression, isolation and other suites and prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0 start=$SECONDS
# Logs of this run only: several clusters may run the suites at once on one machine.
logs=$(mktemp -d /tmp/clinres-suites.XXXXXX)
trap 'rm -rf "$logs"' EXIT

# The fuzzers need no server and one core: they run beside the suites that wait on servers.
FUZZ_DIR="$logs/fuzz" bash test/fuzz/run.sh 60 > "$logs/fuzz.log" 2>&1 &
fuzz=$!

# Adds the counts of one pg_regress-style run from its output file.
count_regress() {
    local out=$1 ok bad
    ok=$(grep -Ec '^(ok|test) .*\.\.\. ok|^ok [0-9]+ ' "$out" || true)
    bad=$(grep -Ec '\.\.\. FAILED|^not ok ' "$out" || true)
    passed=$((passed + ok)) failed=$((failed + bad))
}

echo "== make format-check (the house style, .clang-format) =="
if make -s format-check; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: format-check"; fi

# sql/differential.sql runs once, with the shared change log, in test/client/access_targeted.sh.
echo "== regression suite (make installcheck, but differential) =="
make -s installcheck ISOLATION= REGRESS="$(ls sql/*.sql | sed 's|sql/||; s|\.sql$||' | grep -vx differential | tr '\n' ' ')" \
    > "$logs/regress.log" 2>&1
cat "$logs/regress.log"
count_regress "$logs/regress.log"
[ -f regression.diffs ] && cat regression.diffs

if ls test/isolation/specs/*.spec >/dev/null 2>&1; then
    echo "== isolation suite =="
    make -s installcheck REGRESS= > "$logs/isolation.log" 2>&1
    cat "$logs/isolation.log"
    count_regress "$logs/isolation.log"
    [ -f test/isolation/output_iso/regression.diffs ] && cat test/isolation/output_iso/regression.diffs
fi

echo "== CMake build (-Werror), install and ctest (the unit tests) =="
cmake -S . -B build -DPG_CONFIG="$(command -v "${PG_CONFIG:-pg_config}")" -DCMAKE_CXX_FLAGS=-Werror >/dev/null \
    && cmake --build build -j 2 >/dev/null && cmake --install build >/dev/null \
    && (cd build && ctest --output-on-failure -j 2 | tail -3) && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAILED: ctest"; }

for t in test/client/*.sh; do
    [ -e "$t" ] && [ "$t" != test/client/lib.sh ] || continue
    echo "== $t =="
    t0=$SECONDS
    if bash "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
    echo "   ($((SECONDS - t0)) s)"
done

echo "== test/docs/run.sh (every SQL example of README.md and docs/) =="
if bash test/docs/run.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: test/docs/run.sh"; fi

echo "== fuzzing the import readers (libFuzzer, 60 s in all, started first) =="
if wait "$fuzz"; then cat "$logs/fuzz.log"; passed=$((passed + 1)); else cat "$logs/fuzz.log"; failed=$((failed + 1)); echo "FAILED: fuzz"; fi

# Citus (docs/scale-out.md): its own cluster of nodes; one skip line when Citus is not installed.
echo "== test/citus/run.sh =="
if bash test/citus/run.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: test/citus/run.sh"; fi

echo "$passed passed, $failed failed ($((SECONDS - start)) s)"
[ "$failed" -eq 0 ]
