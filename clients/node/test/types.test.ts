// pg and Prisma return the same values in the same TypeScript types (bigint, numeric, timestamptz,
// jsonb, arrays) once the client has normalised them; and calls are built from the signature table.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { callSql } from "../src/call.js";
import type { ArgsOf } from "../src/sqltypes.js";
import * as pgc from "../src/pg.js";
import * as prc from "../src/prisma.js";
import { A, appPool, appPrisma, bob, offline } from "./env.js";

// Compile-time checks of the types derived from the signature table: tsc fails the build if
// an argument's type, a default's optionality or a row's field type is derived wrongly.
export function typeChecks(api: ReturnType<typeof pgc.clinres>) {
    const ok: ArgsOf<"list_users"> = { page: 1, page_size: 20, search: null };
    // @ts-expect-error page is an integer: the platform once sent pageSize as a string
    const wrongType: ArgsOf<"list_users"> = { page: "2" };
    // @ts-expect-error user_id has no DEFAULT: it is required
    const missing: ArgsOf<"get_user"> = {};
    const row = async () => {
        const [u] = await api.listUsers(ok);
        const count: number = u.total_count;           // bigint, normalised to number
        const when: Date | null = u.last_login_at;     // nullable timestamptz
        // @ts-expect-error phone can be NULL
        const phone: string = u.phone;
        return [count, when, phone];
    };
    // NULL is a meaning of its own: inherit every module; the context tenant
    const inherit = () => api.setUserModules(bob, A, null);
    const ctxTenant = () => api.moduleOptions(null);
    // @ts-expect-error set_user_modules has no DEFAULT for modules: say null (inherit) or the list
    const omitted: ArgsOf<"set_user_modules"> = { user_id: bob, tenant_id: A };
    const created = async () => (await api.createUser({ email: "x@hosp-a.example", name: "X" })).email;   // the user, not its id
    return [wrongType, missing, row, inherit, ctxTenant, omitted, created];
}

describe("calls", () => {
    test("named notation, casts from the table, omitted defaults", () => {
        assert.deepEqual(callSql("list_users", { search: "hosp", page: 2 }), {
            sql: "SELECT r.id AS id, r.email AS email, r.name AS name, r.phone AS phone, r.status AS status, r.role_code AS role_code, "
                + "r.membership_status AS membership_status, r.modules AS modules, r.created_at AS created_at, "
                + "r.last_login_at AS last_login_at, r.total_count AS total_count "
                + "FROM clinres.list_users(search => $1::text, page => $2::integer) AS r",
            params: ["hosp", 2],
        });
        assert.deepEqual(callSql("session_profile", { user_id: bob, tenant_id: A }), {
            sql: "SELECT (clinres.session_profile(user_id => $1::uuid, tenant_id => $2::uuid))::pg_catalog.text AS result",
            params: [bob, A],
        });
    });
});

describe("pg and Prisma agree", { skip: offline }, () => {
    const pool = appPool(2);
    const prisma = appPrisma(2);
    after(async () => { await prisma.$disconnect(); await pool.end(); });

    test("user_modules, session_profile, pool_size", async () => {
        const viaPg = pgc.clinres(pool), viaPrisma = prc.clinres(prisma);
        const nav = await viaPg.userModules(bob, A);
        assert.deepEqual(nav.map((m) => m.code), ["aia", "pkb"]);
        assert.equal(typeof nav[0].sort_order, "number");
        assert.deepEqual(await viaPrisma.userModules(bob, A), nav);
        // session_profile answers for the context user (or a holder of user:view)
        const ctx = { user: bob, tenant: A };
        const profile = await pgc.withContext(pool, ctx, (_c, _ctx, api) => api.sessionProfile(bob, A));
        assert.deepEqual(profile?.modules, ["aia", "pkb"]);
        assert.deepEqual(await prisma.$transaction((tx) => prc.withContext(tx, ctx, (_t, _ctx, api) => api.sessionProfile(bob, A))), profile);
        assert.equal(await viaPrisma.poolSize(4, 100), await viaPg.poolSize(4, 100));
        assert.equal(typeof (await viaPg.poolSize(4, 100)), "number");
    });

    test("connection_usage through the Prisma view: int and double precision as numbers", async () => {
        const [usage] = await prisma.connectionUsage.findMany();
        assert.equal(typeof usage.connections, "number");
        assert.equal(typeof usage.usage_pct, "number");
        assert.ok(["ok", "warning", "critical"].includes(usage.alert_level));
    });
});
