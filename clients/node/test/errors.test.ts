// Error mapping: each clinres error to its HTTP status and field; only clinres's denials (42501
// with the clinres marker) become ModuleDenied and 403; a missing GRANT, an RLS WITH CHECK
// violation (also 42501), 28000 without the marker and anything else stay 500.
// First on error objects as pg and Prisma build them, then on a live server through both drivers.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ModuleDenied, clinresDenial, keepMarker, toHttpError, toHttpStatus } from "../src/errors.js";
import * as pgc from "../src/pg.js";
import * as prc from "../src/prisma.js";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { A, B, alice, erin, appConfig, appPool, appPrisma, bob, carol, have, installedFunctions, offline } from "./env.js";

/** An error shaped like pg's DatabaseError. */
function pgError(message: string, fields: Record<string, string>) {
    return Object.assign(new Error(message), { severity: "ERROR", ...fields });
}

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
    test("each clinres SQLSTATE maps to its status, with the field that failed", () => {
        const cases: [Record<string, string>, number, string | null][] = [
            [{ code: "28000", schema: "clinres", table: "session", column: "token" }, 401, null],
            [{ code: "22023", schema: "clinres", table: "field", column: "email" }, 400, "email"],
            [{ code: "22023", schema: "clinres", table: "field", column: "page_size" }, 400, "page_size"],
            [{ code: "22023" }, 400, null],                        // unmarked (PostgreSQL's own): no field
            [{ code: "22P02" }, 400, null],                        // e.g. 'abc'::uuid
            [{ code: "23505", schema: "clinres", table: "field", column: "phone" }, 409, "phone"],
            [{ code: "23505", constraint: "users_email_key" }, 409, null],
            [{ code: "P0002" }, 404, null],
            [{ code: "55000" }, 503, null],
            [{ code: "42501", schema: "clinres", table: "self", column: "delete" }, 403, null],
            [{ code: "40001" }, 500, null],
        ];
        for (const [fields, status, field] of cases) {
            const h = toHttpError(pgError("m", fields));
            assert.deepEqual([h.status, h.field, h.sqlstate], [status, field, fields.code], JSON.stringify(fields));
        }
        const denial = toHttpError(pgError("denied", { code: "42501", schema: "clinres", table: "role", column: "TENANT_ADMIN" }));
        assert.deepEqual([denial.kind, denial.what], ["role", "TENANT_ADMIN"]);
    });
    test("28000 without clinres's marker (pg_hba.conf refused the connection) is 500", () => {
        assert.equal(toHttpStatus(pgError('no pg_hba.conf entry for host "10.0.0.1"', { code: "28000" })), 500);
    });
    test("Prisma: the restated field, and 28000 of a raw query is 401", () => {
        assert.equal(toHttpError(prismaError({ kind: "postgres", originalCode: "22023", column: "clinres:field:modules" })).field, "modules");
        assert.equal(toHttpStatus(prismaError({ kind: "DatabaseAccessDenied", originalCode: "28000", originalMessage: "invalid session token" })), 401);
    });
    test("other SQLSTATEs, plain errors and non-errors are 500", () => {
        assert.equal(toHttpStatus(Object.assign(new Error("unknown module"), { code: "XX000", schema: "clinres" })), 500);
        assert.equal(toHttpStatus(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })), 500);
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
    test("keepMarker restates only clinres's marker", () => {
        const err = keepMarker(Object.assign(new Error("denied"), { code: "42501", schema: "clinres", table: "module", column: "asl" }));
        assert.equal(err.column, "clinres:module:asl");
        assert.deepEqual(clinresDenial(err), { kind: "module", what: "asl", message: "denied" });
        assert.equal(keepMarker(Object.assign(new Error("x"), { code: "42501", column: "c" })).column, "c");
        const field = keepMarker(pgError('invalid email "x"', { code: "22023", schema: "clinres", table: "field", column: "email" }));
        assert.equal((field as { column?: string }).column, "clinres:field:email");
        assert.equal(toHttpError(field).field, "email");
    });
    test("ModuleDenied is 403", () => {
        assert.equal(toHttpStatus(new ModuleDenied("permission denied for module \"asl\"", "module", "asl")), 403);
    });
});

describe("on a live server", { skip: offline }, () => {
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

    test("an unknown module code (22023) is 400", async (t) => {
        if (!have(installed, "unknown module inside withRequest", "begin_request")) return t.skip("begin_request missing");
        assert.equal(await statusOf(pgc.withRequest(pool, { user: bob, tenant: A, module: "crm" }, async () => 1)), 400);
        assert.equal(await statusOf(db.$withRequest({ user: bob, tenant: A, module: "crm" }, async () => 1)), 400);
    });

    test("a forged token is 401, through pg and Prisma", async () => {
        assert.equal(await statusOf(pgc.withContext(pool, { token: "forged" }, async () => 1)), 401);
        assert.equal(await statusOf(db.$withContext({ token: "forged" }, async () => 1)), 401);
    });

    test("a bad uuid is 400, a missing user 404, a duplicate email 409, with the field where clinres marks it", async () => {
        const ctx = { user: alice, tenant: A };
        const as = (fn: (api: ReturnType<typeof pgc.clinres>) => Promise<unknown>) => pgc.withContext(pool, ctx, (_c, _x, api) => fn(api));
        assert.equal(await statusOf(as((api) => api.getUser("not-a-uuid"))), 400);
        // a tenant admin is told 403 for a user it cannot see, existing or not; a SUPER_ADMIN 404
        assert.equal(await statusOf(pgc.withContext(pool, { user: erin, tenant: A }, (_c, _x, api) =>
            api.getUser("00000000-0000-0000-0000-00000000ffff"))), 404);
        const dup = toHttpError(await as((api) => api.createUser({ email: "BOB@hosp-a.example", name: "Bob again" })).catch((e) => e));
        assert.equal(dup.status, 409);
        const bad = toHttpError(await as((api) => api.createUser({ email: "not-an-email", name: "X" })).catch((e) => e));
        assert.equal(bad.status, 400);
        const viaPrisma = toHttpError(await db.$withContext(ctx, (_t, _x, api) => api.createUser({ email: "not-an-email", name: "X" })).catch((e) => e));
        assert.equal(viaPrisma.status, 400);
        // update_user marks its validation errors (schema clinres, table field, column the key)
        const edit = toHttpError(await as((api) => api.updateUser(bob, { email: "not-an-email" })).catch((e) => e));
        assert.deepEqual([edit.status, edit.field], [400, "email"]);
        const editDup = toHttpError(await as((api) => api.updateUser(bob, { email: "ALICE@hosp-a.example" })).catch((e) => e));
        assert.deepEqual([editDup.status, editDup.field], [409, "email"]);
        const viaPrismaEdit = toHttpError(await db.$withContext(ctx, (_t, _x, api) => api.updateUser(bob, { email: "x" })).catch((e) => e));
        assert.deepEqual([viaPrismaEdit.status, viaPrismaEdit.field], [400, "email"]);
        const marked = bad.field !== null;
        if (!marked) console.log("SKIP: the server does not mark the failing field yet (create_user's 22023 has no clinres marker)");
        else {
            assert.equal(bad.field, "email");
            assert.equal(dup.field, "email");
            assert.equal(viaPrisma.field, "email");
        }
    });
});
