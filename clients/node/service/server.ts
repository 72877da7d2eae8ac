// The reference HTTP service (Fastify 5, pg): the platform's login, user-management endpoints and
// module-guarded routes, each one clinres call in one transaction. What a platform team copies:
// in an application the imports are "@clinres/client/pg" and "@clinres/client".
//   DATABASE_URL=postgres://app:...@host/db PORT=3000 node dist/service/server.js
import multipart from "@fastify/multipart";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import pg from "pg";
import type { Clinres, ImportOptions, SessionContext } from "../src/api.js";
import { toHttpError } from "../src/errors.js";
import { clinres, withContext, withRequest } from "../src/pg.js";

type Q = Record<string, string | undefined>;
type Body = Record<string, unknown>;
type Req = FastifyRequest<{ Params: Q; Querystring: Q; Body: Body }>;
type Admin = (api: Clinres, ctx: SessionContext, req: Req) => Promise<unknown>;

/** The bearer token of a request (the one login returned); 401 without one. */
function tokenOf(req: FastifyRequest): string {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    if (!m) throw Object.assign(new Error("missing bearer token"), { statusCode: 401 });
    return m[1];
}

/**
 * The request's context: its bearer token and its X-Change-Reason, percent-encoded UTF-8 (HTTP
 * headers are Latin-1), which clinres records in every audit row the request writes.
 */
function contextOf(req: FastifyRequest) {
    const raw = req.headers["x-change-reason"];
    let reason: string | null = null;
    try {
        if (typeof raw === "string") reason = decodeURIComponent(raw);
    } catch {
        throw Object.assign(new Error("X-Change-Reason is not percent-encoded UTF-8"), { statusCode: 400 });
    }
    return { token: tokenOf(req), reason };
}

/** A query-string integer as a number (a non-number reaches clinres, which answers 400). */
const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));

/** A file download: .xlsx, or CSV. */
function sendFile(reply: FastifyReply, name: string, format: "xlsx" | "csv", data: Buffer | null) {
    return reply.header("content-type", format === "csv" ? "text/csv; charset=utf-8"
                                        : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .header("content-disposition", `attachment; filename="${name}.${format}"`).send(data);
}

/** The service on a pool of the application role; listen() is the caller's. */
export function buildService(pool: pg.Pool) {
    const app = Fastify({ logger: process.env.LOG === "1" });
    app.register(multipart, { limits: { fileSize: 20 * 1024 * 1024, files: 1, fields: 0 } });

    // Every error: clinres's SQLSTATE -> status (with the field that failed); Fastify's own keep theirs.
    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
        if (typeof err.statusCode === "number" && err.statusCode < 500) return reply.status(err.statusCode).send({ error: err.message });
        const h = toHttpError(err);
        if (h.status === 500) {
            req.log.error(err);
            return reply.status(500).send({ error: "internal error" });
        }
        return reply.status(h.status).send({ error: h.message, field: h.field, kind: h.kind, what: h.what });
    });

    // An admin endpoint: the token's context for one transaction; clinres checks the permission.
    const admin = (fn: Admin, status = 200) => async (req: Req, reply: FastifyReply) =>
        reply.status(status).send(await withContext(pool, contextOf(req), (_client, ctx, api) => fn(api, ctx, req)));

    app.post<{ Body: { identifier: string; password: string; tenant_code?: string } }>("/api/auth/login", async (req, reply) => {
        const { identifier, password, tenant_code } = req.body ?? {};
        const profile = await clinres(pool).login(identifier, password, tenant_code);   // NULL for every failure
        return profile ?? reply.status(401).send({ error: "invalid credentials" });
    });

    app.post("/api/auth/logout", async (req) => ({ session_id: await clinres(pool).logout(tokenOf(req)) }));

    // Module-guarded routes: begin_request checks the module and sets the context; RLS does the rest.
    app.get("/api/aia/notes", (req) => withRequest(pool, { ...contextOf(req), module: "aia" }, async (client) =>
        (await client.query("SELECT id, tenant_id, body FROM aia_schema.notes ORDER BY id")).rows));
    app.get("/api/pkb/whoami", (req) => withRequest(pool, { ...contextOf(req), module: "pkb" }, async (_client, ctx) => ctx));

    const u = "/api/admin/users";
    app.get(u, admin(async (api, _ctx, { query: q }) => {
        // total also past the last page (count_users there)
        return api.listUsersPage({ tenant_id: q.tenant_id, search: q.search, role_code: q.role, status: q.status,
                                   module_code: q.module, page: int(q.page), page_size: int(q.page_size), sort: q.sort });
    }));
    app.get(`${u}/:id`, admin((api, _ctx, req) => api.getUser(req.params.id!)));
    app.post(u, admin(async (api, _ctx, req) => {
        const b = req.body as Parameters<Clinres["createUser"]>[0];
        return api.createUser({ email: b.email, name: b.name, password: b.password, tenant_id: b.tenant_id, role_code: b.role_code,
                                modules: b.modules, phone: b.phone });
    }, 201));
    app.put(`${u}/:id`, admin((api, _ctx, req) => api.updateUser(req.params.id!, req.body as { name?: string; email?: string; phone?: string | null })));
    app.put(`${u}/:id/status`, admin((api, _ctx, req) =>
        api.setUserStatus(req.params.id!, req.body.status as "active" | "disabled", req.body.tenant_id as string | undefined)));
    app.post(`${u}/:id/password`, admin(async (api, _ctx, req) =>
        ({ password: await api.resetPassword(req.params.id!, (req.body?.new_password as string | undefined) ?? undefined) })));
    // Removes the membership of the given or the context tenant; the account only when asked (?everywhere=true).
    app.delete(`${u}/:id`, admin(async (api, ctx, req) => ({ id: req.query.everywhere === "true"
        ? await api.deleteAccount(req.params.id!) : await api.deleteUser(req.params.id!, req.query.tenant_id ?? ctx.tenant_id!) })));
    app.post(`${u}/:id/tenants`, admin((api, _ctx, req) =>
        api.assignTenant(req.params.id!, req.body.tenant_id as string, req.body.role_code as string | undefined, req.body.modules as string[] | null | undefined)));
    app.put(`${u}/:id/tenants/:tid`, admin((api, _ctx, req) => api.setTenantRole(req.params.id!, req.params.tid!, req.body.role_code as string)));
    app.delete(`${u}/:id/tenants/:tid`, admin((api, _ctx, req) => api.removeTenant(req.params.id!, req.params.tid!)));
    // modules null: inherit every module the tenant subscribes
    app.put(`${u}/:id/modules`, admin((api, ctx, req) =>
        api.setUserModules(req.params.id!, (req.body.tenant_id as string | undefined) ?? ctx.tenant_id!, req.body.modules as string[] | null)));
    // A user's live sessions; revoking one (or, without :sid, all the actor may manage), audited with X-Change-Reason.
    app.get(`${u}/:id/sessions`, admin((api, _ctx, req) => api.listSessions(req.params.id!)));
    app.delete(`${u}/:id/sessions/:sid`, admin(async (api, _ctx, req) => ({ revoked: await api.revokeSessions(req.params.id!, req.params.sid!) })));
    app.delete(`${u}/:id/sessions`, admin(async (api, _ctx, req) => ({ revoked: await api.revokeSessions(req.params.id!) })));
    app.get("/api/admin/options", admin(async (api, _ctx, req) =>
        ({ tenants: await api.tenantOptions(), modules: await api.moduleOptions(req.query.tenant_id ?? null) })));
    app.get("/api/admin/logs", admin((api, _ctx, { query: q }) => api.listAdminLogs({ tenant_id: q.tenant_id, page: int(q.page), page_size: int(q.page_size) })));

    // Import: the uploaded file (multipart, one file), options in the query string. 200 when written
    // (or a dry run), 422 with the report when some row is an error (then nothing was written).
    app.post(`${u}/import`, async (req, reply) => {
        const q = req.query as Q;
        const file = await req.file();
        if (!file) return reply.status(400).send({ error: "no file uploaded", field: "file" });
        const data = await file.toBuffer();
        const opt: ImportOptions = { tenant: q.tenant_id, dryRun: q.dry_run === "true", onExisting: q.on_existing as ImportOptions["onExisting"],
                                     format: q.format as ImportOptions["format"] };
        const result = await withContext(pool, contextOf(req), (_c, _ctx, api) => api.importUsers(data, opt));
        return reply.status(result.imported || result.dry_run ? 200 : 422).send(result);
    });
    app.get(`${u}/import/template`, async (req, reply) => {
        const format = (req.query as Q).format === "csv" ? "csv" : "xlsx";
        const data = await withContext(pool, contextOf(req), (_c, _ctx, api) => api.importTemplate(format));
        return sendFile(reply, "users-template", format, data);
    });
    app.get(`${u}/export`, async (req, reply) => {
        const q = req.query as Q;
        const format = q.format === "csv" ? "csv" : "xlsx";
        const data = await withContext(pool, contextOf(req), (_c, _ctx, api) => api.exportUsers({ tenant: q.tenant_id, format }));
        return sendFile(reply, "users", format, data);
    });
    return app;
}

/** Runs the service until SIGTERM or SIGINT: then stops accepting, finishes what is in flight, closes the pool. */
async function main() {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PG_POOL_SIZE ?? 10),
                               application_name: "clinres-service" });
    const app = buildService(pool);
    const address = await app.listen({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 3000) });
    console.log(`listening on ${address}`);
    const stop = async () => {
        await app.close();
        await pool.end();
        console.log("stopped");
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
