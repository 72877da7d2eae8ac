// The signature table (and so the TypeScript types) against pg_proc on a live server: fails when
// an argument name, type, default, or a result column or type drifts. A function not installed on
// the server yet is skipped with a line naming it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { signatures, type SqlSignature } from "../src/signatures.js";
import { comparable, inputTypes, readSignatures } from "../tools/catalog.js";

import { offline } from "./env.js";

const db = new pg.Client({ database: process.env.CLINRES_TEST_DB });
let server: SqlSignature[] = [];
before(async () => {
    if (offline) return;
    await db.connect();
    server = await readSignatures(db, [...new Set(Object.values(signatures).map((s) => s.fn))]);
});
after(() => (offline ? undefined : db.end()));

for (const [key, sig] of Object.entries(signatures) as [string, SqlSignature][]) {
    test(`signature of ${key}: ${inputTypes(sig)}`, { skip: offline }, (t) => {
        const overloads = server.filter((s) => s.fn === sig.fn);
        if (overloads.length === 0) {
            console.log(`SKIP: clinres.${sig.fn} is not on this server yet (signature ${key} unchecked)`);
            t.skip(`clinres.${sig.fn} not installed`);
            return;
        }
        const same = overloads.find((s) => inputTypes(s) === inputTypes(sig));
        assert.ok(same, `no overload ${inputTypes(sig)}; the server has: ${overloads.map(inputTypes).join("; ")}`);
        assert.deepEqual(comparable(same), comparable(sig));
    });
}
