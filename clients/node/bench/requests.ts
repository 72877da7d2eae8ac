// Requests per second of a guarded request from Node (pg 8), old shape against new:
//   old: BEGIN; set_context; require_module; the query; COMMIT      (5 round trips)
//   new: BEGIN; begin_request; the query; COMMIT  (withRequest)      (4 round trips)
// C concurrent clients for S seconds each; the query reads the RLS-guarded notes of the tenant.
//   node dist/bench/requests.js --clients 20 --seconds 5 --via pgbouncer
import { parseArgs } from "node:util";
import pg from "pg";
import { withRequest } from "../src/pg.js";
import { A, alice, appPool } from "../test/env.js";

const { values: opt } = parseArgs({ options: {
    clients: { type: "string", default: "20" }, seconds: { type: "string", default: "5" }, via: { type: "string", default: "directly" } } });
const clients = Number(opt.clients), seconds = Number(opt.seconds);
const query = "SELECT count(*)::int AS n FROM aia_schema.notes";

async function oldShape(pool: pg.Pool) {
    const c = await pool.connect();
    try {
        await c.query("BEGIN");
        await c.query("SELECT true FROM clinres.set_context($1::uuid, $2::uuid, true)", [alice, A]);
        await c.query("SELECT true FROM clinres.require_module($1::uuid, $2::uuid, $3::text)", [alice, A, "aia"]);
        const { rows } = await c.query(query);
        await c.query("COMMIT");
        return rows[0].n as number;
    } finally {
        c.release();
    }
}

async function newShape(pool: pg.Pool) {
    return withRequest(pool, { user: alice, tenant: A, module: "aia" }, async (c) => (await c.query(query)).rows[0].n as number);
}

/** Requests per second of one shape: `clients` loops for `seconds`, every answer checked. */
async function measure(pool: pg.Pool, shape: (p: pg.Pool) => Promise<number>): Promise<number> {
    await Promise.all(Array.from({ length: clients }, () => shape(pool))); // warm every connection
    const end = Date.now() + seconds * 1000;
    let done = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
        while (Date.now() < end) {
            if ((await shape(pool)) < 3) throw new Error("the guarded table showed fewer rows than the tenant has");
            done++;
        }
    }));
    return done / ((performance.now() - started) / 1000);
}

const pool = appPool(clients);
try {
    const results: [string, number][] = [];
    for (const [name, shape] of [["old (set_context + require_module)", oldShape], ["new (begin_request)", newShape],
                                 ["old (set_context + require_module)", oldShape], ["new (begin_request)", newShape]] as const) {
        results.push([name, await measure(pool, shape)]);
    }
    const best = (n: string) => Math.max(...results.filter(([k]) => k === n).map(([, v]) => v));
    const o = best("old (set_context + require_module)"), nw = best("new (begin_request)");
    console.log(`${opt.via}, ${clients} clients, ${seconds} s per run (best of 2): old ${o.toFixed(0)} req/s, new ${nw.toFixed(0)} req/s (${((nw / o - 1) * 100).toFixed(0)}%)`);
} finally {
    await pool.end();
}
