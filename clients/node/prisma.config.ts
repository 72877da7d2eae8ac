// Prisma 7 configuration: the schema file; the database URL is only needed by migrate/introspect
// commands, which the tests never run (the client connects through @prisma/adapter-pg).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
});
