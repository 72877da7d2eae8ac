#!/usr/bin/env bash
# Builds the libFuzzer targets of the import readers and runs them for SECONDS in total (split evenly),
# from a seed corpus of the fixtures; prints executions and crashes. Usage: test/fuzz/run.sh [SECONDS]
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${FUZZ_DIR:-${TMPDIR:-/tmp}/clinres-fuzz}
mkdir -p "$work"
cd "$work"

readers=$(ls "$root"/src/clinres/users/import/*.cpp | grep -v -e _writer.cpp -e users_template.cpp)
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$root/src" -I"$root/test/fuzz")
# Each target is rebuilt only when a source or header it may use is newer (FUZZ_DIR kept between runs).
for target in xlsx_fuzz csv_fuzz sheet_xml_fuzz; do
    if [ -x "$target" ] && [ -z "$(find "$root/test/fuzz" "$root/src/clinres/users/import" -newer "$target" \( -name '*.[ch]pp' -o -name run.sh \) | head -1)" ]; then
        continue
    fi
    clang++ "${flags[@]}" "$root/test/fuzz/$target.cpp" $readers -o "$target" -lminizip -lexpat -lz
done

# Seed corpora: the committed LibreOffice files and the files the unit tests generate.
rm -rf gen corpus artifacts   # only the binaries are kept from an earlier run
mkdir -p gen corpus/xlsx corpus/csv corpus/sheet_xml artifacts
gcc -Wall "$root/test/unit/make_xlsxwriter.c" -o gen/make_xlsxwriter -lxlsxwriter
gen/make_xlsxwriter gen
/usr/bin/python3 "$root/test/unit/make_openpyxl.py" gen
cp "$root"/test/fixtures/import/*.xlsx gen/*.xlsx corpus/xlsx/
cp "$root"/test/fixtures/import/*.csv gen/*.csv corpus/csv/
for f in corpus/xlsx/*.xlsx; do
    for sheet in $(unzip -Z1 "$f" | grep '^xl/worksheets/.*\.xml$'); do
        { unzip -p "$f" "$sheet"; printf '\0'; unzip -p "$f" xl/sharedStrings.xml 2>/dev/null || true;
          printf '\0'; unzip -p "$f" xl/styles.xml; } > "corpus/sheet_xml/$(basename "$f" .xlsx)_$(basename "$sheet")"
    done
done

each=$(( seconds / 3 > 0 ? seconds / 3 : 1 ))
total=0
for target in xlsx_fuzz csv_fuzz sheet_xml_fuzz; do
    corpus=corpus/${target%_fuzz}
    log=$target.log
    ./"$target" "$corpus" -max_total_time="$each" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix=artifacts/"$target"- >"$log" 2>&1 || true
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "$target: ${runs:-0} executions in ${each}s"
    total=$(( total + ${runs:-0} ))
done
crashes=$(find artifacts -type f | wc -l)
echo "total executions: $total; crashes: $crashes (artifacts in $work/artifacts)"
[ "$crashes" -eq 0 ]
