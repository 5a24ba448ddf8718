// Applies the SQL migrations in prisma/migrations-postgres at start-up, with node-postgres alone (a deployed node has
// no Prisma CLI). Each migration is recorded in Prisma's own `_prisma_migrations` table as `prisma migrate deploy`
// records it on PostgreSQL, so `prisma migrate status|deploy --config prisma.postgres.config.ts` agree with it.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { systemClock } from '@cpnet/kernel/system';
import { DatabaseNewerThanNode, listMigrations } from './migrate.ts';

/** The PostgreSQL migrations shipped with this package (apps/node/prisma/migrations-postgres). */
export const POSTGRES_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations-postgres', import.meta.url));

// As the Prisma schema engine creates it on PostgreSQL, so either side can create it first.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

// The advisory lock key Prisma's own migrate takes, so the node and `prisma migrate deploy` never run together.
const MIGRATE_LOCK = 72707369;

/** A PostgreSQL URL with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable database URL>';
  }
}

/**
 * Applies the pending migrations of `migrationsDir` to the PostgreSQL database at `url`, each in its own transaction
 * (PostgreSQL's DDL is transactional: a failed migration leaves nothing behind), under Prisma's migrate advisory
 * lock. Returns the names applied. A database that records migrations this version does not ship was migrated by a
 * newer version: `DatabaseNewerThanNode`, and nothing is changed.
 */
export async function applyPostgresMigrations(
  url: string,
  migrationsDir: string = POSTGRES_MIGRATIONS_DIR,
): Promise<{ applied: string[] }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL at ${redactUrl(url)} cannot be used: ${(error as Error).message || String(error)}`, {
      cause: error,
    });
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<{ migration_name: string; finished_at: Date | null }>(
        'SELECT migration_name, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
      );
      const known = listMigrations(migrationsDir);
      const names = new Set(known.map((m) => m.name));
      const unknown = rows.map((r) => r.migration_name).filter((n) => !names.has(n));
      if (unknown.length > 0) {
        throw new DatabaseNewerThanNode(
          `${redactUrl(url)} was migrated by a newer version of cpnet: it records migration${unknown.length > 1 ? 's' : ''} ` +
            `${unknown.sort().join(', ')}, unknown to this version (its latest is ${known.at(-1)?.name ?? 'none'}); ` +
            'migrations only go forward, so start the newer version again, or restore the dump taken before the ' +
            'upgrade with pg_restore',
        );
      }
      const failed = rows.find((r) => r.finished_at === null);
      if (failed) {
        throw new Error(
          `migration ${failed.migration_name} is recorded as failed in _prisma_migrations; fix the database, then ` +
            'mark it with `npx prisma migrate resolve --rolled-back|--applied --config prisma.postgres.config.ts`',
        );
      }
      const done = new Set(rows.map((r) => r.migration_name));
      const applied: string[] = [];
      for (const migration of known.filter((m) => !done.has(m.name))) {
        try {
          await client.query('BEGIN');
          // Wall time, as Prisma's own migrate records it: when this machine applied the migration.
          const startedAt = new Date(systemClock.now());
          await client.query(migration.sql);
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at,
              started_at, applied_steps_count) VALUES ($1, $2, $3, $4, NULL, NULL, $5, 1)`,
            [randomUUID(), migration.checksum, new Date(systemClock.now()), migration.name, startedAt],
          );
          await client.query('COMMIT');
          applied.push(migration.name);
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw new Error(`migration ${migration.name} failed and was rolled back: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
      return { applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}
