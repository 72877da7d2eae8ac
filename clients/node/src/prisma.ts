// Prisma 7 with @prisma/adapter-pg: the typed API on a client or interactive transaction,
// withRequest inside `prisma.$transaction(tx => ...)`, and the same as a `$extends` extension.
import { beginRequest, bind, setContext, type Clinres, type ContextSpec, type RequestContext, type RequestSpec } from "./api.js";
import type { Executor } from "./call.js";
import { asModuleDenied } from "./errors.js";

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
    fn: (tx: Tx, ctx: RequestContext, api: Clinres) => Promise<T>,
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
                fn: (tx: Tx, ctx: RequestContext, api: Clinres) => Promise<T>,
            ): Promise<T> {
                return this.$transaction((tx) => withContext(tx, spec, fn), options);
            },
        },
    };
}
