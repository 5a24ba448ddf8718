// The PostgreSQL implementation of the store ports, assembled. The hot paths (identifiers, outbox, nonces,
// idempotency keys, events, jobs, audit, settings, providers' reports, the peer lookup) are SQL on node-postgres, one
// module per store in ./postgres/, as they are SQL on better-sqlite3 for SQLite; the cold paths are the same Prisma
// calls as on SQLite, on the client generated from schema.postgres.prisma (the same models, so the same API).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as PostgresPrismaClient } from '../generated/prisma-postgres/client.ts';
import { sqliteAcceptanceStore } from './acceptance.ts';
import { sqliteAccountStore } from './accounts.ts';
import { prismaApplicationStore } from './applications.ts';
import { sqliteDossierStore } from './dossiers.ts';
import { sqliteEventStore } from './events.ts';
import { sqliteIdentifierStore } from './identifiers.ts';
import { sqliteJointDebugStore } from './joint-debug.ts';
import { applyPostgresMigrations } from './migrate-postgres.ts';
import { sqlitePeerStore } from './peers.ts';
import { countingClient, openPgSql, type DatabaseWork, type PgSql } from './pg-sql.ts';
import { postgresAuditStore } from './postgres/audit.ts';
import { coldConnection } from './postgres/cold.ts';
import { postgresEventStore } from './postgres/events.ts';
import { postgresIdempotencyStore } from './postgres/idempotency.ts';
import { postgresIdentifierStore } from './postgres/identifiers.ts';
import { postgresJobStore } from './postgres/jobs.ts';
import { postgresNonceStore } from './postgres/nonces.ts';
import { postgresOutboxStore } from './postgres/outbox.ts';
import { postgresPeerStore } from './postgres/peers.ts';
import { postgresProviderStore } from './postgres/providers.ts';
import { postgresSettingStore } from './postgres/settings.ts';
import { sqliteProviderStore } from './providers.ts';
import type { NodeStores } from './stores.ts';

/** The PostgreSQL stores, with their Prisma client (for tools that read the database directly). */
export interface PostgresStores extends NodeStores {
  readonly prisma: PostgresPrismaClient;
  /** Migrations applied while opening (empty when the database was up to date). */
  readonly applied: string[];
}

/**
 * Opens the node's PostgreSQL database at `url` (migrating it if needed) and returns its stores. The database must
 * exist; the user needs the rights to create tables in it (the first start applies the migrations). `work`: every
 * statement (hot paths and Prisma's) and every unit of work is reported as work in flight (a simulator's clock).
 */
export async function openPostgresStores(
  url: string,
  options: { poolSize?: number; work?: DatabaseWork } = {},
): Promise<PostgresStores> {
  const { applied } = await applyPostgresMigrations(url);
  const { work } = options;
  const prisma = new PostgresPrismaClient({
    adapter: new PrismaPg({ connectionString: url, ...(work ? { Client: countingClient(work) } : {}) }),
  });
  await prisma.$connect();
  let sql: PgSql;
  try {
    sql = await openPgSql(url, { max: options.poolSize, work });
  } catch (e) {
    await prisma.$disconnect();
    throw e;
  }
  const conn = coldConnection(prisma);
  return {
    prisma,
    applied,
    write: (fn) => sql.write(fn),
    enlist: (fn) => sql.enlist(fn),
    // A PostgreSQL commit is flushed before other sessions see it.
    durable: () => null,
    identifiers: postgresIdentifierStore(sql, sqliteIdentifierStore(conn)),
    applications: prismaApplicationStore(conn.prisma),
    dossiers: sqliteDossierStore(conn),
    jointDebug: sqliteJointDebugStore(conn),
    accounts: sqliteAccountStore(conn),
    peers: postgresPeerStore(sql, sqlitePeerStore(conn)),
    providers: postgresProviderStore(sql, sqliteProviderStore(conn)),
    jobs: postgresJobStore(sql),
    outbox: postgresOutboxStore(sql),
    nonces: postgresNonceStore(sql),
    idempotency: postgresIdempotencyStore(sql),
    events: postgresEventStore(sql, sqliteEventStore(conn)),
    audit: postgresAuditStore(sql),
    settings: postgresSettingStore(sql),
    acceptance: sqliteAcceptanceStore(conn),
    async close() {
      await sql.close();
      await prisma.$disconnect();
    },
  };
}
