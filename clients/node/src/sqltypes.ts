// SQL type -> TypeScript type, at the type level (argument objects and rows derived from the
// signature table) and at run time (one value shape whichever driver read it).
import type { FnKey, SqlArg, SqlColumn, SqlReturn } from "./signatures.js";
import { signatures } from "./signatures.js";

/** The TypeScript type a value of a SQL type has after `normalize` (pg and Prisma alike). */
export type TsOf<S extends string> =
    S extends "uuid" | "text" | "name" ? string :
    S extends "integer" | "bigint" | "double precision" | "numeric" ? number :
    S extends "boolean" ? boolean :
    S extends "timestamp with time zone" ? Date :
    S extends "text[]" ? string[] :
    S extends "jsonb" ? unknown :
    S extends "bytea" ? Buffer :
    never;

type Required_<A extends readonly SqlArg[]> = {
    [E in A[number] as E extends readonly [string, string, "default"] ? never : E[0]]: E extends readonly [string, string, "null"] ? TsOf<E[1]> | null : TsOf<E[1]>;
};
type Optional_<A extends readonly SqlArg[]> = { [E in A[number] as E extends readonly [string, string, "default"] ? E[0] : never]?: TsOf<E[1]> | null };

/** The argument object of a function: required names (nullable where NULL means something), and optional ones for SQL DEFAULTs (omitted = the default). */
export type ArgsOf<K extends FnKey> = Required_<(typeof signatures)[K]["args"]> & Optional_<(typeof signatures)[K]["args"]>;

type RowOf<C extends readonly SqlColumn[]> = { -readonly [E in C[number] as E[0]]: E extends readonly [string, string, "null"] ? TsOf<E[1]> | null : TsOf<E[1]> };
type ResultOf_<R extends SqlReturn> =
    R extends { readonly table: infer C extends readonly SqlColumn[] } ? RowOf<C>[] :
    R extends { readonly setof: infer S extends string } ? TsOf<S>[] :
    R extends string ? TsOf<R> | null : never;

/** What a call returns: rows for TABLE functions, an array for SETOF, else the value (NULL -> null). */
export type ResultOf<K extends FnKey> = ResultOf_<(typeof signatures)[K]["returns"]>;

/** The SQL expression that reads a value of `sqlType` so that `normalize` can give it one shape for both drivers. */
export function readAs(sqlType: string, expr: string): string {
    // jsonb travels as text (pg parses json, Prisma's raw queries too, but not alike for JSON strings).
    return sqlType === "jsonb" ? `(${expr})::pg_catalog.text` : expr;
}

/** Turns a value as pg or Prisma returned it into the shape TsOf promises. */
export function normalize(sqlType: string, value: unknown): unknown {
    if (value === null || value === undefined) return null;
    switch (sqlType) {
        case "bigint":
        case "numeric":
        case "double precision":
        case "integer":
            // pg: int8 and numeric arrive as strings; Prisma: BigInt and Decimal. Counts and
            // percentages fit a double exactly (counts < 2^53).
            return typeof value === "number" ? value : Number(String(value));
        case "timestamp with time zone":
            return value instanceof Date ? value : new Date(String(value));
        case "jsonb":
            return JSON.parse(String(value));
        case "bytea":
            // pg: Buffer; Prisma: Uint8Array.
            return Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
        default:
            return value;
    }
}
