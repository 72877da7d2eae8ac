// Prisma 7 with @prisma/adapter-pg: the typed API on a client or interactive transaction,
// withRequest inside `prisma.$transaction(tx => ...)`, and the same as a `$extends` extension.
import type pg from "pg";
import { beginRequest, bind, setContext, type Clinres, type ContextSpec, type RequestContext, type RequestSpec, type SessionContext } from "./api.js";
import type { Executor } from "./call.js";
import { asModuleDenied, keepMarker } from "./errors.js";

/**
 * The pool configuration to give @prisma/adapter-pg: `new PrismaPg(clinresPoolConfig(pg, config))`,
 * `pg` being the application's `import pg from "pg"`. The adapter passes on only code, message,
 * detail, column and hint of a PostgreSQL error, not the schema and table fields that carry
 * clinres's marker (denials, the failing field); the connections of this configuration restate
 * the marker in the column field ("clinres:<kind>:<what>") so that toHttpError recognises it.
 * Without it, Prisma errors lose their field and denials are never recognised (they map to 500).
 */
export function clinresPoolConfig(pgModule: { Client: typeof pg.Client }, config: pg.PoolConfig = {}): pg.PoolConfig {
    return { ...config, Client: markerClient(pgModule.Client) };
}

/**
 * A pg.Pool with clinresPoolConfig's connections. @prisma/adapter-pg takes it as a pool only if
 * `pgModule` is the copy of pg the adapter itself loads (it checks `instanceof pg.Pool`, and
 * otherwise reads the pool as a configuration): prefer clinresPoolConfig.
 */
export function clinresPool(pgModule: { Pool: typeof pg.Pool; Client: typeof pg.Client }, config: pg.PoolConfig = {}): pg.Pool {
    return new pgModule.Pool(clinresPoolConfig(pgModule, config));
}

/** A pg client class whose failed queries carry clinres's marker where Prisma's adapter keeps it. */
function markerClient(Base: typeof pg.Client): typeof pg.Client {
    return class MarkerClient extends Base {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        override query(...args: any[]): any {
            const i = args.findIndex((a) => typeof a === "function");
            if (i >= 0) {
                const cb = args[i] as (err: Error | null, res: unknown) => void;
                args[i] = (err: Error | null, res: unknown) => cb(err && keepMarker(err), res);
                return (super.query as (...a: unknown[]) => unknown)(...args);
            }
            const r = (super.query as (...a: unknown[]) => unknown)(...args);
            return r instanceof Promise ? r.catch((err: Error) => { throw keepMarker(err); }) : r;
        }
    };
}

/** What clinres needs of a Prisma client or transaction client: raw queries. */
export interface PrismaRaw {
    $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/** A Prisma client that can open interactive transactions. */
export interface PrismaTransactional<Tx extends PrismaRaw> {
    $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/**
 * True for a Prisma client, false for an interactive transaction's client: both have $transaction
 * (Prisma 7 nests transactions), only the client has $connect.
 */
function isClient(db: PrismaRaw): boolean {
    return typeof (db as { $connect?: unknown }).$connect === "function";
}

/** An Executor on a Prisma client (pooled: each statement may run on another connection) or transaction client. */
export function prismaExecutor(db: PrismaRaw): Executor {
    return { pooled: isClient(db), query: async (sql, params) => await db.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...params) };
}

/** The transaction client of `withRequest` / `withContext`; throws for a Prisma client (no transaction). */
function txExecutor(tx: PrismaRaw): Executor {
    if (isClient(tx)) {
        throw new TypeError("@clinres/client: pass the transaction client of prisma.$transaction((tx) => ...), not the Prisma client "
            + "(outside a transaction each statement may run on another connection)");
    }
    return prismaExecutor(tx);
}

/** The typed clinres API on a Prisma client or transaction client. */
export function clinres(db: PrismaRaw): Clinres {
    return bind(prismaExecutor(db));
}

/**
 * Inside an interactive transaction: begin_request (context for this transaction only, module
 * checked), then `fn`. A clinres denial is rethrown as ModuleDenied (the transaction rolls back).
 *   await prisma.$transaction((tx) => withRequest(tx, { user, tenant, module: "aia" }, (tx) => tx.note.findMany()))
 */
export async function withRequest<Tx extends PrismaRaw, T>(
    tx: Tx,
    req: RequestSpec,
    fn: (tx: Tx, ctx: RequestContext, api: Clinres) => Promise<T>,
): Promise<T> {
    const exec = txExecutor(tx);
    try {
        const ctx = await beginRequest(exec, req);
        return await fn(tx, ctx, bind(exec));
    } catch (err) {
        throw asModuleDenied(err);
    }
}

/**
 * Inside an interactive transaction: the context only (set_session or set_context for this
 * transaction), no module checked; for the user-management functions, which check permissions.
 * `ctx` is what begin_request returns, without `module`.
 */
export async function withContext<Tx extends PrismaRaw, T>(
    tx: Tx,
    spec: ContextSpec,
    fn: (tx: Tx, ctx: SessionContext, api: Clinres) => Promise<T>,
): Promise<T> {
    const exec = txExecutor(tx);
    try {
        const ctx = await setContext(exec, spec);
        return await fn(tx, ctx, bind(exec));
    } catch (err) {
        throw asModuleDenied(err);
    }
}

/**
 * The `$extends` form: `const db = prisma.$extends(clinresExtension())`, then
 * `db.$withRequest({ token, module: "aia" }, (tx) => tx.note.findMany())` opens the
 * transaction itself; `db.$withContext({ token }, (tx, ctx, api) => api.listUsers())` likewise.
 */
export function clinresExtension(options?: { maxWait?: number; timeout?: number }) {
    return {
        name: "clinres",
        client: {
            $withRequest<Tx extends PrismaRaw, T>(
                this: PrismaTransactional<Tx>,
                req: RequestSpec,
                fn: (tx: Tx, ctx: RequestContext, api: Clinres) => Promise<T>,
            ): Promise<T> {
                return this.$transaction((tx) => withRequest(tx, req, fn), options);
            },
            $withContext<Tx extends PrismaRaw, T>(
                this: PrismaTransactional<Tx>,
                spec: ContextSpec,
                fn: (tx: Tx, ctx: SessionContext, api: Clinres) => Promise<T>,
            ): Promise<T> {
                return this.$transaction((tx) => withContext(tx, spec, fn), options);
            },
        },
    };
}
