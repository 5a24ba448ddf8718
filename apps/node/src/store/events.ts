import type { SqliteConnection } from './connection.ts';

/** A monitoring event as stored: `node` null for this node's own events, `data` as JSON text. */
export interface StoredEvent {
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  readonly at: string;
  readonly subject: string | null;
  readonly severity: string;
  readonly data: string;
  readonly node: string | null;
}

/** The wire form of a stored event (`node` filled in for this node's own). */
export function eventOf(r: StoredEvent, code: string) {
  return {
    id: r.id,
    type: r.type,
    at: r.at,
    node: r.node ?? code,
    ...(r.subject ? { subject: r.subject } : {}),
    severity: r.severity,
    data: JSON.parse(r.data) as unknown,
  };
}

/** An event to store (its sequence number is given by the store). */
export type NewEvent = Omit<StoredEvent, 'seq'>;

/** Which events to read: after a sequence number, in a time range, of one type or a family (`prefix.`). */
export interface EventQuery {
  readonly after?: number;
  readonly since?: string;
  readonly until?: string;
  readonly type?: string;
  /** A type prefix such as `cluster.` (a `cluster.*` query). */
  readonly family?: string;
  readonly limit: number;
}

/** The monitoring event log (kept at least 180 days). */
export interface EventStore {
  /** Stores an event; false when its id is already held (a redelivered one). Joins `NodeStores.write`. */
  add(event: NewEvent): Promise<boolean>;
  /** Events in sequence order. */
  find(q: EventQuery): Promise<StoredEvent[]>;
  /** The newest sequence number (0 when empty). */
  newestSeq(): Promise<number>;
  /** The newest `limit` events at or after `since`, not of the types left out, oldest first. */
  recent(q: { since: string; limit: number; leaveOut: readonly string[] }): Promise<StoredEvent[]>;
  /** Events of the given types with after < seq ≤ upTo, in order, at most `limit` (the shipper's read). */
  ofTypes(q: { types: readonly string[]; after: number; upTo: number; limit: number }): Promise<StoredEvent[]>;
  /** How many events of a type are held. */
  count(type: string, o?: { notSeverity?: string }): Promise<number>;
  /** Deletes events before a time; returns how many. */
  deleteBefore(at: string): Promise<number>;
}

const INSERT =
  'INSERT OR IGNORE INTO "EventRecord" ("id", "type", "at", "subject", "severity", "data", "node") VALUES (?, ?, ?, ?, ?, ?, ?)';

/** The SQLite event store. */
export function sqliteEventStore({ prisma, sql }: SqliteConnection): EventStore {
  return {
    add: async (e) => sql.stmt(INSERT).run(e.id, e.type, e.at, e.subject, e.severity, e.data, e.node).changes > 0,
    find: (q) =>
      prisma.eventRecord.findMany({
        where: {
          ...(q.after !== undefined ? { seq: { gt: q.after } } : {}),
          ...(q.since || q.until
            ? { at: { ...(q.since ? { gte: q.since } : {}), ...(q.until ? { lt: q.until } : {}) } }
            : {}),
          ...(q.family ? { type: { startsWith: q.family } } : q.type ? { type: q.type } : {}),
        },
        orderBy: { seq: 'asc' },
        take: q.limit,
      }),
    newestSeq: async () => (sql.stmt('SELECT MAX("seq") AS m FROM "EventRecord"').get() as { m: number | null }).m ?? 0,
    recent: async (q) =>
      (
        sql
          .stmt(
            `SELECT * FROM "EventRecord" WHERE "at" >= ?
              ${q.leaveOut.length ? `AND "type" NOT IN (${q.leaveOut.map(() => '?').join(', ')})` : ''}
              ORDER BY "seq" DESC LIMIT ?`,
          )
          .all(q.since, ...q.leaveOut, q.limit) as StoredEvent[]
      ).reverse(),
    ofTypes: async (q) =>
      sql
        .stmt(
          `SELECT * FROM "EventRecord" WHERE "seq" > ? AND "seq" <= ?
            AND "type" IN (${q.types.map(() => '?').join(', ')}) ORDER BY "seq" LIMIT ?`,
        )
        .all(q.after, q.upTo, ...q.types, q.limit) as StoredEvent[],
    count: (type, o = {}) =>
      prisma.eventRecord.count({ where: { type, ...(o.notSeverity ? { severity: { not: o.notSeverity } } : {}) } }),
    deleteBefore: async (at) => (await prisma.eventRecord.deleteMany({ where: { at: { lt: at } } })).count,
  };
}
