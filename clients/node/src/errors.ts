// clinres denials as a ModuleDenied error and HTTP statuses.
// A denial is recognised ONLY by clinres's marker: SQLSTATE 42501 with the error's schema field
// 'clinres', its table field the kind ("module", "permission", "role", "self", "row", "session") and its column field
// what was refused (a module or permission code). 42501 alone also means a missing GRANT or an RLS
// WITH CHECK violation: those are server or application faults and stay 500.

/** A clinres denial: the kind of check and the module or permission it refused. */
export class ModuleDenied extends Error {
    readonly status = 403;
    constructor(message: string, readonly kind: string, readonly what: string | null, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "ModuleDenied";
    }
}

interface Marker { kind: string; what: string | null; message: string }

/** Where clinresPool restates the marker for Prisma: the column field, "clinres:<kind>:<what>". */
const prismaColumn = /^clinres:([a-z_]+):(.*)$/s;

/** The marker of a pg DatabaseError, or of a Prisma error wrapping one read through clinresPool. */
function markerOf(err: unknown): Marker | null {
    if (typeof err !== "object" || err === null) return null;
    const e = err as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : null);
    if (e.code === "42501" && e.schema === "clinres") {
        const restated = typeof e.column === "string" ? prismaColumn.exec(e.column) : null;
        return { kind: str(e.table) ?? "module", what: restated ? restated[2] || null : str(e.column), message: String(e.message) };
    }
    // Prisma 7: PrismaClientKnownRequestError (P2010 for raw queries, ...) whose
    // meta.driverAdapterError.cause is @prisma/adapter-pg's copy of some of the pg error's fields.
    const meta = e.meta as Record<string, unknown> | undefined;
    const dae = (meta?.driverAdapterError ?? (e.name === "DriverAdapterError" ? e : undefined)) as Record<string, unknown> | undefined;
    const cause = dae?.cause as Record<string, unknown> | undefined;
    const m = cause?.originalCode === "42501" && typeof cause.column === "string" ? prismaColumn.exec(cause.column) : null;
    return m ? { kind: m[1], what: m[2] || null, message: String(cause?.originalMessage ?? cause?.message) } : null;
}

/** `err` with clinres's marker restated in its column field (what Prisma's adapter passes on); for clinresPool. */
export function keepDenialMarker<E extends Error>(err: E): E {
    const e = err as E & { code?: string; schema?: string; table?: string; column?: string };
    if (e.code === "42501" && e.schema === "clinres" && !prismaColumn.test(e.column ?? "")) {
        e.column = `clinres:${e.table ?? "module"}:${e.column ?? ""}`;
    }
    return err;
}

/** The denial carried by `err` (pg or Prisma), or null when it is not a clinres denial. */
export function clinresDenial(err: unknown): Marker | null {
    if (err instanceof ModuleDenied) return { kind: err.kind, what: err.what, message: err.message };
    return markerOf(err);
}

/** `err` as a ModuleDenied when it is a clinres denial, else unchanged. */
export function asModuleDenied(err: unknown): unknown {
    if (err instanceof ModuleDenied) return err;
    const d = markerOf(err);
    return d ? new ModuleDenied(d.message, d.kind, d.what, { cause: err }) : err;
}

/** The HTTP status an API should answer for an error: 403 for clinres denials, 500 for everything else. */
export function toHttpStatus(err: unknown): 403 | 500 {
    return clinresDenial(err) ? 403 : 500;
}
