// The PostgreSQL schema and migrations are kept in step with the SQLite ones (schema.prisma is the one source), and
// the node's migration runner applies them as Prisma's migrate does. One embedded PostgreSQL for the file.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresSchemaOf } from '../../prisma/postgres-schema.mjs';
import { DatabaseNewerThanNode, listMigrations, MIGRATIONS_DIR } from './migrate.ts';
import { applyPostgresMigrations, POSTGRES_MIGRATIONS_DIR } from './migrate-postgres.ts';
import { startTestPostgres, type TestPostgres } from './postgres-test-server.ts';

const NODE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const PRISMA = fileURLToPath(import.meta.resolve('prisma/build/index.js'));
const run = promisify(execFile);

/** Runs the Prisma CLI on the PostgreSQL config (offline: the wasm engine bridge) with the database at `url`. */
async function prisma(url: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [PRISMA, ...args, '--config', 'prisma.postgres.config.ts'], {
      cwd: NODE_DIR,
      env: { ...process.env, CPNET_DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('the PostgreSQL schema, generated from schema.prisma', () => {
  it('is what prisma/postgres-schema.mjs makes of schema.prisma (run it after editing schema.prisma)', () => {
    const source = readFileSync(path.join(NODE_DIR, 'prisma/schema.prisma'), 'utf8');
    const written = readFileSync(path.join(NODE_DIR, 'prisma/schema.postgres.prisma'), 'utf8');
    expect(written).toBe(postgresSchemaOf(source));
    expect(written).toContain('provider = "postgresql"');
  });

  it('has a migration for every SQLite migration since PostgreSQL support began, of the same name', () => {
    const sqlite = listMigrations(MIGRATIONS_DIR).map((m) => m.name);
    const postgres = listMigrations(POSTGRES_MIGRATIONS_DIR).map((m) => m.name);
    // The first PostgreSQL migration is the whole schema as of the SQLite migration of the same name.
    expect(postgres.length).toBeGreaterThan(0);
    expect(postgres).toEqual(sqlite.slice(sqlite.indexOf(postgres[0]!)));
  });
});

describe('PostgreSQL migrations (embedded server)', () => {
  let server: TestPostgres;
  const dirs: string[] = [];
  beforeAll(async () => {
    server = await startTestPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('replayed into a shadow database, the migrations give exactly schema.postgres.prisma (Prisma CLI, offline)', async () => {
    const url = await server.database();
    const diff = await prisma(url, [
      'migrate',
      'diff',
      '--from-migrations',
      'prisma/migrations-postgres',
      '--to-schema',
      'prisma/schema.postgres.prisma',
      '--exit-code',
      '--script',
    ]);
    // --exit-code: 0 = no difference, 2 = a difference (the script printed), 1 = an error.
    expect(diff.out).not.toMatch(/CREATE|ALTER|DROP/);
    expect(diff.code).toBe(0);
  }, 60_000);

  it('the node applies them once, records them as Prisma does (migrate status agrees), refuses a newer database', async () => {
    const url = await server.database();
    const first = await applyPostgresMigrations(url);
    expect(first.applied).toEqual(listMigrations(POSTGRES_MIGRATIONS_DIR).map((m) => m.name));
    expect((await applyPostgresMigrations(url)).applied).toEqual([]);
    const status = await prisma(url, ['migrate', 'status']);
    expect(status.out).toContain('Database schema is up to date');
    expect(status.code).toBe(0);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = await client.query<{ checksum: string; applied_steps_count: number }>(
        'SELECT checksum, applied_steps_count FROM "_prisma_migrations"',
      );
      expect(rows.rows.map((r) => r.checksum)).toEqual(listMigrations(POSTGRES_MIGRATIONS_DIR).map((m) => m.checksum));
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES ('x', 'y', now(), '29990101000000_from_the_future', now(), 1)`,
      );
    } finally {
      await client.end();
    }
    await expect(applyPostgresMigrations(url)).rejects.toThrow(DatabaseNewerThanNode);
    await expect(applyPostgresMigrations(url)).rejects.toThrow(/29990101000000_from_the_future/);
  }, 60_000);

  it('a migration that fails leaves nothing behind and is named', async () => {
    const url = await server.database();
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-pg-migrations-'));
    dirs.push(dir);
    const write = (name: string, sql: string) => {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, 'migration.sql'), sql);
    };
    write('20260101000000_one', 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);');
    write('20260102000000_two', 'CREATE TABLE "B" ("id" INTEGER PRIMARY KEY); INSERT INTO "Nope" VALUES (1);');
    await expect(applyPostgresMigrations(url, dir)).rejects.toThrow(/20260102000000_two failed and was rolled back/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query<{ t: string }>(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      expect(tables.rows.map((r) => r.t)).toEqual(['A', '_prisma_migrations']);
    } finally {
      await client.end();
    }
  }, 60_000);
});
