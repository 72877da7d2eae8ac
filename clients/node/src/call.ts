// Builds and runs a call of a clinres function from the signature table, whatever the driver.
import { signatures, type FnKey, type SqlSignature } from "./signatures.js";
import { normalize, readAs, type ArgsOf, type ResultOf } from "./sqltypes.js";

/**
 * One parameterised statement; pg and Prisma each provide one (see pg.ts, prisma.ts). `pooled`:
 * each statement may run on another connection (a pool, a Prisma client outside a transaction).
 */
export interface Executor {
    readonly pooled: boolean;
    query(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
}

/** The statement calling `key` with the given arguments: named notation, each parameter cast to its SQL type. */
export function callSql(key: FnKey, args: Record<string, unknown>): { sql: string; params: unknown[] } {
    const sig: SqlSignature = signatures[key];
    const params: unknown[] = [];
    const parts: string[] = [];
    for (const [name, type] of sig.args) {
        const value = args[name];
        if (value === undefined) continue; // the SQL DEFAULT applies
        params.push(value);
        parts.push(`${name} => $${params.length}::${type}`);
    }
    const call = `clinres.${sig.fn}(${parts.join(", ")})`;
    const r = sig.returns;
    if (typeof r === "string") return { sql: `SELECT ${readAs(r, call)} AS result`, params };
    if ("setof" in r) return { sql: `SELECT ${readAs((r as { setof: string }).setof, "r")} AS result FROM ${call} AS r`, params };
    const cols = (r as { table: readonly (readonly [string, string, ...string[]])[] }).table.map(([c, t]) => `${readAs(t, `r.${c}`)} AS ${c}`).join(", ");
    return { sql: `SELECT ${cols} FROM ${call} AS r`, params };
}

/** Calls a clinres function and returns its result in the types the signature table promises. */
export async function call<K extends FnKey>(exec: Executor, key: K, args: ArgsOf<K>): Promise<ResultOf<K>> {
    const { sql, params } = callSql(key, args as Record<string, unknown>);
    const rows = await exec.query(sql, params);
    const r: SqlSignature["returns"] = signatures[key].returns;
    if (typeof r === "string") return normalize(r, rows[0]?.result) as ResultOf<K>;
    if ("setof" in r) {
        const t = (r as { setof: string }).setof;
        return rows.map((row) => normalize(t, row.result)) as ResultOf<K>;
    }
    const cols = (r as { table: readonly (readonly [string, string, ...string[]])[] }).table;
    return rows.map((row) => {
        const out: Record<string, unknown> = {};
        for (const [c, t] of cols) out[c] = normalize(t, row[c]);
        return out;
    }) as ResultOf<K>;
}
