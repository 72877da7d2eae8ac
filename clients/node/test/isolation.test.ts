// No context reaches another request: withRequest / withContext run every statement of a request
// on one connection, whichever copy of pg made the pool (pg-copy is a second copy of pg 8.23.1,
// as an application has when it installs this package as a symlink), refuse what they cannot
// recognise or cannot make safe, and leave a pooled connection clean for the next request.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import pgCopy from "pg-copy";
import { clinres, withContext, withRequest } from "../src/pg.js";
import * as prc from "../src/prisma.js";
import { A, B, alice, appConfig, appPrisma, bob, dave, offline } from "./env.js";

const ctxA = { user: alice, tenant: A }, ctxB = { user: dave, tenant: B };
/** Rows of list_users that are not of the tenant the admin administers (the sample's e-mail domains). */
const foreign = (rows: { email: string }[], tenant: string) =>
    rows.filter((r) => !r.email.toLowerCase().endsWith(tenant === A ? "@hosp-a.example" : "@hosp-b.example")).length;

describe("requests on a pool of another copy of pg", { skip: offline }, () => {
    const pool = new pgCopy.Pool(appConfig(20));
    after(() => pool.end());

    test("it is another copy", () => {
        assert.notEqual(pgCopy.Pool, pg.Pool);
        assert.equal(pool instanceof pg.Pool, false);
    });

    test("20 workers, two tenants' admins: every list shows its own tenant only, and nothing fails", async () => {
        let calls = 0, wrong = 0;
        const failures: string[] = [];
        await Promise.all(Array.from({ length: 20 }, async (_, w) => {
            for (let i = 0; i < 15; i++) {
                const [ctx, tenant] = (w + i) % 2 === 0 ? [ctxA, A] : [ctxB, B];
                try {
                    const rows = await withContext(pool, ctx, async (_c, c, api) => {
                        await sleep(i % 3);   // a handler awaits other things between its statements
                        if (c.tenant_id !== tenant) wrong++;
                        return api.listUsers({ page_size: 100 });
                    });
                    calls++;
                    wrong += foreign(rows, tenant);
                    if (rows.length === 0) wrong++;
                } catch (e) {
                    failures.push((e as Error).message);
                }
            }
        }));
        assert.deepEqual({ calls, wrong, failures: failures.slice(0, 3) }, { calls: 300, wrong: 0, failures: [] });
    });

    test("a pg.Client and a pg.PoolClient of the other copy are used as they are", async () => {
        const client = new pgCopy.Client(appConfig());
        await client.connect();
        try {
            const pid = (await client.query("SELECT pg_catalog.pg_backend_pid() AS p")).rows[0].p;
            const seen = await withContext(client, ctxB, async (c) => (await c.query("SELECT pg_catalog.pg_backend_pid() AS p")).rows[0].p);
            assert.equal(seen, pid);
        } finally {
            await client.end();
        }
        const pc = await pool.connect();
        try {
            const ctx = await withContext(pc, ctxA, async (_c, c) => c);
            assert.equal(ctx.tenant_id, A);
            assert.equal(pc.getTransactionStatus(), "I");
        } finally {
            pc.release();
        }
    });
});

describe("what withRequest / withContext refuse", { skip: offline }, () => {
    const pool = new pg.Pool(appConfig(1));   // one connection: the next request gets the same one
    const prisma = appPrisma(1);
    after(async () => { await pool.end(); await prisma.$disconnect(); });
    const contextOf = async () => (await pool.query(
        "SELECT clinres.current_user_id() AS u, clinres.current_tenant_id() AS t, pg_catalog.pg_backend_pid() AS p")).rows[0];
    let pid = 0;
    before(async () => { pid = (await contextOf()).p; });

    test("an object that is neither a pg pool nor a pg client: TypeError, and nothing is run on it", async () => {
        const sent: string[] = [];
        const poolLike = { query: async (sql: string) => { sent.push(sql); return { rows: [] }; }, connect: async () => ({}) };
        await assert.rejects(withContext(poolLike as never, ctxA, async () => 1), TypeError);
        await assert.rejects(withRequest({} as never, { ...ctxA, module: "aia" }, async () => 1), TypeError);
        assert.throws(() => clinres(poolLike as never), TypeError);
        assert.deepEqual(sent, []);
    });

    test("the client is unusable once the request ended, and fn may not release it", async () => {
        let kept: pg.ClientBase | undefined;
        await withContext(pool, ctxA, async (c) => { kept = c; });
        assert.throws(() => kept!.query("SELECT clinres.current_user_id()"), /used after its request ended/);
        await assert.rejects(withContext(pool, ctxA, async (c) => (c as pg.PoolClient).release()), /release the client themselves/);
        assert.deepEqual(await contextOf(), { u: null, t: null, p: pid });
    });

    test("one client, two requests at once: the second is refused, the first sees its own tenant", async () => {
        const client = await pool.connect();
        try {
            const first = withContext(client, ctxA, (_c, _x, api) => api.listUsers({ page_size: 100 }));
            await assert.rejects(withContext(client, ctxB, async () => 1), /already in a transaction or another request/);
            assert.equal(foreign(await first, A), 0);
            await client.query("BEGIN");
            await assert.rejects(withContext(client, ctxB, async () => 1), /already in a transaction/);
            await client.query("ROLLBACK");
        } finally {
            client.release();
        }
    });

    test("an error fn caught still rolls the request back, and the request fails", async () => {
        const email = `swallowed-${Date.now()}@hosp-a.example`;
        await assert.rejects(withContext(pool, ctxA, async (c, _x, api) => {
            await api.createUser({ email, name: "Never" });
            await c.query("SELECT 1 / 0").catch(() => undefined);   // the transaction is now aborted
            return "ok";
        }), /rolled back/);
        const rows = await withContext(pool, ctxA, (_c, _x, api) => api.listUsers({ search: email }));
        assert.equal(rows.length, 0);
    });

    test("no context outlives its request on the pooled connection, after success or failure", async () => {
        await withContext(pool, ctxB, async () => 1);
        assert.deepEqual(await contextOf(), { u: null, t: null, p: pid });
        await assert.rejects(withRequest(pool, { user: bob, tenant: A, module: "asl" }, async () => 1));
        await assert.rejects(withContext(pool, ctxA, async (c) => { await c.query("SELECT 1 / 0"); }));
        assert.deepEqual(await contextOf(), { u: null, t: null, p: pid });
    });

    test("on a pool, the calls that set a context or need one transaction throw", async () => {
        const api = clinres(pool);
        await assert.rejects(api.setSession("token"), /not a pool/);
        await assert.rejects(api.setContext(alice, A), /not a pool/);
        await assert.rejects(api.beginRequest({ ...ctxA, module: "aia" }), /not a pool/);
        await assert.rejects(api.createUser({ email: "x@hosp-a.example", name: "X" }), /not a pool/);
        assert.deepEqual((await api.userModules(bob, A)).map((m) => m.code), ["aia", "pkb"]);   // no context needed
    });

    test("Prisma: withContext / withRequest take the transaction client, not the Prisma client", async () => {
        await assert.rejects(prc.withContext(prisma, ctxA, async () => 1), /transaction client/);
        await assert.rejects(prc.withRequest(prisma, { ...ctxA, module: "aia" }, async () => 1), /transaction client/);
        await assert.rejects(prc.clinres(prisma).setSession("token"), /not a pool/);
        const tenant = await prisma.$transaction((tx) => prc.withContext(tx, ctxB, async (_t, c) => c.tenant_id));
        assert.equal(tenant, B);
    });
});
