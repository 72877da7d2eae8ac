#!/usr/bin/env bash
# Runs every clinres test suite (after scripts/test.sh's build and install) and prints
# "N passed, M failed". The suites are independent: each one that needs a server gets a
# throw-away cluster of its own (scripts/cluster.sh, on the PostgreSQL that PG_CONFIG names,
# default pg_config), so they run at once, CLINRES_TEST_JOBS at a time (default 4: most of
# them wait on servers). Each suite's output is kept and printed whole, in the order below,
# with the seconds it took. Usage: scripts/suites.sh [SUITE...] (names as printed; default all)
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0 start=$SECONDS
max_jobs=${CLINRES_TEST_JOBS:-4}
# Logs of this run only: several runs may share the machine.
logs=$(mktemp -d /tmp/clinres-suites.XXXXXX)
chmod 755 "$logs"
trap 'rm -rf "$logs"' EXIT

names=() titles=() kinds=()
# suite NAME KIND TITLE COMMAND...: starts COMMAND in the background once fewer than max_jobs
# suites run. KIND says how it counts: "regress" (each test of a pg_regress-style output) or
# "one" (its exit status).
suite() {
    local name=$1 kind=$2 title=$3
    shift 3
    if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then return; fi
    names+=("$name") kinds+=("$kind") titles+=("$title")
    while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n; done
    (
        t0=$SECONDS
        "$@" >"$logs/$name.log" 2>&1
        echo $? >"$logs/$name.rc"
        echo $((SECONDS - t0)) >"$logs/$name.secs"
    ) &
}
only=("$@")

# Adds the counts of one pg_regress-style output file.
count_regress() {
    local out=$1 ok bad
    ok=$(grep -Ec '^(ok|test) .*\.\.\. ok|^ok [0-9]+ ' "$out" || true)
    bad=$(grep -Ec '\.\.\. FAILED|^not ok ' "$out" || true)
    passed=$((passed + ok)) failed=$((failed + bad))
}

# The regression suite, without sql/differential.sql (test/client/access_targeted.sh runs it
# once, with the shared change log); the isolation specs. Each prints its diffs on failure.
regress() {
    scripts/cluster.sh make -s installcheck ISOLATION= \
        REGRESS="$(ls sql/*.sql | sed 's|sql/||; s|\.sql$||' | grep -vx differential | tr '\n' ' ')"
    local rc=$?
    [ ! -f regression.diffs ] || cat regression.diffs
    return $rc
}
isolation() {
    scripts/cluster.sh make -s installcheck REGRESS=
    local rc=$?
    [ ! -f test/isolation/output_iso/regression.diffs ] || cat test/isolation/output_iso/regression.diffs
    return $rc
}

# The CMake build with -Werror, installed into a staging directory (the suites use the PGXS
# build that scripts/test.sh installed), and the unit tests.
cmake_build() {
    cmake -S . -B build -DPG_CONFIG="$(command -v "${PG_CONFIG:-pg_config}")" -DCMAKE_CXX_FLAGS=-Werror >/dev/null \
        && cmake --build build -j 2 >/dev/null \
        && DESTDIR="$logs/cmake-install" cmake --install build >/dev/null \
        && ls "$logs"/cmake-install"$("${PG_CONFIG:-pg_config}" --pkglibdir)"/clinres.so >/dev/null \
        && (cd build && ctest --output-on-failure -j 2 | tail -3)
}

# Longest first (as measured), so that the last to start is not the last to end.
suite node one "test/client/node.sh" scripts/cluster.sh bash test/client/node.sh
# The CMake build compiles everything again (from scratch on a fresh clone): early.
suite cmake one "CMake build (-Werror), staged install and ctest (the unit tests)" cmake_build
# The fuzzers need no server; their binaries are kept in build/fuzz between runs.
suite fuzz one "fuzzing the import readers (libFuzzer, 60 s in all)" env FUZZ_DIR="$PWD/build/fuzz" bash test/fuzz/run.sh 60
suite regress regress "regression suite (make installcheck, but differential)" regress
# These two start clusters of their own (clinres preloaded); they need only pg_config in PATH.
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
suite access_targeted one "test/client/access_targeted.sh" env PATH="$bindir:$PATH" bash test/client/access_targeted.sh
suite hijack one "test/client/hijack.sh" scripts/cluster.sh bash test/client/hijack.sh
suite upgrade one "test/client/upgrade.sh" scripts/cluster.sh bash test/client/upgrade.sh
suite docs one "test/docs/run.sh (every SQL example of README.md and docs/)" scripts/cluster.sh bash test/docs/run.sh
# trail.sh's 20 administrators deadlock on purpose and retry: detected after 100 ms, not the
# default 1 s (which made the run 165 s instead of 20).
suite trail one "test/client/trail.sh" scripts/cluster.sh -o 'deadlock_timeout = 100ms' bash test/client/trail.sh
suite isolation regress "isolation suite" isolation
# The README's first command (scripts/demo.sh builds, then installs only what changed: nothing
# after scripts/test.sh's install, so the other suites' servers are left alone).
suite demo one "test/client/demo.sh" scripts/cluster.sh bash test/client/demo.sh
suite monitor one "test/client/monitor.sh" env PATH="$bindir:$PATH" bash test/client/monitor.sh
# Like monitor and access_targeted: a cluster of its own, clinres preloaded.
suite shared_access one "test/client/shared_access.sh" env PATH="$bindir:$PATH" bash test/client/shared_access.sh
for t in test/client/*.sh; do
    n=$(basename "$t" .sh)
    case " lib node access_targeted hijack upgrade trail demo monitor shared_access " in *" $n "*) continue ;; esac
    suite "$n" one "$t" scripts/cluster.sh bash "$t"
done
# Citus (docs/scale-out.md): its own cluster of nodes; one skip line when Citus is not installed.
suite citus one "test/citus/run.sh" bash test/citus/run.sh
suite format one "make format-check (the house style, .clang-format)" make -s format-check
wait

for i in "${!names[@]}"; do
    name=${names[$i]}
    echo "== ${titles[$i]} =="
    cat "$logs/$name.log"
    rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 1)
    if [ "${kinds[$i]}" = regress ]; then
        count_regress "$logs/$name.log"
        # A suite that failed before any test ran counts as one failure.
        [ "$rc" -eq 0 ] || grep -Eq '\.\.\. FAILED|^not ok ' "$logs/$name.log" || failed=$((failed + 1))
    elif [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: ${titles[$i]}"
    fi
    echo "   ($(cat "$logs/$name.secs" 2>/dev/null || echo '?') s)"
done
echo "== seconds per suite (at most $max_jobs at once) =="
for name in "${names[@]}"; do printf '%5s %s\n' "$(cat "$logs/$name.secs" 2>/dev/null || echo '?')" "$name"; done | sort -rn
echo "$passed passed, $failed failed ($((SECONDS - start)) s)"
[ "$failed" -eq 0 ]
