// Prints the signature table as the server named by PGHOST/PGPORT/PGDATABASE has it, for the
// functions src/signatures.ts lists (npm run signatures); review the differences, then edit the table.
import pg from "pg";
import { signatures } from "../src/signatures.js";
import { readSignatures } from "./catalog.js";

const db = new pg.Client();
await db.connect();
try {
    const names = [...new Set(Object.values(signatures).map((s) => s.fn))];
    for (const sig of await readSignatures(db, names)) console.log(JSON.stringify(sig));
} finally {
    await db.end();
}
