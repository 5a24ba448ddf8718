// Prisma CLI configuration for the node's PostgreSQL schema (generated from prisma/schema.prisma):
// `npx prisma <command> --config prisma.postgres.config.ts` from apps/node. See README "PostgreSQL".
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// The same offline wasm bridge as prisma.config.ts (Prisma 7 would download a native engine otherwise).
const engine = fileURLToPath(new URL('./prisma/engine/schema-engine.mjs', import.meta.url));
chmodSync(engine, 0o755);
process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ??= engine;

export default defineConfig({
  schema: 'prisma/schema.postgres.prisma',
  migrations: { path: 'prisma/migrations-postgres' },
  datasource: {
    // Only commands that talk to a server use it (migrate deploy/status/dev, db *); generate and
    // `migrate diff --from-empty|--from-schema … --to-schema …` work without one.
    url: process.env['CPNET_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/cpnet',
  },
});
