// The cold paths of the PostgreSQL stores: the SQLite stores' Prisma calls, on the PostgreSQL client.
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { PrismaClient as PostgresPrismaClient } from '../../generated/prisma-postgres/client.ts';
import type { SqliteConnection } from '../connection.ts';

/**
 * The Prisma-only parts of the SQLite stores run unchanged on the PostgreSQL client: both clients are generated from
 * one schema, so their model API is the same (the cast says so; the type names differ). The better-sqlite3
 * connection does not exist here: any use of it throws, so a hot path left on it cannot pass unnoticed.
 */
export function coldConnection(prisma: PostgresPrismaClient): SqliteConnection {
  const absent = new Proxy({} as SqliteConnection['sql'], {
    get(_target, key) {
      throw new Error(`the SQLite connection (sql.${String(key)}) was used by a PostgreSQL store`);
    },
  });
  return { prisma: prisma as unknown as PrismaClient, sql: absent };
}
