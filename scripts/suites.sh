#!/usr/bin/env bash
# Inside a throw-away cluster (pg_virtualenv sets PGHOST, PGPORT, PGUSER...): runs the
# regression, isolation and other suites and prints "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
# Logs of this run only: several clusters may run the suites at once on one machine.
logs=$(mktemp -d /tmp/clinres-suites.XXXXXX)
trap 'rm -rf "$logs"' EXIT

# Adds the counts of one pg_regress-style run from its output file.
count_regress() {
    local out=$1 ok bad
    ok=$(grep -Ec '^(ok|test) .*\.\.\. ok|^ok [0-9]+ ' "$out" || true)
    bad=$(grep -Ec '\.\.\. FAILED|^not ok ' "$out" || true)
    passed=$((passed + ok)) failed=$((failed + bad))
}

echo "== regression suite (make installcheck) =="
make -s installcheck ISOLATION= > "$logs/regress.log" 2>&1
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

echo "== CMake build, install and ctest (the same regression suite) =="
rm -rf build && cmake -S . -B build >/dev/null && cmake --build build >/dev/null && cmake --install build >/dev/null \
    && (cd build && ctest --output-on-failure) && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAILED: ctest"; }

for t in test/client/*.sh; do
    [ -e "$t" ] && [ "$t" != test/client/lib.sh ] || continue
    echo "== $t =="
    if bash "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
done

echo "== test/docs/run.sh (every SQL example of README.md and docs/) =="
if bash test/docs/run.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: test/docs/run.sh"; fi

echo "== fuzzing the import readers (libFuzzer, 60 s in all) =="
if FUZZ_DIR="$logs/fuzz" bash test/fuzz/run.sh 60; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: fuzz"; fi

# Citus (docs/scale-out.md): its own cluster of nodes; one skip line when Citus is not installed.
echo "== test/citus/run.sh =="
if bash test/citus/run.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: test/citus/run.sh"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
