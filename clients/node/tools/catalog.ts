// Reads the signatures of clinres's functions from pg_proc, in the signature table's format.
import type pg from "pg";
import type { SqlArg, SqlColumn, SqlSignature } from "../src/signatures.js";

interface ProcRow {
    proname: string;
    args: { name: string | null; type: string; mode: string }[];
    ndefaults: number;
    rettype: string;
    retset: boolean;
}

const procQuery = `
SELECT p.proname, p.pronargdefaults AS ndefaults, p.proretset AS retset,
       pg_catalog.format_type(p.prorettype, NULL) AS rettype,
       (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                    'name', a.name, 'type', pg_catalog.format_type(a.type, NULL), 'mode', coalesce(a.mode, 'i'))
                ORDER BY a.ord), '[]')
          FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargnames, p.proargmodes::text[])
               WITH ORDINALITY AS a(type, name, mode, ord)
         WHERE a.type IS NOT NULL) AS args
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'clinres'::regnamespace AND p.proname = ANY($1::text[])
 ORDER BY p.oid`;

/** Every overload named in `names`, as SqlSignatures (column nullability is not in the catalog: never "null"). */
export async function readSignatures(db: pg.ClientBase, names: string[]): Promise<SqlSignature[]> {
    const { rows } = await db.query<ProcRow>(procQuery, [names]);
    return rows.map((p) => {
        const inputs = p.args.filter((a) => a.mode === "i" || a.mode === "b" || a.mode === "v");
        const outputs = p.args.filter((a) => a.mode === "o" || a.mode === "b" || a.mode === "t");
        const args: SqlArg[] = inputs.map((a, i) =>
            i >= inputs.length - p.ndefaults ? [a.name ?? "", a.type, "default"] : [a.name ?? "", a.type]);
        const returns = outputs.length > 0
            ? { table: outputs.map((a): SqlColumn => [a.name ?? "", a.type]) }
            : p.retset ? { setof: p.rettype } : p.rettype;
        return { fn: p.proname, args, returns };
    });
}

/** The input argument types of a signature: what tells overloads apart. */
export function inputTypes(sig: SqlSignature): string {
    return `${sig.fn}(${sig.args.map((a) => a[1]).join(", ")})`;
}

/** A signature without what the catalog cannot know (column nullability, a NULL argument's meaning), for comparison. */
export function comparable(sig: SqlSignature): unknown {
    const r = sig.returns;
    const returns = typeof r === "string" || "setof" in r ? r : { table: r.table.map((c) => [c[0], c[1]]) };
    return { fn: sig.fn, args: sig.args.map((a) => (a[2] === "null" ? [a[0], a[1]] : [...a])), returns };
}
