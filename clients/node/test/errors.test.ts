// Error mapping: only clinres's denials (42501 with the clinres marker) become ModuleDenied and
// 403; a missing GRANT, an RLS WITH CHECK violation (also 42501) and anything else stay 500.
// First on error objects as pg and Prisma build them, then on a live server through both drivers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ModuleDenied, clinresDenial, keepDenialMarker, toHttpStatus } from "../src/errors.js";
import * as pgc from "../src/pg.js";
import * as prc from "../src/prisma.js";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { A, B, appConfig, appPool, appPrisma, bob, carol, have, installedFunctions } from "./env.js";

/** An error shaped like @prisma/adapter-pg's conversion inside Prisma's P2010. */
function prismaError(cause: Record<string, unknown>) {
    return Object.assign(new Error("Raw query failed"), { name: "PrismaClientKnownRequestError", code: "P2010",
                                                            meta: { driverAdapterError: { name: "DriverAdapterError", cause } } });
}

describe("toHttpStatus on error objects", () => {
    test("a pg error with the clinres marker is a denial", () => {
        const err = Object.assign(new Error('permission denied for module "asl"'), { code: "42501", schema: "clinres", table: "module", column: "asl" });
        assert.equal(toHttpStatus(err), 403);
        assert.deepEqual(clinresDenial(err), { kind: "module", what: "asl", message: 'permission denied for module "asl"' });
    });
    test("42501 without the marker is not", () => {
        assert.equal(toHttpStatus(Object.assign(new Error("permission denied for table users"), { code: "42501" })), 500);
        assert.equal(toHttpStatus(Object.assign(new Error("x"), { code: "42501", schema: "public" })), 500);
    });
    test("other SQLSTATEs, plain errors and non-errors are 500", () => {
        assert.equal(toHttpStatus(Object.assign(new Error("unknown module"), { code: "22023", schema: "clinres" })), 500);
        assert.equal(toHttpStatus(new Error("boom")), 500);
        assert.equal(toHttpStatus("boom"), 500);
        assert.equal(toHttpStatus(null), 500);
    });
    test("a Prisma P2010 carrying 42501 is 500 unless clinresPool restated the marker", () => {
        assert.equal(toHttpStatus(prismaError({ kind: "postgres", originalCode: "42501", code: "42501",
                                                originalMessage: "new row violates row-level security policy" })), 500);
        assert.equal(toHttpStatus(prismaError({ kind: "postgres", originalCode: "42501", column: "asl" })), 500);
        const marked = prismaError({ kind: "postgres", originalCode: "42501", column: "clinres:permission:user:view",
                                     originalMessage: "permission denied" });
        assert.equal(toHttpStatus(marked), 403);
        assert.deepEqual(clinresDenial(marked), { kind: "permission", what: "user:view", message: "permission denied" });
    });
    test("keepDenialMarker restates only clinres's marker", () => {
        const err = keepDenialMarker(Object.assign(new Error("denied"), { code: "42501", schema: "clinres", table: "module", column: "asl" }));
        assert.equal(err.column, "clinres:module:asl");
        assert.deepEqual(clinresDenial(err), { kind: "module", what: "asl", message: "denied" });
        assert.equal(keepDenialMarker(Object.assign(new Error("x"), { code: "42501", column: "c" })).column, "c");
    });
    test("ModuleDenied is 403", () => {
        assert.equal(toHttpStatus(new ModuleDenied("permission denied for module \"asl\"", "module", "asl")), 403);
    });
});

describe("on a live server", () => {
    const pool = appPool(4);
    const prisma = appPrisma(4);
    const db = prisma.$extends(prc.clinresExtension());
    let installed = new Set<string>();
    before(async () => { installed = await installedFunctions(pool); });
    after(async () => { await prisma.$disconnect(); await pool.end(); });

    /** The status a failing call maps to; fails the test if the call succeeds. */
    async function statusOf(p: Promise<unknown>): Promise<number> {
        try { await p; } catch (err) { return toHttpStatus(err); }
        assert.fail("expected an error");
    }

    test("a missing GRANT (42501) is 500, through pg and Prisma", async () => {
        assert.equal(await statusOf(pool.query("SELECT count(*) FROM clinres.users")), 500);
        assert.equal(await statusOf(prisma.$queryRawUnsafe("SELECT count(*) FROM clinres.users")), 500);
    });

    test("a module denial is ModuleDenied and 403, through pg, Prisma and $extends", async (t) => {
        if (!have(installed, "module denial through withRequest", "begin_request")) return t.skip("begin_request missing");
        const req = { user: bob, tenant: A, module: "asl" };
        await assert.rejects(pgc.withRequest(pool, req, async () => 1), ModuleDenied);
        await assert.rejects(prisma.$transaction((tx) => prc.withRequest(tx, req, async () => 1)), ModuleDenied);
        await assert.rejects(db.$withRequest(req, async () => 1), ModuleDenied);
        // Prisma on a plain pool: the adapter drops the marker, so the denial is not recognised (500).
        const plain = new PrismaClient({ adapter: new PrismaPg(appConfig(1)) });
        try {
            assert.equal(await statusOf(plain.$transaction((tx) => prc.withRequest(tx, req, async () => 1))), 500);
        } finally {
            await plain.$disconnect();
        }
        assert.equal(await statusOf(pgc.withRequest(pool, { user: carol, tenant: B, module: "asl" }, async () => 1)), 403);
    });

    test("an RLS WITH CHECK violation (42501) is 500, through pg and Prisma", async (t) => {
        if (!have(installed, "RLS violation inside withRequest", "begin_request")) return t.skip("begin_request missing");
        const req = { user: bob, tenant: A, module: "aia" };
        const foreign = "INSERT INTO aia_schema.notes (tenant_id, body) VALUES ($1::uuid, 'not mine')";
        assert.equal(await statusOf(pgc.withRequest(pool, req, (c) => c.query(foreign, [B]))), 500);
        assert.equal(await statusOf(db.$withRequest(req, (tx) => tx.$executeRawUnsafe(foreign, B))), 500);
    });

    test("an unknown module code (22023) is 500", async (t) => {
        if (!have(installed, "unknown module inside withRequest", "begin_request")) return t.skip("begin_request missing");
        assert.equal(await statusOf(pgc.withRequest(pool, { user: bob, tenant: A, module: "crm" }, async () => 1)), 500);
        assert.equal(await statusOf(db.$withRequest({ user: bob, tenant: A, module: "crm" }, async () => 1)), 500);
    });
});
