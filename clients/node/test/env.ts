// What the live tests share: the database node.sh prepared, the application role, the sample's
// ids, a pg pool and a Prisma client (both as the application role, so RLS applies), and which
// functions the server has (tests of a function not on the server yet print one SKIP line).
// Without CLINRES_TEST_DB (npm test on a fresh clone) the live tests are skipped, with one line saying so.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { clinresPoolConfig } from "../src/prisma.js";

export const A = "a0000000-0000-0000-0000-00000000000a";
export const B = "b0000000-0000-0000-0000-00000000000b";
export const alice = "00000000-0000-0000-0000-0000000000a1";
export const bob = "00000000-0000-0000-0000-0000000000b0";
export const carol = "00000000-0000-0000-0000-0000000000c0";
export const erin = "00000000-0000-0000-0000-0000000000e0";   // SUPER_ADMIN, member of no tenant
export const dave = "00000000-0000-0000-0000-0000000000d0";   // TENANT_ADMIN of B (test/fixtures/node_app.sql)

/** Why the live tests are skipped (no database named), or false when they run. */
export const offline: string | false = process.env.CLINRES_TEST_DB
    ? false : "no database: set CLINRES_TEST_DB (and CLINRES_APP_*), as test/client/node.sh does";

/** Connection settings of the application role (PGHOST/PGPORT may name pgbouncer). */
export function appConfig(max = 10): pg.PoolConfig {
    return {
        host: process.env.CLINRES_APP_HOST ?? process.env.PGHOST,
        port: Number(process.env.CLINRES_APP_PORT ?? process.env.PGPORT ?? 5432),
        database: process.env.CLINRES_TEST_DB,
        user: process.env.CLINRES_APP_USER,
        password: process.env.CLINRES_APP_PASSWORD,
        max,
    };
}

export function appPool(max = 10): pg.Pool {
    return new pg.Pool(appConfig(max));
}

/** Prisma 7 through @prisma/adapter-pg on clinresPoolConfig (which keeps clinres's marker). */
export function appPrisma(max = 10) {
    return new PrismaClient({ adapter: new PrismaPg(clinresPoolConfig(pg, appConfig(max))) });
}

/** The clinres functions installed on the server. */
export async function installedFunctions(db: pg.Pool | pg.ClientBase): Promise<Set<string>> {
    const { rows } = await db.query<{ proname: string }>(
        "SELECT DISTINCT proname FROM pg_catalog.pg_proc WHERE pronamespace = 'clinres'::regnamespace");
    return new Set(rows.map((r) => r.proname));
}

/** True when every function is installed; otherwise prints one SKIP line naming the missing ones. */
export function have(installed: Set<string>, what: string, ...fns: string[]): boolean {
    const missing = fns.filter((f) => !installed.has(f));
    if (missing.length > 0) console.log(`SKIP: ${what}: ${missing.map((f) => `clinres.${f}`).join(", ")} not on this server yet`);
    return missing.length === 0;
}
