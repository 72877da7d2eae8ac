// node-postgres (pg 8): the typed API on a client or pool, and withRequest, one guarded request
// in one transaction (BEGIN, begin_request, your queries, COMMIT).
import pg from "pg";
import { beginRequest, bind, setContext, type Clinres, type ContextSpec, type RequestContext, type RequestSpec } from "./api.js";
import type { Executor } from "./call.js";
import { asModuleDenied } from "./errors.js";

/** An Executor on a pg client or pool (unnamed statements: safe behind pgbouncer in transaction mode). */
export function pgExecutor(db: pg.ClientBase | pg.Pool): Executor {
    return { query: async (sql, params) => (await db.query(sql, params as unknown[])).rows };
}

/** The typed clinres API on a pg client or pool. */
export function clinres(db: pg.ClientBase | pg.Pool): Clinres {
    return bind(pgExecutor(db));
}

/**
 * Runs `fn` as one guarded request: BEGIN, begin_request (context set for this transaction only,
 * module checked), fn, COMMIT; ROLLBACK when anything throws. A clinres denial, in the guard or
 * in `fn`, is rethrown as ModuleDenied. With a pool, a client is taken for the request and released.
 */
export function withRequest<T>(
    db: pg.Pool | pg.ClientBase,
    req: RequestSpec,
    fn: (client: pg.ClientBase, ctx: RequestContext, api: Clinres) => Promise<T>,
): Promise<T> {
    return inTransaction(db, (exec) => beginRequest(exec, req), fn);
}

/**
 * Runs `fn` in one transaction with the context set (set_session(token) or set_context(user, tenant)
 * for this transaction only) and no module checked: for endpoints guarded by permissions, such as
 * the user-management functions.
 */
export function withContext<T>(
    db: pg.Pool | pg.ClientBase,
    ctx: ContextSpec,
    fn: (client: pg.ClientBase, userId: string, api: Clinres) => Promise<T>,
): Promise<T> {
    return inTransaction(db, (exec) => setContext(exec, ctx), fn);
}

/** BEGIN, `start`, `fn`, COMMIT; ROLLBACK and ModuleDenied for clinres denials on failure. */
async function inTransaction<C, T>(
    db: pg.Pool | pg.ClientBase,
    start: (exec: Executor) => Promise<C>,
    fn: (client: pg.ClientBase, ctx: C, api: Clinres) => Promise<T>,
): Promise<T> {
    const client = db instanceof pg.Pool ? await db.connect() : db;
    let broken: Error | undefined;
    try {
        try {
            await client.query("BEGIN");
            const exec = pgExecutor(client);
            const ctx = await start(exec);
            const result = await fn(client, ctx, bind(exec));
            await client.query("COMMIT");
            return result;
        } catch (err) {
            await client.query("ROLLBACK").catch((e: Error) => { broken = e; });
            throw asModuleDenied(err);
        }
    } finally {
        if (client !== db) (client as pg.PoolClient).release(broken);
    }
}
