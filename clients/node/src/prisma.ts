// Prisma 7 with @prisma/adapter-pg: the typed API on a client or interactive transaction,
// withRequest inside `prisma.$transaction(tx => ...)`, and the same as a `$extends` extension.
import { beginRequest, bind, setContext, type Clinres, type ContextSpec, type RequestContext, type RequestSpec } from "./api.js";
import type { Executor } from "./call.js";
import { asModuleDenied, keepDenialMarker } from "./errors.js";
import pg from "pg";

/**
 * The pg pool to give @prisma/adapter-pg: `new PrismaPg(clinresPool(config))`. The adapter passes
 * on only code, message, detail, column and hint of a PostgreSQL error, not the schema and table
 * fields that carry clinres's denial marker; this pool's connections restate the marker in the
 * column field ("clinres:<kind>:<what>") so that ModuleDenied and toHttpStatus recognise it.
 * Without it, Prisma errors are never taken for denials (they map to 500).
 */
export function clinresPool(config: pg.PoolConfig = {}): pg.Pool {
    return new pg.Pool({ ...config, Client: MarkerClient });
}

/** A pg client whose failed queries carry the denial marker where Prisma's adapter keeps it. */
class MarkerClient extends pg.Client {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(...args: any[]): any {
        const i = args.findIndex((a) => typeof a === "function");
        if (i >= 0) {
            const cb = args[i] as (err: Error | null, res: unknown) => void;
            args[i] = (err: Error | null, res: unknown) => cb(err && keepDenialMarker(err), res);
            return (super.query as (...a: unknown[]) => unknown)(...args);
        }
        const r = (super.query as (...a: unknown[]) => unknown)(...args);
        return r instanceof Promise ? r.catch((err: Error) => { throw keepDenialMarker(err); }) : r;
    }
}

/** What clinres needs of a Prisma client or transaction client: raw queries. */
export interface PrismaRaw {
    $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/** A Prisma client that can open interactive transactions. */
export interface PrismaTransactional<Tx extends PrismaRaw> {
    $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/** An Executor on a Prisma client or transaction client. */
export function prismaExecutor(db: PrismaRaw): Executor {
    return { query: async (sql, params) => await db.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...params) };
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
    try {
        const exec = prismaExecutor(tx);
        const ctx = await beginRequest(exec, req);
        return await fn(tx, ctx, bind(exec));
    } catch (err) {
        throw asModuleDenied(err);
    }
}

/**
 * Inside an interactive transaction: the context only (set_session or set_context for this
 * transaction), no module checked; for the user-management functions, which check permissions.
 */
export async function withContext<Tx extends PrismaRaw, T>(
    tx: Tx,
    spec: ContextSpec,
    fn: (tx: Tx, userId: string, api: Clinres) => Promise<T>,
): Promise<T> {
    try {
        const exec = prismaExecutor(tx);
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
                fn: (tx: Tx, userId: string, api: Clinres) => Promise<T>,
            ): Promise<T> {
                return this.$transaction((tx) => withContext(tx, spec, fn), options);
            },
        },
    };
}
