// npm run generate: the test application's Prisma client (generated/prisma), offline. prisma
// generate needs no engine; PRISMA_SCHEMA_ENGINE_BINARY names a stand-in that only fails, which
// proves that nothing tries to run or download one. Plain JavaScript: it runs before tsc.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "clinres-prisma-"));
const engine = join(dir, "schema-engine");
writeFileSync(engine, '#!/bin/sh\necho "schema engine stand-in: not available offline" >&2\nexit 1\n');
chmodSync(engine, 0o755);
try {
    execFileSync("npx", ["--no-install", "prisma", "generate"], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: engine, PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: "1",
               CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    });
} finally {
    rmSync(dir, { recursive: true, force: true });
}
