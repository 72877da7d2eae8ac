// clinres errors as HTTP answers: the status, the field that failed, the denial (ModuleDenied).
// clinres marks its own errors: the error's schema field 'clinres', its table field the kind and
// its column field what it concerns. Denials are 42501 with kind "permission", "module", "role",
// "self", "row" (or "session") and column the permission, module, role or verb refused; invalid
// input is 22023 or 23505 with kind "field" and column the field's stable key ("email", "phone",
// "modules", "page_size", ...); a bad or expired token is 28000 with kind "session". 42501 alone
// also means a missing GRANT or an RLS WITH CHECK violation: those are server or application
// faults and stay 500, as does 28000 without the marker (a connection refused by pg_hba.conf).

/** A clinres denial: the kind of check and the module, permission, role or verb it refused. */
export class ModuleDenied extends Error {
    readonly status = 403;
    constructor(message: string, readonly kind: string, readonly what: string | null, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "ModuleDenied";
    }
}

/** What an error means to an HTTP API. */
export interface HttpError {
    status: 400 | 401 | 403 | 404 | 409 | 500 | 503;
    /** the SQLSTATE, when the error came from PostgreSQL */
    sqlstate: string | null;
    /** 400 and 409 from clinres: the stable key of the field that failed (a form binds to it) */
    field: string | null;
    /** 403: the kind of check that refused ("permission", "module", "role", "self", "row", "session") */
    kind: string | null;
    /** 403: what was refused (a permission or module code, a role, a verb) */
    what: string | null;
    /** the error's message (for 500, log it; do not send it) */
    message: string;
}

interface Facts { code: string | null; kind: string | null; what: string | null; message: string; rawQuery: boolean }

/** Where clinresPoolConfig restates the marker for Prisma: the column field, "clinres:<kind>:<what>". */
const restated = /^clinres:([a-z_]+):(.*)$/s;

const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : null);

/** SQLSTATE and marker of a pg DatabaseError, or of a Prisma error wrapping one; null for other values. */
function factsOf(err: unknown): Facts | null {
    if (typeof err !== "object" || err === null) return null;
    if (err instanceof ModuleDenied) return { code: "42501", kind: err.kind, what: err.what, message: err.message, rawQuery: false };
    const e = err as Record<string, unknown>;
    // Prisma 7: PrismaClientKnownRequestError (P2010 for raw queries) whose meta.driverAdapterError.cause
    // is @prisma/adapter-pg's copy of some of the pg error's fields (code, message, column).
    const meta = e.meta as Record<string, unknown> | undefined;
    const dae = (meta?.driverAdapterError ?? (e.name === "DriverAdapterError" ? e : undefined)) as Record<string, unknown> | undefined;
    const cause = dae?.cause as Record<string, unknown> | undefined;
    if (cause && typeof cause.originalCode === "string") {
        const m = typeof cause.column === "string" ? restated.exec(cause.column) : null;
        return { code: cause.originalCode, kind: m ? m[1] : null, what: m ? m[2] || null : null,
                 message: String(cause.originalMessage ?? cause.message ?? e.message), rawQuery: e.code === "P2010" };
    }
    if (typeof e.code !== "string" || !/^[0-9A-Z]{5}$/.test(e.code)) return { code: null, kind: null, what: null, message: String(e.message), rawQuery: false };
    const m = typeof e.column === "string" ? restated.exec(e.column) : null;
    if (m) return { code: e.code, kind: m[1], what: m[2] || null, message: String(e.message), rawQuery: false };
    const marked = e.schema === "clinres";
    return { code: e.code, kind: marked ? str(e.table) : null, what: marked ? str(e.column) : null, message: String(e.message), rawQuery: false };
}

/** The status, field and denial an HTTP API answers for `err` (anything thrown). */
export function toHttpError(err: unknown): HttpError {
    const f = factsOf(err);
    const message = f?.message ?? String(err);
    const out = (status: HttpError["status"], extra: Partial<HttpError> = {}): HttpError =>
        ({ status, sqlstate: f?.code ?? null, field: null, kind: null, what: null, message, ...extra });
    const field = f?.kind === "field" ? f.what : null;
    switch (f?.code) {
        case "42501": return f.kind && f.kind !== "field" ? out(403, { kind: f.kind, what: f.what }) : out(500);
        // Prisma's adapter keeps no marker for 28000; a raw query (P2010) raising it is a token, not a connection.
        case "28000": return f.kind === "session" || f.rawQuery ? out(401) : out(500);
        case "22023": case "22P02": return out(400, { field });
        case "23505": return out(409, { field });
        case "P0002": return out(404);
        case "55000": return out(503);
        default: return out(500);
    }
}

/** The HTTP status an API should answer for an error (toHttpError(err).status). */
export function toHttpStatus(err: unknown): HttpError["status"] {
    return toHttpError(err).status;
}

/** `err` with clinres's marker restated in its column field (what Prisma's adapter passes on); for clinresPoolConfig. */
export function keepMarker<E extends Error>(err: E): E {
    const e = err as E & { code?: string; schema?: string; table?: string; column?: string };
    if (e.schema === "clinres" && typeof e.table === "string" && !restated.test(e.column ?? "")) {
        e.column = `clinres:${e.table}:${e.column ?? ""}`;
    }
    return err;
}

/** The denial carried by `err` (pg or Prisma), or null when it is not a clinres denial. */
export function clinresDenial(err: unknown): { kind: string; what: string | null; message: string } | null {
    const h = toHttpError(err);
    return h.status === 403 ? { kind: h.kind as string, what: h.what, message: h.message } : null;
}

/** `err` as a ModuleDenied when it is a clinres denial, else unchanged. */
export function asModuleDenied(err: unknown): unknown {
    if (err instanceof ModuleDenied) return err;
    const d = clinresDenial(err);
    return d ? new ModuleDenied(d.message, d.kind, d.what, { cause: err }) : err;
}
