// Control for docs/node.md: named prepared statements through pgbouncer in transaction mode.
// 20 pg clients run the same named statement; prints how many failed and with which SQLSTATEs
// (pgbouncer 1.18: 42P05 already exists / 26000 does not exist). Unnamed statements, which the
// client uses, are what the platform flow runs clean through the same pgbouncer.
import { appPool } from "./env.js";

const pool = appPool(20);
const codes = new Map<string, number>();
let failed = 0;
await Promise.all(Array.from({ length: 20 }, async () => {
    const c = await pool.connect();
    try {
        for (let i = 0; i < 20; i++) {
            try {
                await c.query({ name: "clinres_named", text: "SELECT clinres.current_user_id()" });
            } catch (e) {
                failed++;
                const code = String((e as { code?: string }).code);
                codes.set(code, (codes.get(code) ?? 0) + 1);
            }
        }
    } finally {
        c.release(true);
    }
}));
await pool.end();
console.log(`named statements: ${failed} of 400 failed (${[...codes].map(([k, v]) => `${k} x${v}`).join(", ") || "none"})`);
