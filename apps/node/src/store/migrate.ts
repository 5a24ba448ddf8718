// Applies the SQL migrations in prisma/migrations at start-up, with better-sqlite3 alone: a deployed node has no
// Prisma CLI and no schema engine. Each migration is recorded in Prisma's own `_prisma_migrations` table, exactly as
// `prisma migrate deploy` would record it, so `prisma migrate status|dev|deploy` agree with what ran here.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { systemClock } from '@cpnet/kernel/system';

/** The migrations shipped with this package (apps/node/prisma/migrations). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// Byte for byte the table the Prisma schema engine creates on SQLite, so either side can create it first.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

interface MigrationRow {
  migration_name: string;
  finished_at: string | null;
}

/** Migration folders in name order (their timestamp prefix), as Prisma orders them. */
export function listMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(path.join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

// Prisma writes timestamps as RFC 3339 with milliseconds and an explicit +00:00 offset.
const prismaTimestamp = (date: Date): string => date.toISOString().replace('Z', '+00:00');

function appliedRows(db: Database.Database): MigrationRow[] {
  return db
    .prepare('SELECT migration_name, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL')
    .all() as MigrationRow[];
}

/**
 * The database was migrated by a newer version of the node: it records migrations this version does not ship.
 * Migrations only go forward, so this version cannot know what those changed; it must not run on the file.
 */
export class DatabaseNewerThanNode extends Error {}

function assertNotNewer(dbFile: string, input: { rows: MigrationRow[]; known: readonly MigrationFile[] }): void {
  const known = new Set(input.known.map((m) => m.name));
  const unknown = input.rows.map((row) => row.migration_name).filter((name) => !known.has(name));
  if (unknown.length === 0) return;
  const latest = input.known.at(-1)?.name ?? 'none';
  throw new DatabaseNewerThanNode(
    `${dbFile} was migrated by a newer version of cpnet: it records migration${unknown.length > 1 ? 's' : ''} ` +
      `${unknown.sort().join(', ')}, unknown to this version (its latest is ${latest}); migrations only go forward, ` +
      'so start the newer version again, or restore the backup taken before the upgrade with cpnet node restore ' +
      `--from <backup> --data ${path.dirname(path.resolve(dbFile))} --force`,
  );
}

function assertNoFailedMigration(rows: MigrationRow[]): void {
  const failed = rows.find((row) => row.finished_at === null);
  if (failed) {
    throw new Error(
      `migration ${failed.migration_name} is recorded as failed in _prisma_migrations; ` +
        'fix the database, then mark it with `npx prisma migrate resolve --rolled-back|--applied`',
    );
  }
}

function applyOne(db: Database.Database, migration: MigrationFile): boolean {
  const apply = db.transaction((): boolean => {
    // Another process may have applied it since we looked: the immediate transaction holds the write lock now.
    if (appliedRows(db).some((row) => row.migration_name === migration.name)) return false;
    // Wall time, as Prisma's own migrate records it: when this machine applied the migration.
    const startedAt = prismaTimestamp(new Date(systemClock.now()));
    db.exec(migration.sql);
    // Foreign keys are off for the transaction (see below), so check them before committing.
    const violations = db.pragma('foreign_key_check') as unknown[];
    if (violations.length > 0) throw new Error(`migration ${migration.name} leaves foreign keys broken`);
    db.prepare(
      `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at,
       applied_steps_count) VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
    ).run(randomUUID(), migration.checksum, prismaTimestamp(new Date(systemClock.now())), migration.name, startedAt);
    return true;
  });
  return apply.immediate();
}

/**
 * Applies the pending migrations of `migrationsDir` to the SQLite file `dbFile` (created if missing), each in its
 * own transaction, and records them in `_prisma_migrations` (checksum: sha256 hex of migration.sql).
 * Returns the names of the migrations it applied; none when the database is up to date.
 * A migration that fails is rolled back entirely and the error names it. A database that records a migration not in
 * `migrationsDir` was written by a newer version: `DatabaseNewerThanNode`, and nothing is changed.
 */
export function applyMigrations(dbFile: string, migrationsDir: string = MIGRATIONS_DIR): { applied: string[] } {
  mkdirSync(path.dirname(path.resolve(dbFile)), { recursive: true });
  const db = new Database(dbFile);
  try {
    db.pragma('busy_timeout = 5000');
    // Immediate: two processes starting on one file must not both create the table.
    db.transaction(() => {
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get()) {
        db.exec(CREATE_MIGRATIONS_TABLE);
      }
    }).immediate();
    const rows = appliedRows(db);
    const known = listMigrations(migrationsDir);
    // Before anything else is looked at or changed: a newer version's database is refused as it is.
    assertNotNewer(dbFile, { rows, known });
    assertNoFailedMigration(rows);
    const done = new Set(rows.map((row) => row.migration_name));
    const pending = known.filter((migration) => !done.has(migration.name));
    // Prisma's table-redefinition scripts turn foreign keys off around a DROP/RENAME, but that pragma is ignored
    // inside a transaction, where the DROP would then cascade and delete child rows. So, as SQLite's ALTER TABLE
    // procedure advises, turn them off outside the transaction and run foreign_key_check before committing.
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    db.pragma('foreign_keys = OFF');
    try {
      const applied: string[] = [];
      for (const migration of pending) {
        try {
          if (applyOne(db, migration)) applied.push(migration.name);
        } catch (error) {
          throw new Error(`migration ${migration.name} failed and was rolled back: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
      return { applied };
    } finally {
      db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
  } finally {
    db.close();
  }
}
