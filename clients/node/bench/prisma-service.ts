// The comparison of bench/http.ts: the reference service's benchmarked endpoints written the
// platform's way today, without clinres's functions: Prisma 7 (@prisma/adapter-pg) on the same
// tables, the rules in TypeScript (membership, tenant and module checks, permissions, the
// visibility and edit rules, the audit row), an HMAC session token signed in Node. Not a second
// implementation of clinres: only what these five endpoints need, for the benchmark.
//   PGHOST=... PGDATABASE=... PGUSER=<owner> PORT=3001 node dist/bench/prisma-service.js
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import Fastify, { type FastifyRequest } from "fastify";
import { PrismaClient } from "../generated/prisma/client.js";

type Q = Record<string, string | undefined>;
const secret = randomBytes(32);
const fail = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

/** A signed token: base64url(JSON {u, t, exp}) "." HMAC-SHA256. */
function sign(user: string, tenant: string): string {
    const body = Buffer.from(JSON.stringify({ u: user, t: tenant, exp: Date.now() + 3600_000 })).toString("base64url");
    return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

function verify(req: FastifyRequest): { u: string; t: string } {
    const m = /^Bearer ([^.\s]+)\.(\S+)$/.exec(req.headers.authorization ?? "");
    if (!m) throw fail(401, "missing bearer token");
    const want = createHmac("sha256", secret).update(m[1]).digest();
    const got = Buffer.from(m[2], "base64url");
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw fail(401, "bad token");
    const p = JSON.parse(Buffer.from(m[1], "base64url").toString()) as { u: string; t: string; exp: number };
    if (p.exp < Date.now()) throw fail(401, "expired token");
    return p;
}

const rank: Record<string, number> = { USER: 1, TENANT_ADMIN: 2 };

export function buildPrismaService(prisma: PrismaClient) {
    const app = Fastify();
    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) =>
        reply.status(err.statusCode ?? 500).send({ error: err.statusCode ? err.message : "internal error" }));

    /** The actor of a request: an active user, an active member of an active tenant; its permissions. */
    async function actor(req: FastifyRequest) {
        const { u, t } = verify(req);
        const m = await prisma.userTenant.findUnique({ where: { tenant_id_user_id: { tenant_id: t, user_id: u } },
                                                        include: { user: true, tenant: true } });
        if (!m || m.status !== "active" || m.user.status !== "active" || m.tenant.status !== "active") throw fail(401, "no session");
        const perms = await prisma.rolePermission.findMany({ where: { role_code: m.role_code }, select: { permission_code: true } });
        return { user: u, tenant: t, role: m.role_code, perms: new Set(perms.map((p) => p.permission_code)) };
    }
    const need = (a: { perms: Set<string> }, p: string) => { if (!a.perms.has(p)) throw fail(403, `missing ${p}`); };

    /** The modules a member may use: the tenant's live subscriptions, narrowed by the member's own rows. */
    async function modulesOf(tenant: string, users: string[]) {
        const [subs, own] = await Promise.all([
            prisma.tenantModule.findMany({ where: { tenant_id: tenant, is_enabled: true, module: { is_active: true },
                                                    OR: [{ expires_at: null }, { expires_at: { gt: new Date() } }] },
                                           include: { module: true } }),
            prisma.userModule.findMany({ where: { tenant_id: tenant, user_id: { in: users } } }),
        ]);
        const codes = subs.sort((x, y) => x.module.sort_order - y.module.sort_order || x.module_code.localeCompare(y.module_code))
            .map((s) => s.module_code);
        return new Map(users.map((id) => {
            const rows = own.filter((r) => r.user_id === id);
            return [id, rows.length === 0 ? codes : codes.filter((c) => rows.some((r) => r.module_code === c && r.is_enabled))];
        }));
    }

    app.post<{ Body: { identifier: string; password: string; tenant_code: string } }>("/api/auth/login", async (req, reply) => {
        const { identifier, password, tenant_code } = req.body;
        // bcrypt in the database (pgcrypto), as clinres does: the same cost on both sides.
        const rows = await prisma.$queryRaw<{ id: string; ok: boolean; status: string }[]>`
            SELECT id::text, status, coalesce(public.crypt(${password}, password_hash) = password_hash, false) AS ok
              FROM clinres.users WHERE lower(email) = lower(${identifier})`;
        const u = rows[0];
        if (!u || !u.ok || u.status !== "active") return reply.status(401).send({ error: "invalid credentials" });
        const m = await prisma.userTenant.findFirst({ where: { user_id: u.id, status: "active", tenant: { code: tenant_code, status: "active" } } });
        if (!m) return reply.status(401).send({ error: "invalid credentials" });
        const user = await prisma.user.update({ where: { id: u.id }, data: { last_login_at: new Date() },
                                                select: { id: true, email: true, name: true, phone: true, status: true } });
        const mods = await modulesOf(m.tenant_id, [u.id]);
        return { token: sign(u.id, m.tenant_id), user, role: m.role_code, modules: mods.get(u.id) };
    });

    // The guarded route: the module checked in TypeScript, then the tenant's rows by a filter.
    app.get("/api/aia/notes", async (req) => {
        const a = await actor(req);
        if (!(await modulesOf(a.tenant, [a.user])).get(a.user)!.includes("aia")) throw fail(403, "module aia");
        return prisma.note.findMany({ where: { tenant_id: a.tenant }, orderBy: { id: "asc" } });
    });

    app.get("/api/admin/users", async (req) => {
        const a = await actor(req);
        need(a, "user:view");
        const q = req.query as Q;
        const page = Number(q.page ?? 1), size = Number(q.page_size ?? 20);
        if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 100) throw fail(400, "bad page");
        const s = q.search?.trim();
        const where = { memberships: { some: { tenant_id: a.tenant } },
                        ...(s ? { OR: [{ email: { contains: s, mode: "insensitive" as const } }, { name: { contains: s, mode: "insensitive" as const } },
                                       { phone: { contains: s } }] } : {}) };
        const [users, total] = await prisma.$transaction([
            prisma.user.findMany({ where, orderBy: [{ created_at: "desc" }, { id: "desc" }], skip: (page - 1) * size, take: size,
                                   include: { memberships: { where: { tenant_id: a.tenant } } } }),
            prisma.user.count({ where }),
        ]);
        const mods = await modulesOf(a.tenant, users.map((u) => u.id));
        return { items: users.map(({ memberships: [m], password_hash: _, ...u }) =>
                     ({ ...u, role_code: u.platform_role ?? m.role_code, membership_status: m.status, modules: mods.get(u.id) })), total };
    });

    app.get<{ Params: { id: string } }>("/api/admin/users/:id", async (req) => {
        const a = await actor(req);
        need(a, "user:view");
        const u = await prisma.user.findUnique({ where: { id: req.params.id }, include: { memberships: { include: { tenant: true } } } });
        const m = u?.memberships.find((x) => x.tenant_id === a.tenant);
        if (!u || !m) throw fail(404, "no such user");
        const { password_hash: _, memberships: __, ...user } = u;
        const mods = await modulesOf(a.tenant, [u.id]);
        return { ...user, tenants: [{ id: m.tenant_id, code: m.tenant.code, name: m.tenant.name, role_code: m.role_code,
                                      status: m.status, modules: mods.get(u.id) }] };
    });

    // An account edit: every membership of the target in the actor's tenant, at or below its role; audited.
    app.put<{ Params: { id: string }; Body: { name?: string; email?: string; phone?: string | null } }>("/api/admin/users/:id", async (req) => {
        const a = await actor(req);
        need(a, "user:edit");
        const changes = req.body;
        if (changes.name !== undefined && (typeof changes.name !== "string" || changes.name.trim() === "")) throw fail(400, "bad name");
        return prisma.$transaction(async (tx) => {
            const u = await tx.user.findUnique({ where: { id: req.params.id }, include: { memberships: true } });
            if (!u || !u.memberships.some((m) => m.tenant_id === a.tenant)) throw fail(404, "no such user");
            if (u.platform_role || u.memberships.some((m) => m.tenant_id !== a.tenant || (rank[m.role_code] ?? 9) > (rank[a.role] ?? 0))) {
                throw fail(403, "outside the actor's reach");
            }
            if (u.id === a.user && changes.email !== undefined) throw fail(403, "self");
            const after = await tx.user.update({ where: { id: u.id }, data: { ...changes, updated_at: new Date() },
                                                 select: { id: true, email: true, name: true, phone: true, status: true, platform_role: true } });
            await tx.adminLog.create({ data: { actor_id: a.user, tenant_id: a.tenant, action: "user.update", target: u.id,
                                               detail: { before: { name: u.name, email: u.email, phone: u.phone }, after: changes } } });
            return after;
        });
    });
    return app;
}

async function main() {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ max: Number(process.env.PG_POOL_SIZE ?? 10) }) });
    const app = buildPrismaService(prisma);
    const address = await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3001) });
    console.log(`listening on ${address}`);
    process.once("SIGTERM", async () => { await app.close(); await prisma.$disconnect(); });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
