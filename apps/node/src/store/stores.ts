import type { PrismaClient } from '../generated/prisma/client.ts';
import { sqliteAccountStore, type AccountStore } from './accounts.ts';
import { sqliteApplicationStore, type ApplicationStore } from './applications.ts';
import { sqliteDossierStore, type DossierStore } from './dossiers.ts';
import { sqliteAuditStore, type AuditStore } from './audit.ts';
import { sqliteEventStore, type EventStore } from './events.ts';
import { sqliteIdempotencyStore, type IdempotencyStore } from './idempotency.ts';
import { sqliteIdentifierStore, type IdentifierStore } from './identifiers.ts';
import { sqliteJobStore, type NodeJobStore } from './jobs.ts';
import { sqliteJointDebugStore, type JointDebugStore } from './joint-debug.ts';
import { sqliteNonceStore, type SeenNonceStore } from './nonces.ts';
import { sqliteOutboxStore, type OutboxStore } from './outbox.ts';
import { sqlitePeerStore, type PeerStore } from './peers.ts';
import { sqliteProviderStore, type ProviderStore } from './providers.ts';
import { sqliteSettingStore, type SettingStore } from './settings.ts';
import { openDatabase, type Durability } from './sqlite-database.ts';
import { sqliteAcceptanceStore, type AcceptanceStore } from './acceptance.ts';

/**
 * A node's persistence: one port per aggregate, and the unit of work that makes writes to several of them one
 * transaction. Nothing else in the node touches the database, so a second implementation (PostgreSQL) is a second
 * set of these ports.
 */
export interface NodeStores {
  /**
   * Runs `fn` as one transaction: the store methods it awaits join it; writes queued meanwhile commit together
   * (group commit) and the promise settles once the commit is durable. `fn` must await nothing but store calls —
   * the transaction, and the database's write lock, stay open while it runs. If it throws, its changes are undone.
   */
  write<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Like `write`, but without asking for a commit of its own: the unit joins the next group commit a `write` starts
   * (or commits alone after a few milliseconds of wall time). A unit enlisted before a `write` commits with it or
   * before it — the replay nonce of a signed request joins the request's own commit this way.
   */
  enlist<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * A promise that everything committed so far is durable, or null when it is (always null on PostgreSQL, whose
   * commits are durable before they are visible). On SQLite a group's commit is visible for about one fsync before
   * it is durable (`openSqlStore`): what answers or sends what it read awaits this first.
   */
  durable(): Promise<void> | null;
  readonly identifiers: IdentifierStore;
  readonly applications: ApplicationStore;
  /** Dossiers, attachments, review-chain steps, disqualified credit codes. */
  readonly dossiers: DossierStore;
  readonly jointDebug: JointDebugStore;
  readonly accounts: AccountStore;
  readonly peers: PeerStore;
  readonly providers: ProviderStore;
  readonly jobs: NodeJobStore;
  readonly outbox: OutboxStore;
  readonly nonces: SeenNonceStore;
  readonly idempotency: IdempotencyStore;
  readonly events: EventStore;
  readonly audit: AuditStore;
  readonly settings: SettingStore;
  /** Acceptance cases of the approved nodes below this one (建设实施 → 验收). */
  readonly acceptance: AcceptanceStore;
  /** Closes the connections. */
  close(): Promise<void>;
}

/** The SQLite implementation, with its Prisma client (for tools that read the database directly). */
export interface SqliteStores extends NodeStores {
  readonly prisma: PrismaClient;
  /** Migrations applied while opening (empty when the file was up to date). */
  readonly applied: string[];
}

/**
 * Opens (creating and migrating it if needed) the node's SQLite database at `file` and returns its stores.
 * `durability` is as in `openDatabase`.
 */
export async function openSqliteStores(
  file: string,
  options: { durability?: Durability; cacheKib?: number } = {},
): Promise<SqliteStores> {
  const conn = await openDatabase(file, options);
  return {
    prisma: conn.prisma,
    applied: conn.applied,
    write: (fn) => conn.sql.write(fn),
    enlist: (fn) => conn.sql.enlist(fn),
    durable: () => conn.sql.durable(),
    identifiers: sqliteIdentifierStore(conn),
    applications: sqliteApplicationStore(conn),
    dossiers: sqliteDossierStore(conn),
    jointDebug: sqliteJointDebugStore(conn),
    accounts: sqliteAccountStore(conn),
    peers: sqlitePeerStore(conn),
    providers: sqliteProviderStore(conn),
    jobs: sqliteJobStore(conn),
    outbox: sqliteOutboxStore(conn),
    nonces: sqliteNonceStore(conn),
    idempotency: sqliteIdempotencyStore(conn),
    events: sqliteEventStore(conn),
    audit: sqliteAuditStore(conn),
    settings: sqliteSettingStore(conn),
    acceptance: sqliteAcceptanceStore(conn),
    close: conn.close,
  };
}
