#!/usr/bin/env bash
# The upgrade chain: a database made with each earlier release and filled with data, brought to
# the current version with ALTER EXTENSION clinres UPDATE, must equal a fresh install of the
# current version: the same objects with the same definitions and privileges (pg_dump
# --binary-upgrade --schema-only includes an extension's members), the same rows, and the same
# has_module answers it gave before the update. Each step of the chain is checked the same way
# (0.1.0 updated to the last release equals a fresh install of it). It also checks that the frozen release scripts
# in versions/ were not edited (versions/SHA256SUMS), that every released one is listed there, and
# that the current library serves a last-release database before its update (the .so is shared by every
# version), including a session that stays open across the update.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
oldest=0.1.0 prev=$(last_release)
new=$(sed -n "s/^default_version = '\(.*\)'/\1/p" clinres.control)
db_oldest=clinres_upgrade_oldest   # 0.1.0 -> current
db_step=clinres_upgrade_step       # 0.1.0 -> the last release
db_prev=clinres_upgrade_prev       # fresh last release (the reference of the step), then -> current
fresh=clinres_upgrade_new          # fresh current
db_old_sql=clinres_upgrade_021     # 0.2.1, before the import staging
dbs="$db_oldest $db_step $db_prev $fresh $db_old_sql"
tmp=$(mktemp -d /tmp/clinres-upgrade.XXXXXX)
cleanup() {
    for d in $dbs; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
cleanup; mkdir -p "$tmp"

# Released scripts are frozen: each listed one unchanged, and every install script of an earlier
# version and every upgrade step into one listed (a step into the current version is listed once released).
(cd versions && sha256sum --quiet -c SHA256SUMS) || fail "a released script in versions/ was edited; release a new version instead"
for f in versions/clinres--*.sql; do
    name=${f#versions/} target=${f##*--}; target=${target%.sql}
    if [ "$target" != "$new" ] && ! grep -q "  $name\$" versions/SHA256SUMS; then
        fail "$name belongs to released $target but is not in versions/SHA256SUMS"
    fi
done
echo "frozen scripts: $(grep -c . versions/SHA256SUMS) in versions/SHA256SUMS, unchanged"

for d in $dbs; do psql -X -q -d postgres -c "CREATE DATABASE $d" >/dev/null; done
# install DB [VERSION]: the extension (and what it requires) and the sample data.
install() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$1" \
        -c "CREATE EXTENSION clinres ${2:+VERSION '$2'} CASCADE" -f test/fixtures/sample.sql >/dev/null
}
install "$db_oldest" "$oldest"; install "$db_step" "$oldest"; install "$db_prev" "$prev"; install "$fresh"

# Every row of every catalog table (timestamps and bcrypt hashes left out: they differ by when and salt).
rows() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
-- A table's rows as one jsonb array (PL/pgSQL: no server feature such as libxml is needed).
CREATE FUNCTION pg_temp.rows_of(t regclass) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    EXECUTE pg_catalog.format('SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), ''[]'') FROM %s x', t) INTO r;
    RETURN r;
END $$;
SELECT c.relname, r.j
  FROM pg_catalog.pg_class c
 CROSS JOIN LATERAL (SELECT pg_catalog.array_agg(a.attname) AS ts FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = c.oid AND a.atttypid = 'pg_catalog.timestamptz'::pg_catalog.regtype) t
 CROSS JOIN LATERAL (SELECT pg_catalog.jsonb_agg(x.j ORDER BY x.j::text) AS j
                       FROM pg_catalog.jsonb_array_elements(pg_temp.rows_of(c.oid::pg_catalog.regclass)) e(v)
                      CROSS JOIN LATERAL (SELECT e.v - coalesce(t.ts::text[], '{}') - 'password_hash' - 'secret' AS j) x) r
 WHERE c.relnamespace = 'clinres'::pg_catalog.regnamespace AND c.relkind = 'r'
 ORDER BY c.relname;
SQL
}
answers() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "
      SELECT pg_catalog.string_agg(pg_catalog.format('%s %s %s %s', u.email, t.code, m.code,
             clinres.has_module(u.id, t.id, m.code)), E'\n' ORDER BY u.email, t.code, m.code)
        FROM clinres.users u, clinres.tenants t, clinres.modules m"
}
# The extension's objects as pg_dump writes them, less what binary-upgrade mode adds for storage
# (pinned OIDs, xids, the stored default of a column added by ALTER TABLE); the required
# extensions are sorted (ALTER EXTENSION UPDATE records them in another order).
# The configuration tables are listed apart, by name: their order in pg_extension follows the
# order they were registered in, which an update cannot reproduce.
schema() {
    pg_dump --binary-upgrade --schema-only -d "$1" \
      | grep -v -E '^--|binary_upgrade_set_next_|binary_upgrade_set_missing_value|^SELECT pg_catalog.set_config|^\\(un)?restrict |^$' \
      | sed -E "s/'\\{[0-9,]+\\}'/'{oids}'/; s/relfrozenxid = '[0-9]+'/relfrozenxid = 'xid'/; s/WHERE oid = '[0-9]+'/WHERE oid = 'oid'/" \
      | sed -E "s/(create_empty_extension\(.*'\{oids\}', )'\{[^}]*\}'/\1'{conditions}'/" \
      | perl -pe 's/(create_empty_extension\(.*ARRAY\[)([^\]]*)\]/$1 . join(",", sort split(",", $2)) . "]"/e'
    psql -X -At -d "$1" -c "SELECT 'config table ' || c.relname || ': ' || x.cond
                              FROM pg_catalog.pg_extension e, unnest(e.extconfig, e.extcondition) x(oid, cond)
                              JOIN pg_catalog.pg_class c ON c.oid = x.oid
                             WHERE e.extname = 'clinres' ORDER BY c.relname"
}
version() { psql -X -At -d "$1" -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'clinres'"; }
# Saves what an updated database is compared with: its rows and answers before the update.
before() { rows "$1" >"$tmp/$1.rows.before"; answers "$1" >"$tmp/$1.answers.before"; }
# Compares database $1, updated from $2 to $3, with the fresh install $4 of $3; prints one line.
compare() {
    local db=$1 from=$2 to=$3 ref=$4 ok=1 got
    got=$(version "$db")
    [ "$got" = "$to" ] || fail "after ALTER EXTENSION UPDATE the version of $db is $got, not $to"
    rows "$db" >"$tmp/$db.rows.after"; answers "$db" >"$tmp/$db.answers.after"; schema "$db" >"$tmp/$db.schema"
    [ -f "$tmp/$ref.rows.ref" ] || { rows "$ref" >"$tmp/$ref.rows.ref"; answers "$ref" >"$tmp/$ref.answers.ref"; schema "$ref" >"$tmp/$ref.schema.ref"; }
    # Columns the update added are left out of the before/after comparison.
    python3 - "$tmp/$db.rows.before" "$tmp/$db.rows.after" <<'PY' || { echo "rows changed by the update"; ok=0; }
import json, sys
def load(path):
    return {t: json.loads(j) if j else [] for t, j in (line.rstrip("\n").split("|", 1) for line in open(path))}
before, after = load(sys.argv[1]), load(sys.argv[2])
bad = 0
for table, rows in before.items():
    keys = set(rows[0]) if rows else set()
    projected = sorted(json.dumps({k: r[k] for k in keys}, sort_keys=True) for r in after.get(table, []))
    if projected != sorted(json.dumps(r, sort_keys=True) for r in rows):
        print("rows of", table, "changed"); bad = 1
sys.exit(bad)
PY
    diff -u "$tmp/$ref.rows.ref" "$tmp/$db.rows.after" || { echo "rows differ from a fresh install"; ok=0; }
    diff -u "$tmp/$db.answers.before" "$tmp/$db.answers.after" || { echo "has_module answers changed by the update"; ok=0; }
    diff -u "$tmp/$ref.answers.ref" "$tmp/$db.answers.after" || { echo "has_module answers differ from a fresh install"; ok=0; }
    diff -u "$tmp/$ref.schema.ref" "$tmp/$db.schema" || { echo "objects differ from a fresh install: versions/clinres--*--$to.sql does not cover a change"; ok=0; }
    [ $ok -eq 1 ] || fail "$from updated to $to differs from a fresh install of $to"
    echo "upgraded $from -> $to: $(grep -c . "$tmp/$db.schema") lines of schema, $(grep -c . "$tmp/$db.rows.after") tables," \
         "$(grep -c . "$tmp/$db.answers.after") has_module answers: identical to a fresh $to"
}

# 0.1.0 required pgcrypto only; 0.2.0 also requires pg_trgm, which ALTER EXTENSION UPDATE does not
# create: without it the update must refuse, with it (made first, as the README says) it succeeds.
for d in $db_oldest $db_step; do before "$d"; done
[ -z "$(psql -X -At -d "$db_oldest" -c "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_trgm'")" ] \
    || fail "$oldest created pg_trgm; versions/clinres--$oldest.control should require pgcrypto only"
if psql -X -q -d "$db_oldest" -c "ALTER EXTENSION clinres UPDATE" >/dev/null 2>"$tmp/err"; then
    fail "ALTER EXTENSION clinres UPDATE succeeded without pg_trgm"
fi
grep -q 'required extension "pg_trgm" is not installed' "$tmp/err" || { cat "$tmp/err"; fail "unexpected error without pg_trgm"; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db_step" -c "CREATE EXTENSION pg_trgm" -c "ALTER EXTENSION clinres UPDATE TO '$prev'" >/dev/null
before "$db_prev"
compare "$db_step" "$oldest" "$prev" "$db_prev"
psql -X -q -v ON_ERROR_STOP=1 -d "$db_oldest" -c "CREATE EXTENSION pg_trgm" -c "ALTER EXTENSION clinres UPDATE" >/dev/null
compare "$db_oldest" "$oldest" "$new" "$fresh"

# The current library on the 0.2.0 database, in one session that stays open across its update: a
# change another session commits reaches this session's access cache before the update (0.2.0's
# catalog tables ring) and after it (the doorbell sequences ring), and import_users, which needs
# the current SQL, refuses with a hint until the update has run.
alice=00000000-0000-0000-0000-0000000000a1 bob=00000000-0000-0000-0000-0000000000b0 hosp_a=a0000000-0000-0000-0000-00000000000a
other() { echo "\\! psql -X -q -v ON_ERROR_STOP=1 -d $db_prev -c \"$1\" >/dev/null || echo 'the other session failed'"; }
bob_status() { other "UPDATE clinres.users SET status = '$1' WHERE id = '$bob'"; }
check="SELECT clinres.has_module('$bob', '$hosp_a', 'aia');"
import="BEGIN; SELECT clinres.set_context('$alice', '$hosp_a') IS NOT NULL;
SELECT count(*) FROM clinres.import_users(pg_catalog.convert_to(E'email,name\nzed@hosp-a.example,Zed\n', 'UTF8'), '$hosp_a', 'csv', true);
ROLLBACK;"
session=$( {
    echo "$check"; bob_status disabled; echo "$check"; bob_status active; echo "$check"; echo "$import"
    other "ALTER EXTENSION clinres UPDATE"
    echo "$check"; bob_status disabled; echo "$check"; bob_status active; echo "$check"; echo "$import"
} | psql -X -q -At -d "$db_prev" 2>&1)
expected="t
f
t
t
1
t
f
t
t
1"
[ "$session" = "$expected" ] || { diff -u <(echo "$expected") <(echo "$session") || true; fail "the $new library on a $prev database, across its update"; }
echo "$prev database with the $new library: has_module fresh in one open session before and after ALTER EXTENSION UPDATE"
# SQL older than the library's staging (0.2.1) makes import_users ask for the update.
install "$db_old_sql" 0.2.1
got=$(psql -X -q -At -d "$db_old_sql" -c "$import" 2>&1 || true)
expected="t
ERROR:  clinres 0.2.1 is installed in this database, but import_users needs the SQL of the installed library's version
HINT:  Run ALTER EXTENSION clinres UPDATE."
[ "$got" = "$expected" ] || { diff -u <(echo "$expected") <(echo "$got") || true; fail "import_users on a 0.2.1 database"; }
echo "0.2.1 database with the $new library: import_users asks for the update"
compare "$db_prev" "$prev" "$new" "$fresh"
echo "upgrade: $oldest -> $prev -> $new, $oldest -> $new and $prev -> $new equal fresh installs"
