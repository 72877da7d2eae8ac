// Requests per second of a guarded request from Node (pg 8), old shape against new:
//   old: BEGIN; set_context; require_module; the query; COMMIT      (5 round trips)
//   new: BEGIN; begin_request; the query; COMMIT  (withRequest)      (4 round trips)
// C concurrent clients for S seconds each; the query reads the RLS-guarded notes of the tenant.
// The same two shapes through Prisma 7 (@prisma/adapter-pg, interactive transactions) follow.
//   node dist/bench/requests.js --clients 20 --seconds 2 --pairs 5 --via pgbouncer
import { parseArgs } from "node:util";
import pg from "pg";
import { withRequest } from "../src/pg.js";
import * as prc from "../src/prisma.js";
import { A, alice, appPool, appPrisma } from "../test/env.js";

const { values: opt } = parseArgs({ options: {
    clients: { type: "string", default: "20" }, seconds: { type: "string", default: "2" }, pairs: { type: "string", default: "5" },
    via: { type: "string", default: "directly" } } });
const clients = Number(opt.clients), seconds = Number(opt.seconds), pairs = Number(opt.pairs);
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

type Prisma = ReturnType<typeof appPrisma>;
const txOptions = { maxWait: 20_000, timeout: 30_000 };

async function oldPrisma(prisma: Prisma) {
    return prisma.$transaction(async (tx) => {
        await tx.$queryRawUnsafe("SELECT true FROM clinres.set_context($1::uuid, $2::uuid, true)", alice, A);
        await tx.$queryRawUnsafe("SELECT true FROM clinres.require_module($1::uuid, $2::uuid, $3::text)", alice, A, "aia");
        return (await tx.$queryRawUnsafe<{ n: number }[]>(query))[0].n;
    }, txOptions);
}

async function newPrisma(prisma: Prisma) {
    return prisma.$transaction((tx) => prc.withRequest(tx, { user: alice, tenant: A, module: "aia" },
        async (t) => (await t.$queryRawUnsafe<{ n: number }[]>(query))[0].n), txOptions);
}

/** Requests per second of one shape: `clients` loops for `seconds`, every answer checked. */
async function measure<D>(pool: D, shape: (p: D) => Promise<number>): Promise<number> {
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

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/**
 * Runs the two shapes in alternating pairs (old, new) and prints the median req/s of each and the
 * median of the per-pair ratios: pairing keeps a shared machine's drifting load out of the ratio.
 */
async function compare<D>(db: D, label: string, oldS: (d: D) => Promise<number>, newS: (d: D) => Promise<number>) {
    const o: number[] = [], n: number[] = [], ratio: number[] = [];
    await measure(db, oldS); // warm-up pair, not counted (plans, JIT, connections)
    await measure(db, newS);
    for (let i = 0; i < pairs; i++) {
        o.push(await measure(db, oldS));
        n.push(await measure(db, newS));
        ratio.push(n[i] / o[i]);
    }
    const r = median(ratio);
    console.log(`${opt.via}, ${label}, ${clients} client(s), ${pairs} pairs of ${seconds} s: old ${median(o).toFixed(0)} req/s, `
        + `new ${median(n).toFixed(0)} req/s, new/old ${r.toFixed(2)} (pairs ${ratio.map((x) => x.toFixed(2)).join(" ")})`);
}

const pool = appPool(clients);
const prisma = appPrisma(clients);
try {
    await compare(pool, "pg", oldShape, newShape);
    await compare(prisma, "Prisma", oldPrisma, newPrisma);
} finally {
    await prisma.$disconnect();
    await pool.end();
}
