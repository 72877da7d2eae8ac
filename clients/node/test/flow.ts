// The platform's flow through the client, as its backend runs it: login -> profile.modules ->
// navigation -> route guard -> a table under module RLS -> the user-management admin flow.
// Virtual clients alternate between pg and Prisma (interactive transactions and the $extends
// form) and between the sample's users. Asserts: no response carries another tenant's rows, no
// request starts with a context left by another, every clinres denial maps to 403 and nothing
// else does (an RLS WITH CHECK violation or a missing GRANT, also 42501, and a refused
// session-level context must be 500; a tampered token 401).
//   node dist/test/flow.js --clients 20 --seconds 12 --via pgbouncer    (or --rounds N)
import { parseArgs } from "node:util";
import type { Clinres, ContextSpec, RequestSpec, SessionProfile } from "../src/api.js";
import { toHttpStatus } from "../src/errors.js";
import * as pgc from "../src/pg.js";
import * as prc from "../src/prisma.js";
import { A, B, alice, appPool, appPrisma, bob, carol, have, installedFunctions } from "./env.js";

const { values: opt } = parseArgs({ options: {
    clients: { type: "string", default: "1" }, seconds: { type: "string" }, rounds: { type: "string" },
    via: { type: "string", default: "directly" } } });
const clients = Number(opt.clients);
const deadline = opt.seconds ? Date.now() + Number(opt.seconds) * 1000 : Infinity;
const maxRounds = opt.rounds ? Number(opt.rounds) : Infinity;

interface Actor { name: string; id: string; tenant: string; tenantCode: string; email: string; password: string | null;
                  lacks: string; admin: boolean }
const actors: Actor[] = [
    { name: "alice", id: alice, tenant: A, tenantCode: "HOSP_A", email: "ALICE@hosp-a.example", password: "alice-pw", lacks: "rvw", admin: true },
    { name: "bob", id: bob, tenant: A, tenantCode: "HOSP_A", email: "bob@hosp-a.example", password: "bob-pw", lacks: "asl", admin: false },
    { name: "carol", id: carol, tenant: B, tenantCode: "HOSP_B", email: "carol@hosp-b.example", password: null, lacks: "asl", admin: false },
];

const stats = { requests: 0, denials: 0, expected500: 0, foreignRows: 0, leakedContexts: 0, rounds: 0, problemCount: 0, problems: [] as string[] };
/** Records a failed expectation (on one line; the first 20 are printed). */
function problem(msg: string) {
    const line = msg.replace(/\s+/g, " ").slice(0, 300);
    stats.problemCount++;
    if (stats.problems.length < 20) stats.problems.push(line); else stats.problems[19] = "... and more";
}

const pool = appPool(clients);
const prisma = appPrisma(clients);
const txOptions = { maxWait: 20_000, timeout: 30_000 };
const xdb = prisma.$extends(prc.clinresExtension(txOptions));
const installed = await installedFunctions(pool);
const hasLogin = have(installed, "login and signed sessions (flow uses ids and session_profile)", "login", "set_session");
const hasBegin = have(installed, "route guard, guarded table and denials (steps skipped)", "begin_request");
const hasAdmin = have(installed, "user-management admin flow", "list_users", "get_user", "create_user", "update_user",
                      "set_user_modules", "delete_user", "list_admin_logs");

type Driver = "pg" | "prisma" | "prisma-extends";

/** A guarded request (withRequest of the driver); fn gets a typed API and a raw query. */
async function guarded<T>(driver: Driver, req: RequestSpec,
                          fn: (api: Clinres, q: (sql: string, ...p: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
    if (driver === "pg") return pgc.withRequest(pool, req, (c, _ctx, api) => fn(api, async (s, ...p) => (await c.query(s, p)).rows));
    if (driver === "prisma") {
        return prisma.$transaction((tx) => prc.withRequest(tx, req, (t, _ctx, api) => fn(api, (s, ...p) => t.$queryRawUnsafe(s, ...p))), txOptions);
    }
    return xdb.$withRequest(req, (t, _ctx, api) => fn(api, (s, ...p) => t.$queryRawUnsafe(s, ...p)));
}

/** A request with the context set and no module checked (the admin endpoints). */
function admin<T>(driver: Driver, spec: ContextSpec, fn: (api: Clinres) => Promise<T>): Promise<T> {
    if (driver === "pg") return pgc.withContext(pool, spec, (_c, _ctx, api) => fn(api));
    if (driver === "prisma") return prisma.$transaction((tx) => prc.withContext(tx, spec, (_t, _ctx, api) => fn(api)), txOptions);
    return xdb.$withContext(spec, (_t, _ctx, api) => fn(api));
}

async function ok<T>(label: string, p: Promise<T>): Promise<T | undefined> {
    stats.requests++;
    try { return await p; } catch (e) { problem(`${label}: unexpected error (HTTP ${toHttpStatus(e)}): ${(e as Error).message}`); return undefined; }
}

/** A request that must be refused by clinres: it must map to 403. */
async function denied(label: string, p: Promise<unknown>) {
    stats.requests++;
    try { await p; problem(`${label}: not denied`); } catch (e) {
        const status = toHttpStatus(e);
        if (status === 403) stats.denials++;
        else problem(`${label}: a denial mapped to ${status}: ${(e as Error).message}`);
    }
}

/** A request that fails for another reason than a clinres denial (here 42501 too): it must map to `status` (500). */
async function fails500(label: string, p: Promise<unknown>, status = 500) {
    stats.requests++;
    try { await p; problem(`${label}: did not fail`); } catch (e) {
        if (toHttpStatus(e) === status) stats.expected500++;
        else problem(`${label}: mapped to ${toHttpStatus(e)}, expected ${status}: ${(e as Error).message}`);
    }
}

/** Outside any request: no context may be visible, so the guarded table shows nothing. */
async function noLeak(driver: Driver, label: string) {
    const sql = "SELECT clinres.current_user_id()::text AS u, clinres.current_tenant_id()::text AS t, "
              + "(SELECT count(*) FROM aia_schema.notes)::int AS n";
    const rows = driver === "pg" ? (await ok(label, pool.query(sql)))?.rows
                                 : await ok(label, prisma.$queryRawUnsafe<Record<string, unknown>[]>(sql));
    const r = rows?.[0];
    if (r && (r.u !== null || r.t !== null || r.n !== 0)) {
        stats.leakedContexts++;
        problem(`${label}: a context leaked into a fresh transaction: ${JSON.stringify(r)}`);
    }
}

/** One round of the platform flow for one actor. */
async function round(worker: number, n: number) {
    const driver: Driver = (["pg", "prisma", "prisma-extends"] as const)[worker % 3];
    const actor = actors[(worker + n) % actors.length];
    const label = `${driver}/${actor.name}`;
    const direct = driver === "pg" ? pgc.clinres(pool) : prc.clinres(prisma);
    await noLeak(driver, `${label} before`);

    // login -> profile (token when the server signs sessions)
    let profile: SessionProfile | null | undefined;
    let token: string | undefined;
    if (hasLogin && actor.password) {
        const login = await ok(`${label} login`, direct.login(actor.email, actor.password, actor.tenantCode));
        if (login === null) problem(`${label} login: NULL for valid credentials`);
        profile = login;
        token = login?.token;
    } else {
        profile = await ok(`${label} profile`, admin(driver, { user: actor.id, tenant: actor.tenant }, (api) => api.sessionProfile(actor.id, actor.tenant)));
    }
    if (!profile) return;
    if (profile.tenant?.id !== actor.tenant) { stats.foreignRows++; problem(`${label}: profile of tenant ${profile.tenant?.id}`); }

    // navigation = profile.modules
    const nav = await ok(`${label} navigation`, direct.userModules(actor.id, actor.tenant));
    if (nav && nav.map((m) => m.code).join() !== profile.modules.join()) problem(`${label}: navigation ${nav.map((m) => m.code)} != profile ${profile.modules}`);

    if (hasBegin) await guardedSteps(driver, label, actor, n, profile, token);
    if (hasAdmin) await adminFlow(driver, label, actor, token ? { token } : { user: actor.id, tenant: actor.tenant }, `${worker}-${n}`);
    await noLeak(driver, `${label} after`);
}

/** Route guard, the guarded table (own rows only, own context inside), denials and other failures. */
async function guardedSteps(driver: Driver, label: string, actor: Actor, n: number, profile: SessionProfile, token: string | undefined) {
    const spec = (module: string): RequestSpec => token ? { token, module } : { user: actor.id, tenant: actor.tenant, module };
    const rows = await ok(`${label} guard aia`, guarded(driver, spec("aia"), async (_api, q) => {
        const ctx = await q("SELECT clinres.current_user_id()::text AS u");
        if (ctx[0]?.u !== actor.id) problem(`${label}: context inside the request is ${ctx[0]?.u}`);
        await q("INSERT INTO aia_schema.notes (tenant_id, body) VALUES ($1::uuid, $2::text)", actor.tenant, `${label} ${n}`);
        return q("SELECT tenant_id::text AS tenant_id, body FROM aia_schema.notes");
    }));
    if (rows) {
        if (rows.length < 4) problem(`${label}: only ${rows.length} notes visible`);
        const foreign = rows.filter((r) => r.tenant_id !== actor.tenant).length;
        if (foreign > 0) { stats.foreignRows += foreign; problem(`${label}: ${foreign} rows of another tenant`); }
    }
    if (profile.modules.includes(actor.lacks)) problem(`${label}: profile lists ${actor.lacks}`);
    await denied(`${label} guard ${actor.lacks}`, guarded(driver, spec(actor.lacks), async () => 1));
    const other = actor.tenant === A ? B : A;
    await fails500(`${label} insert into another tenant`, guarded(driver, spec("aia"), (_api, q) =>
        q("INSERT INTO aia_schema.notes (tenant_id, body) VALUES ($1::uuid, 'not mine')", other)));
    await fails500(`${label} missing grant`, guarded(driver, spec("aia"), (_api, q) => q("SELECT count(*) FROM clinres.users")));

    if (token) {
        // a token whose MAC does not check out: 28000 (marker kind "session"), not a module denial -> 401
        const forged = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
        await fails500(`${label} forged token`, guarded(driver, { token: forged, module: "aia" }, async () => 1), 401);
    }
    // a session-level context is refused for the application role (it would outlive the transaction)
    await fails500(`${label} session-level context`, guarded(driver, spec("aia"), (_api, q) =>
        q("SELECT true AS ok FROM clinres.set_context($1::uuid, $2::uuid, false)", actor.id, actor.tenant)));
}

/** The user-management pages: list (search, pages), create, edit, modules, delete, audit. */
async function adminFlow(driver: Driver, label: string, actor: Actor, ctx: ContextSpec, tag: string) {
    if (!actor.admin) {
        await denied(`${label} list_users without user:view`, admin(driver, ctx, (api) => api.listUsers({ tenant_id: actor.tenant })));
        return;
    }
    const pageSize = 2;
    for (let page = 1; page <= 50; page++) {
        const rows = await ok(`${label} list page ${page}`, admin(driver, ctx, (api) =>
            api.listUsers({ tenant_id: actor.tenant, search: "HOSP-A", page, page_size: pageSize, sort: "email asc" })));
        if (!rows || rows.length === 0) break;
        const foreign = rows.filter((r) => r.id === carol || !r.email.toLowerCase().includes("hosp-a")).length;
        if (foreign > 0) { stats.foreignRows += foreign; problem(`${label}: list_users showed ${foreign} users of another tenant`); }
        if (typeof rows[0].total_count !== "number") problem(`${label}: total_count is ${typeof rows[0].total_count}`);
        if (page * pageSize >= rows[0].total_count) break;
    }
    const email = `flow-${tag}-${Math.random().toString(36).slice(2, 8)}@hosp-a.example`;
    const created = await ok(`${label} create_user`, admin(driver, ctx, (api) =>
        api.createUser({ email, name: "流程用户", tenant_id: actor.tenant, role_code: "USER", modules: ["aia"] })));
    if (!created) return;
    const id = created.id;
    if (created.email !== email) problem(`${label}: create_user returned ${created.email}`);
    const got = await ok(`${label} get_user`, admin(driver, ctx, (api) => api.getUser(id)));
    if (got && got.email !== email) problem(`${label}: get_user returned ${got.email}`);
    const edited = await ok(`${label} update_user`, admin(driver, ctx, (api) => api.updateUser(id, { name: "流程用户 (edited)" })));
    if (edited && edited.name !== "流程用户 (edited)") problem(`${label}: update_user returned name ${edited.name}`);
    await ok(`${label} set_user_modules`, admin(driver, ctx, (api) => api.setUserModules(id, actor.tenant, ["aia", "pkb"])));
    const pkb = await ok(`${label} has_module after set_user_modules`, admin(driver, ctx, (api) => api.hasModule(id, actor.tenant, "pkb")));
    if (pkb !== true) problem(`${label}: set_user_modules not effective (pkb: ${pkb})`);
    await denied(`${label} get_user of another tenant's user`, admin(driver, ctx, (api) => api.getUser(carol)));
    const deleted = await ok(`${label} delete_user`, admin(driver, ctx, (api) => api.deleteUser(id, actor.tenant)));
    if (deleted !== undefined && deleted !== id) problem(`${label}: delete_user returned ${deleted}`);
    const logs = await ok(`${label} audit page`, admin(driver, ctx, (api) => api.listAdminLogs({ tenant_id: actor.tenant, page: 1, page_size: 20 })));
    if (logs) {
        const foreign = logs.filter((l) => l.tenant_id !== null && l.tenant_id !== actor.tenant).length;
        if (foreign > 0) { stats.foreignRows += foreign; problem(`${label}: audit page showed ${foreign} rows of another tenant`); }
        if (logs.length === 0) problem(`${label}: audit page empty after mutations`);
    }
}

async function worker(w: number) {
    for (let n = 0; n < maxRounds && Date.now() < deadline; n++) {
        await round(w, n);
        stats.rounds++;
    }
}

const started = Date.now();
try {
    await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
} finally {
    await prisma.$disconnect();
    await pool.end();
}
const secs = (Date.now() - started) / 1000;
for (const p of stats.problems) console.log(`  problem: ${p}`);
const good = stats.problemCount === 0 && stats.foreignRows === 0 && stats.leakedContexts === 0
    && (!hasBegin || (stats.denials > 0 && stats.expected500 > 0));
console.log(`  flow ${opt.via}: ${clients} client(s), ${stats.rounds} rounds, ${stats.requests} requests in ${secs.toFixed(1)} s; `
    + `${stats.denials} denials -> 403, ${stats.expected500} other errors -> 500 or 401, `
    + `${stats.foreignRows} foreign-tenant rows, ${stats.leakedContexts} leaked contexts, ${stats.problemCount} problems: ${good ? "ok" : "FAILED"}`);
process.exit(good ? 0 : 1);
