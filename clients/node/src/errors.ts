// clinres denials (module or permission) as a ModuleDenied error and HTTP statuses.
// A denial is recognised ONLY by clinres's marker: SQLSTATE 42501 with the error's schema field
// 'clinres'. 42501 alone also means a missing GRANT or an RLS WITH CHECK violation: those are
// server or application faults and stay 500.

/** The fields of a PostgreSQL error the marker lives in (pg's DatabaseError has them all). */
interface PgErrorFields {
    code?: unknown;
    schema?: unknown;
    table?: unknown;
    column?: unknown;
    message?: unknown;
}

/** A clinres denial: the module or permission that was refused. */
export class ModuleDenied extends Error {
    readonly status = 403;
    constructor(message: string, readonly what: string | null, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "ModuleDenied";
    }
}

/** The PostgreSQL error fields behind a pg error, or behind a Prisma error wrapping a driver-adapter error. */
function pgFields(err: unknown): PgErrorFields | null {
    if (typeof err !== "object" || err === null) return null;
    const e = err as Record<string, unknown>;
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e; // pg DatabaseError
    // Prisma 7: PrismaClientKnownRequestError (P2010 raw query failed, ...) whose
    // meta.driverAdapterError.cause is @prisma/adapter-pg's conversion of the pg error.
    const meta = e.meta as Record<string, unknown> | undefined;
    const dae = meta?.driverAdapterError as Record<string, unknown> | undefined;
    const cause = (dae?.cause ?? (e.name === "DriverAdapterError" ? e.cause : undefined)) as Record<string, unknown> | undefined;
    if (cause && typeof cause.originalCode === "string") {
        return { code: cause.originalCode, schema: cause.schema, table: cause.table, column: cause.column, message: cause.originalMessage };
    }
    return null;
}

/** The denial carried by `err` (pg or Prisma), or null when it is not a clinres denial. */
export function clinresDenial(err: unknown): { what: string | null; message: string } | null {
    if (err instanceof ModuleDenied) return { what: err.what, message: err.message };
    const f = pgFields(err);
    if (!f || f.code !== "42501" || f.schema !== "clinres") return null;
    const what = [f.column, f.table].find((v): v is string => typeof v === "string" && v.length > 0) ?? null;
    return { what, message: typeof f.message === "string" ? f.message : "permission denied" };
}

/** `err` as a ModuleDenied when it is a clinres denial, else unchanged. */
export function asModuleDenied(err: unknown): unknown {
    if (err instanceof ModuleDenied) return err;
    const d = clinresDenial(err);
    return d ? new ModuleDenied(d.message, d.what, { cause: err }) : err;
}

/** The HTTP status an API should answer for an error: 403 for clinres denials, 500 for everything else. */
export function toHttpStatus(err: unknown): 403 | 500 {
    return clinresDenial(err) ? 403 : 500;
}
