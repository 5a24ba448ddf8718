import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SqlStore } from './sql.ts';

/**
 * The two connections of the SQLite implementation of the stores: Prisma for the cold paths (listings, onboarding)
 * and the synchronous better-sqlite3 connection for the hot ones (resolution, registration, nonces, audit, reports).
 */
export interface SqliteConnection {
  readonly prisma: PrismaClient;
  readonly sql: SqlStore;
}
