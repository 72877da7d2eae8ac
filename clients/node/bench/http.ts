// Requests per second over HTTP of the reference service (service/server.ts: clinres, pg) against
// the same endpoints written with Prisma and the rules in TypeScript (bench/prisma-service.ts),
// each service a process of its own on a pool of the same size, on the same data, measured in
// interleaved rounds (clinres, Prisma, then Prisma, clinres, ...): guarded route, list page 1 with
// a search, get, update, login. Then the driver alone: one statement through pg and through Prisma.
//   node dist/bench/http.js --clients 20 --seconds 3 --rounds 5    (test/bench/node_http.sh prepares all)
// Env: PGHOST/PGPORT/PGDATABASE; CLINRES_APP_USER/CLINRES_APP_PASSWORD (clinres's service);
// PRISMA_USER (the tables' owner, for the Prisma service); PG_POOL_SIZE (both, default 10).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";

const { values: opt } = parseArgs({ options: {
    clients: { type: "string", default: "20" }, seconds: { type: "string", default: "3" }, rounds: { type: "string", default: "5" } } });
const clients = Number(opt.clients), seconds = Number(opt.seconds), rounds = Number(opt.rounds);
const pool = process.env.PG_POOL_SIZE ?? "10";

/** Starts a service process and waits for its "listening on <url>". */
async function start(script: string, env: Record<string, string | undefined>): Promise<{ proc: ChildProcess; base: string }> {
    const proc = spawn(process.execPath, [new URL(script, import.meta.url).pathname],
                       { env: { ...process.env, PORT: "0", PG_POOL_SIZE: pool, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => { out += d; });
    while (!/listening on (\S+)/.test(out)) await once(proc.stdout!, "data");
    return { proc, base: /listening on (\S+)/.exec(out)![1] };
}

type Svc = { name: string; base: string; admin: string; user: string };
type Endpoint = { name: string; run: (s: Svc, n: number) => Promise<Response> };

async function login(base: string, identifier: string, password: string): Promise<string> {
    const r = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" },
                                                     body: JSON.stringify({ identifier, password, tenant_code: "HOSP_A" }) });
    if (r.status !== 200) throw new Error(`login at ${base}: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { token: string }).token;
}

const get = (s: Svc, path: string, token: string) => fetch(s.base + path, { headers: { authorization: `Bearer ${token}` } });

/** Requests per second of one endpoint on one service: `clients` loops for `seconds`, every answer a 200. */
async function measure(s: Svc, e: Endpoint): Promise<number> {
    let done = 0, n = 0;
    const end = Date.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
        while (Date.now() < end) {
            const r = await e.run(s, n++);
            const body = await r.text();
            if (r.status !== 200) throw new Error(`${s.name} ${e.name}: ${r.status} ${body.slice(0, 300)}`);
            done++;
        }
    }));
    return done / ((performance.now() - started) / 1000);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function main() {
    const owner = new pg.Pool({ max: 2 });
    const { rows: [t] } = await owner.query<{ id: string }>(
        "SELECT user_id::text AS id FROM clinres.user_tenants WHERE tenant_id = 'a0000000-0000-0000-0000-00000000000a' AND role_code = 'USER'"
        + " AND user_id::text <> '00000000-0000-0000-0000-0000000000b0' ORDER BY user_id LIMIT 1");
    if (!t) throw new Error("no data: run test/bench/node_http_setup.sql first");
    const member = t.id;
    const clinres = await start("../service/server.js", { PGUSER: process.env.CLINRES_APP_USER, PGPASSWORD: process.env.CLINRES_APP_PASSWORD });
    const prisma = await start("./prisma-service.js", { PGUSER: process.env.PRISMA_USER });
    const services: Svc[] = [];
    for (const [name, s] of [["clinres", clinres], ["Prisma", prisma]] as const) {
        services.push({ name, base: s.base, admin: await login(s.base, "alice@hosp-a.example", "alice-pw"),
                        user: await login(s.base, "bob@hosp-a.example", "bob-pw") });
    }
    const endpoints: Endpoint[] = [
        { name: "guarded route (GET /api/aia/notes)", run: (s) => get(s, "/api/aia/notes", s.user) },
        { name: "list page 1, search 'cardio' (1,000 of 10,000)", run: (s) => get(s, "/api/admin/users?search=cardio&page=1&page_size=20", s.admin) },
        { name: "get (GET /api/admin/users/:id)", run: (s) => get(s, `/api/admin/users/${member}`, s.admin) },
        { name: "update (PUT /api/admin/users/:id, name)", run: (s, n) => fetch(`${s.base}/api/admin/users/${member}`, {
            method: "PUT", headers: { authorization: `Bearer ${s.admin}`, "content-type": "application/json" },
            body: JSON.stringify({ name: `成员${n % 1000}` }) }) },
        { name: "login (bcrypt, the sample's cost 4)", run: (s) => fetch(`${s.base}/api/auth/login`, {
            method: "POST", headers: { "content-type": "application/json" },
            body: JSON.stringify({ identifier: "bob@hosp-a.example", password: "bob-pw", tenant_code: "HOSP_A" }) }) },
    ];
    console.log(`${clients} concurrent clients, ${rounds} interleaved rounds of ${seconds} s per service and endpoint, pools of ${pool}`);
    try {
        for (const e of endpoints) {
            const r: Record<string, number[]> = { clinres: [], Prisma: [] };
            const ratio: number[] = [];
            for (const s of services) await measure(s, { ...e, run: e.run });   // warm-up, not counted
            for (let i = 0; i < rounds; i++) {
                const order = i % 2 === 0 ? services : [...services].reverse();
                for (const s of order) r[s.name].push(await measure(s, e));
                ratio.push(r.clinres[i] / r.Prisma[i]);
            }
            console.log(`  ${e.name}: clinres ${median(r.clinres).toFixed(0)} req/s, Prisma ${median(r.Prisma).toFixed(0)} req/s, `
                + `clinres/Prisma ${median(ratio).toFixed(2)} (rounds ${ratio.map((x) => x.toFixed(2)).join(" ")})`);
        }
        await driver(member);
    } finally {
        for (const s of [clinres, prisma]) s.proc.kill("SIGTERM");
        await owner.end();
    }
}

/**
 * The driver alone, in this process: the same one-row statement through pg and through Prisma
 * (raw SQL, and findUnique), `clients` concurrent loops, interleaved rounds: per statement, what
 * Prisma's client and adapter add over pg, whatever the SQL.
 */
async function driver(member: string) {
    const p = new pg.Pool({ max: Number(pool) });
    const prisma = new PrismaClient({ adapter: new PrismaPg({ max: Number(pool) }) });
    const shapes: [string, () => Promise<unknown>][] = [
        ["pg", () => p.query("SELECT id, email, name FROM clinres.users WHERE id = $1", [member])],
        ["Prisma $queryRaw", () => prisma.$queryRaw`SELECT id, email, name FROM clinres.users WHERE id = ${member}::uuid`],
        ["Prisma findUnique", () => prisma.user.findUnique({ where: { id: member }, select: { id: true, email: true, name: true } })],
    ];
    const rate = async (f: () => Promise<unknown>) => {
        let done = 0;
        const end = Date.now() + seconds * 1000, started = performance.now();
        await Promise.all(Array.from({ length: clients }, async () => { while (Date.now() < end) { await f(); done++; } }));
        return done / ((performance.now() - started) / 1000);
    };
    const r: number[][] = shapes.map(() => []);
    for (const [, f] of shapes) await rate(f);
    for (let i = 0; i < rounds; i++) for (const [k, [, f]] of shapes.entries()) r[k].push(await rate(f));
    const base = median(r[0]);
    console.log(`  driver, one statement by primary key: ${shapes.map(([n], k) => `${n} ${median(r[k]).toFixed(0)}/s`).join(", ")}`
        + ` (Prisma findUnique costs ${(base / median(r[2])).toFixed(2)}x pg per statement)`);
    await prisma.$disconnect();
    await p.end();
}

await main();
