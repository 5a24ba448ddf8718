// Opens the node's SQLite database ready for use: folder and file created, migrations applied, WAL on,
// and a PrismaClient over better-sqlite3 (Prisma 7 needs a driver adapter; there is no query engine binary).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.ts';
import { applyMigrations } from './migrate.ts';
import { openSqlStore, type SqlStore } from './sql.ts';

/**
 * How much an acknowledged write survives: `power-loss` — every commit is fsynced before it is acknowledged (the
 * default; Prisma's connection synchronous=FULL, the hot-path connection NORMAL plus `WalSync`, see sql.ts);
 * `crash` — the process may die at any point and nothing committed is lost, but a power loss may lose the last
 * commits (synchronous=NORMAL in WAL mode; no fsync per commit). Simulations of many nodes in one process use
 * `crash`: a killed node is a process crash, and one fsync would stall every node sharing the event loop.
 */
export type Durability = 'power-loss' | 'crash';

/** An open node database. */
export interface NodeDatabase {
  prisma: PrismaClient;
  /** A synchronous better-sqlite3 connection to the same file, for the hot paths. */
  sql: SqlStore;
  /** Migrations applied while opening (empty when the file was up to date). */
  applied: string[];
  close(): Promise<void>;
}

/** KiB of page cache for the Prisma (cold-path) connection. */
export const COLD_CACHE_KIB = 512;

/**
 * Opens (creating it if needed) the SQLite database at `dbFile`, applies pending migrations and returns a
 * connected PrismaClient. `dbFile` is a file path, not a URL; an in-memory database cannot work, because the
 * migration runner and the client hold separate connections.
 */
export async function openDatabase(
  dbFile: string,
  options: { durability?: Durability; /** the hot-path connection's page cache, KiB */ cacheKib?: number } = {},
): Promise<NodeDatabase> {
  const durability = options.durability ?? 'power-loss';
  const file = path.resolve(dbFile);
  mkdirSync(path.dirname(file), { recursive: true });
  checkIntegrity(file);
  const { applied } = applyMigrations(file);
  enableWal(file);
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) });
  // Connect now, so a locked or unreadable file fails at start-up rather than on the first request.
  await prisma.$connect();
  // Prisma's adapter opens its connection with synchronous=NORMAL; set it either way.
  await prisma.$executeRawUnsafe(`PRAGMA synchronous = ${durability === 'crash' ? 'NORMAL' : 'FULL'}`);
  // The cold paths' page cache: 512 KiB instead of the 16 MiB better-sqlite3 builds SQLite with. Listings and
  // onboarding read a few pages each; the hot path's cache is `cacheKib` (config `sqliteCacheKib`). Up to ~15 MiB
  // less per node: tens of nodes share one simulator process (bench/README.md "Memory per node").
  await prisma.$executeRawUnsafe(`PRAGMA cache_size = -${COLD_CACHE_KIB}`);
  const sql = openSqlStore(file, {
    durability,
    ...(options.cacheKib !== undefined ? { cacheKib: options.cacheKib } : {}),
  });
  return {
    prisma,
    sql,
    applied,
    close: async () => {
      sql.close();
      await prisma.$disconnect();
    },
  };
}

/** The database file fails SQLite's integrity check (or is not a database): restore it, never use it. */
export class DatabaseDamaged extends Error {}

/**
 * Runs `PRAGMA integrity_check` on an existing file before anything uses it: a damaged file would otherwise start
 * and answer 500 "malformed" on whatever touches the damaged pages. It reads every page (a few seconds per GiB).
 */
function checkIntegrity(file: string): void {
  if (!existsSync(file) || statSync(file).size === 0) return;
  const hint = `restore it from a backup: cpnet node restore --from <backup> --data ${path.dirname(file)} --force`;
  let problems: string[];
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    const rows = db.pragma('integrity_check(5)') as { integrity_check: string }[];
    problems = rows.map((r) => r.integrity_check).filter((p) => p !== 'ok');
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    // A locked or unreadable file is the environment, not damage: let the open below report it as before.
    if (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB') throw e;
    problems = [(e as Error).message];
  } finally {
    db?.close();
  }
  if (problems.length > 0)
    throw new DatabaseDamaged(`${file} fails SQLite's integrity check (${problems.join('; ')}); ${hint}`);
}

// WAL lets readers (resolution, the visualiser's queries) run while a write commits. The mode is stored in the
// file, so setting it once from any connection is enough. synchronous stays FULL by default (see Durability).
function enableWal(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}
