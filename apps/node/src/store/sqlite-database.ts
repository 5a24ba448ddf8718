// Opens the node's SQLite database ready for use: folder and file created, migrations applied, WAL on,
// and a PrismaClient over better-sqlite3 (Prisma 7 needs a driver adapter; there is no query engine binary).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.ts';
import { applyMigrations } from './migrate.ts';
import { openSqlStore, type SqlStore } from './sql.ts';

/**
 * How much an acknowledged write survives: `power-loss` — every commit is fsynced (SQLite synchronous=FULL), the
 * default; `crash` — the process may die at any point and nothing committed is lost, but a power loss may lose the
 * last commits (synchronous=NORMAL in WAL mode; no fsync per commit). Simulations of many nodes in one process use
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

/**
 * Opens (creating it if needed) the SQLite database at `dbFile`, applies pending migrations and returns a
 * connected PrismaClient. `dbFile` is a file path, not a URL; an in-memory database cannot work, because the
 * migration runner and the client hold separate connections.
 */
export async function openDatabase(dbFile: string, options: { durability?: Durability } = {}): Promise<NodeDatabase> {
  const durability = options.durability ?? 'power-loss';
  const file = path.resolve(dbFile);
  mkdirSync(path.dirname(file), { recursive: true });
  const { applied } = applyMigrations(file);
  enableWal(file);
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) });
  // Connect now, so a locked or unreadable file fails at start-up rather than on the first request.
  await prisma.$connect();
  // Prisma's adapter opens its connection with synchronous=NORMAL; set it either way.
  await prisma.$executeRawUnsafe(`PRAGMA synchronous = ${durability === 'crash' ? 'NORMAL' : 'FULL'}`);
  const sql = openSqlStore(file, { durability });
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
