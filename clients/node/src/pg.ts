// node-postgres (pg >= 8.21): the typed API on a client or pool, and withRequest / withContext,
// one request in one transaction on one connection (BEGIN, the context, your queries, COMMIT).
// Nothing here imports pg at run time: a pool, pooled client or client is recognised by what it
// can do, so the application's own copy of pg works whichever copy this package would resolve.
import type pg from "pg";
import { beginRequest, bind, setContext, type Clinres, type ContextSpec, type RequestContext, type RequestSpec, type SessionContext } from "./api.js";
import type { Executor } from "./call.js";
import { asModuleDenied } from "./errors.js";

/** A pg pool, a client checked out of one (it has release()), or a single pg.Client. */
export type PgDb = pg.Pool | pg.PoolClient | pg.Client;
type Kind = "pool" | "pooled client" | "client";
type Obj = Record<string, unknown>;

/**
 * What `db` is, by what it can do; throws on anything else. A pg client (pg.Client, and a
 * pool's pg.PoolClient, which adds release()) has getTransactionStatus(); a pg.Pool has none,
 * but connect() and the counters totalCount and idleCount. pg.Client also has connect() (it
 * opens that one connection), so connect() alone says nothing.
 */
export function pgKind(db: unknown): Kind {
    const d = db as Obj | null;
    if (typeof d === "object" && d !== null && typeof d.query === "function") {
        if (typeof d.getTransactionStatus === "function") return typeof d.release === "function" ? "pooled client" : "client";
        if (typeof d.connect === "function" && typeof d.totalCount === "number" && typeof d.idleCount === "number"
            && typeof d.release !== "function") return "pool";
    }
    const what = typeof d === "object" && d !== null ? `an object with ${Object.keys(d).slice(0, 8).join(", ") || "no own keys"}` : String(d);
    throw new TypeError(`@clinres/client: expected a pg.Pool, a pg.PoolClient or a pg.Client (pg >= 8.21), got ${what}`);
}

/** An Executor on a pg client or pool (unnamed statements: safe behind pgbouncer in transaction mode). */
export function pgExecutor(db: PgDb): Executor {
    const pooled = pgKind(db) === "pool";
    return { pooled, query: async (sql, params) => (await (db as pg.ClientBase).query(sql, params as unknown[])).rows };
}

/**
 * The typed clinres API on a pg client or pool. On a pool every call may run on another
 * connection, so the calls that set a context or need one transaction (setSession, setContext,
 * beginRequest, createUser) throw there: use withContext / withRequest.
 */
export function clinres(db: PgDb): Clinres {
    return bind(pgExecutor(db));
}

/**
 * Runs `fn` as one guarded request: BEGIN, begin_request (context set for this transaction only,
 * module checked), fn, COMMIT; ROLLBACK when anything throws. A clinres denial, in the guard or
 * in `fn`, is rethrown as ModuleDenied. With a pool, a client is taken for the request and released.
 */
export function withRequest<T>(
    db: PgDb,
    req: RequestSpec,
    fn: (client: pg.ClientBase, ctx: RequestContext, api: Clinres) => Promise<T>,
): Promise<T> {
    return inTransaction(db, (exec) => beginRequest(exec, req), fn);
}

/**
 * Runs `fn` in one transaction with the context set (set_session(token) or set_context(user, tenant)
 * for this transaction only) and no module checked: for endpoints guarded by permissions, such as
 * the user-management functions. `ctx` is what begin_request returns, without `module`.
 */
export function withContext<T>(
    db: PgDb,
    ctx: ContextSpec,
    fn: (client: pg.ClientBase, ctx: SessionContext, api: Clinres) => Promise<T>,
): Promise<T> {
    return inTransaction(db, (exec) => setContext(exec, ctx), fn);
}

/** Clients inside a withRequest / withContext now: a second request on one of them is refused. */
const busy = new WeakSet<object>();

/**
 * BEGIN, `start`, `fn`, COMMIT on one connection; ROLLBACK and ModuleDenied for clinres denials
 * on failure. `fn` gets a handle on the client that stops working when the request ends (a late
 * query would otherwise run in whatever request has the connection next) and cannot release it.
 * A pooled connection that is not idle and out of a transaction afterwards is destroyed, not reused.
 */
async function inTransaction<C, T>(
    db: PgDb,
    start: (exec: Executor) => Promise<C>,
    fn: (client: pg.ClientBase, ctx: C, api: Clinres) => Promise<T>,
): Promise<T> {
    const kind = pgKind(db);
    const client = (kind === "pool" ? await checkOut(db as pg.Pool) : db) as pg.PoolClient;
    const release = (err?: Error) => { if (kind === "pool") client.release(err); };
    const status = client.getTransactionStatus();
    if (busy.has(client) || status === "T" || status === "E") {
        release();
        throw new Error("@clinres/client: this client is already in a transaction or another request; "
            + "withRequest/withContext need a connection of their own (pass the pool)");
    }
    busy.add(client);
    const handle = requestHandle(client);
    let broken: Error | undefined;
    try {
        try {
            await client.query("BEGIN");
            const exec: Executor = { pooled: false, query: async (sql, params) => (await handle.client.query(sql, params as unknown[])).rows };
            const ctx = await start(exec);
            const result = await fn(handle.client, ctx, bind(exec));
            const done = await client.query("COMMIT");
            // COMMIT of a transaction that an error aborted (one that fn caught) answers ROLLBACK.
            if (done.command !== "COMMIT") throw new Error(`@clinres/client: the transaction was rolled back (a statement in it failed), nothing was written`);
            return result;
        } catch (err) {
            if (client.getTransactionStatus() !== "I") await client.query("ROLLBACK").catch((e: Error) => { broken = e; });
            throw asModuleDenied(err);
        }
    } finally {
        handle.revoke();
        busy.delete(client);
        const after = client.getTransactionStatus();
        if (!broken && after !== "I" && after !== null) broken = new Error(`connection left in transaction state ${after}`);
        release(broken);
    }
}

/** A client from the pool, which must be a pooled pg client (else it is released and this throws). */
async function checkOut(pool: pg.Pool): Promise<pg.PoolClient> {
    const client = await pool.connect();
    let kind: Kind | undefined;
    try { kind = pgKind(client); } catch { /* reported below */ }
    if (kind !== "pooled client") {
        (client as { release?: (e?: Error) => void }).release?.(new Error("not a pg client"));
        throw new TypeError("@clinres/client: the pool's connect() did not return a pg.PoolClient");
    }
    return client;
}

/** The client as fn sees it: every use after revoke() throws; release() is refused (the request releases). */
function requestHandle(client: pg.PoolClient): { client: pg.ClientBase; revoke: () => void } {
    let live = true;
    const proxy = new Proxy(client, {
        get(target, prop) {
            if (!live) throw new Error(`@clinres/client: client.${String(prop)} used after its request ended`);
            if (prop === "release") throw new Error("@clinres/client: withRequest/withContext release the client themselves");
            const v = Reflect.get(target, prop, target) as unknown;
            return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
    });
    return { client: proxy, revoke: () => { live = false; } };
}
