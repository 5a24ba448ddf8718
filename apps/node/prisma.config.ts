// Prisma CLI configuration for apps/node. Loaded by every `npx prisma …` run from this folder.
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// Prisma 7 downloads a native schema-engine before every command, which fails offline. The CLI
// loads this file before it looks for the engine, so pointing PRISMA_SCHEMA_ENGINE_BINARY at our
// wasm bridge here makes plain `npx prisma …` work with no network. An explicit value wins.
const engine = fileURLToPath(new URL('./prisma/engine/schema-engine.mjs', import.meta.url));
// git and npm pack do not always keep the executable bit; the CLI spawns the file directly.
chmodSync(engine, 0o755);
process.env['PRISMA_SCHEMA_ENGINE_BINARY'] ??= engine;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    // Relative file URLs are resolved against this folder (apps/node).
    url: process.env['DATABASE_URL'] ?? 'file:./.data/dev.db',
  },
});
