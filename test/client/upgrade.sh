#!/usr/bin/env bash
# The upgrade chain: a database made with the oldest release (0.1.0) and filled with data,
# brought to the current version with ALTER EXTENSION clinres UPDATE, must equal a fresh
# install of the current version: the same objects with the same definitions and privileges
# (pg_dump --binary-upgrade --schema-only includes an extension's members), the same rows,
# and the same has_module answers it gave before the update. It also checks that the
# frozen release scripts in versions/ were not edited (versions/SHA256SUMS).
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/client/lib.sh
old=0.1.0
new=$(sed -n "s/^default_version = '\(.*\)'/\1/p" clinres.control)
up=clinres_upgrade_old fresh=clinres_upgrade_new
tmp=$(mktemp -d /tmp/clinres-upgrade.XXXXXX)
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $up" -c "DROP DATABASE IF EXISTS $fresh" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
cleanup; mkdir -p "$tmp"

(cd versions && sha256sum --quiet -c SHA256SUMS) || fail "a released script in versions/ was edited; release a new version instead"

psql -X -q -d postgres -c "CREATE DATABASE $up" -c "CREATE DATABASE $fresh" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$up" -c "CREATE EXTENSION clinres VERSION '$old' CASCADE" -f test/fixtures/sample.sql >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$fresh" -c "CREATE EXTENSION clinres CASCADE" -f test/fixtures/sample.sql >/dev/null

# Every row of every catalog table (timestamps and bcrypt hashes left out: they differ by when and salt).
rows() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT c.relname, r.j
  FROM pg_catalog.pg_class c
 CROSS JOIN LATERAL (SELECT pg_catalog.array_agg(a.attname) AS ts FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = c.oid AND a.atttypid = 'pg_catalog.timestamptz'::pg_catalog.regtype) t
 CROSS JOIN LATERAL (SELECT pg_catalog.jsonb_agg(x.j ORDER BY x.j::text) AS j
                       FROM pg_catalog.jsonb_array_elements(
                            (xpath('/row/j/text()', query_to_xml(pg_catalog.format(
                              'SELECT coalesce(jsonb_agg(to_jsonb(x)), ''[]'') AS j FROM clinres.%I x', c.relname),
                              false, true, '')))[1]::text::jsonb) e(v)
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
schema() {
    pg_dump --binary-upgrade --schema-only -d "$1" \
      | grep -v -E '^--|binary_upgrade_set_next_|binary_upgrade_set_missing_value|^SELECT pg_catalog.set_config|^\\(un)?restrict |^$' \
      | sed -E "s/'\\{[0-9,]+\\}'/'{oids}'/; s/relfrozenxid = '[0-9]+'/relfrozenxid = 'xid'/; s/WHERE oid = '[0-9]+'/WHERE oid = 'oid'/" \
      | perl -pe 's/(create_empty_extension\(.*ARRAY\[)([^\]]*)\]/$1 . join(",", sort split(",", $2)) . "]"/e'
}

rows "$up" >"$tmp/rows.before"; answers "$up" >"$tmp/answers.before"
# 0.1.0 required pgcrypto only; 0.2.0 also requires pg_trgm, which ALTER EXTENSION UPDATE does not
# create: without it the update must refuse, with it (made first, as the README says) it succeeds.
[ -z "$(psql -X -At -d "$up" -c "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_trgm'")" ] \
    || fail "0.1.0 created pg_trgm; versions/clinres--0.1.0.control should require pgcrypto only"
if psql -X -q -d "$up" -c "ALTER EXTENSION clinres UPDATE" >/dev/null 2>"$tmp/err"; then
    fail "ALTER EXTENSION clinres UPDATE succeeded without pg_trgm"
fi
grep -q 'required extension "pg_trgm" is not installed' "$tmp/err" || { cat "$tmp/err"; fail "unexpected error without pg_trgm"; }
psql -X -q -v ON_ERROR_STOP=1 -d "$up" -c "CREATE EXTENSION pg_trgm" -c "ALTER EXTENSION clinres UPDATE" >/dev/null
got=$(psql -X -At -d "$up" -c "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'clinres'")
[ "$got" = "$new" ] || fail "after ALTER EXTENSION UPDATE the version is $got, not $new"
echo "upgraded $old -> $new"
rows "$up" >"$tmp/rows.after"; answers "$up" >"$tmp/answers.after"; rows "$fresh" >"$tmp/rows.fresh"
answers "$fresh" >"$tmp/answers.fresh"
schema "$up" >"$tmp/schema.up"; schema "$fresh" >"$tmp/schema.fresh"

ok=1
# Columns the update added are left out of the before/after comparison.
python3 - "$tmp/rows.before" "$tmp/rows.after" <<'PY' || { echo "rows changed by the update"; ok=0; }
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
diff -u "$tmp/rows.fresh" "$tmp/rows.after" || { echo "rows differ from a fresh install"; ok=0; }
diff -u "$tmp/answers.before" "$tmp/answers.after" || { echo "has_module answers changed by the update"; ok=0; }
diff -u "$tmp/answers.fresh" "$tmp/answers.after" || { echo "has_module answers differ from a fresh install"; ok=0; }
diff -u "$tmp/schema.fresh" "$tmp/schema.up" || { echo "objects differ from a fresh install: versions/clinres--*--$new.sql does not cover a change"; ok=0; }
[ $ok -eq 1 ] || fail "upgraded database differs from a fresh install of $new"
echo "  $(grep -c . "$tmp/schema.up") lines of schema, $(grep -c . "$tmp/rows.after") tables, $(grep -c . "$tmp/answers.after") has_module answers: identical"
echo "upgrade: $old -> $new equals a fresh install of $new"
