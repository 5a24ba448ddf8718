#!/usr/bin/env node
// Writes prisma/schema.postgres.prisma from prisma/schema.prisma, the one source of the node's data model.
// Prisma takes one provider per schema, so the PostgreSQL schema is this file's output, never edited by hand:
// the provider becomes postgresql and the client is generated into src/generated/prisma-postgres.
// `node prisma/postgres-schema.mjs --check` exits 1 when the written file is not what the source gives.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SOURCE = fileURLToPath(new URL('./schema.prisma', import.meta.url));
export const TARGET = fileURLToPath(new URL('./schema.postgres.prisma', import.meta.url));

const HEADER =
  '// GENERATED from schema.prisma by prisma/postgres-schema.mjs: do not edit; edit schema.prisma and run\n' +
  '// `npm run prisma:postgres` in apps/node (which also writes the PostgreSQL migration).\n\n';

/** The PostgreSQL schema for the text of the SQLite one; throws when the source's shape is not the expected one. */
export function postgresSchemaOf(source) {
  const edits = [
    { from: /provider = "sqlite"/, to: 'provider = "postgresql"', what: 'provider = "sqlite" in datasource db' },
    {
      from: /output {3}= "\.\.\/src\/generated\/prisma"/,
      to: 'output   = "../src/generated/prisma-postgres"',
      what: 'the client output "../src/generated/prisma"',
    },
  ];
  let out = source;
  for (const { from, to, what } of edits) {
    if (!from.test(out)) throw new Error(`schema.prisma: expected ${what}`);
    out = out.replace(from, to);
  }
  return HEADER + out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const want = postgresSchemaOf(readFileSync(SOURCE, 'utf8'));
  if (process.argv.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(TARGET, 'utf8');
    } catch {
      // missing: reported below
    }
    if (have !== want) {
      process.stderr.write('prisma/schema.postgres.prisma is out of date: run `node prisma/postgres-schema.mjs`\n');
      process.exit(1);
    }
  } else {
    writeFileSync(TARGET, want);
  }
}
