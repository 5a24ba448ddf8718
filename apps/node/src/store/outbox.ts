import type { SqliteConnection } from './connection.ts';
import { sqlTime } from './sql.ts';

/** One delivery: a signed POST of `body` to `path` at `endpoint`. Record copies to the same place are merged. */
export interface Delivery {
  readonly endpoint: string;
  readonly path: string;
  readonly body: unknown;
}

/**
 * A delivery's stored JSON: the endpoint first, so that the outbox reads a queued delivery's peer without parsing its
 * body (it skips the deliveries to a peer backing off).
 */
export const deliveryJson = (d: Delivery): string =>
  JSON.stringify({ endpoint: d.endpoint, path: d.path, body: d.body });

/** A queued delivery as stored: its queue position and its JSON text. */
export interface QueuedDelivery {
  readonly id: number;
  readonly payload: string;
}

/** The durable outbox table. `add` is the only way a delivery is queued (the `Outbox` service calls it). */
export interface OutboxStore {
  /** Queues a delivery (inside `NodeStores.write` it commits with the caller's other writes). */
  add(delivery: Delivery, at: number): Promise<void>;
  /** The oldest queued deliveries after queue position `after` (0: from the start), at most `limit`. */
  oldest(limit: number, after?: number): Promise<QueuedDelivery[]>;
  /** Removes delivered (or refused) deliveries. */
  remove(ids: readonly number[]): Promise<void>;
  /** Counts one more failed attempt of each. */
  failed(ids: readonly number[]): Promise<void>;
  /** Deliveries waiting. */
  count(): Promise<number>;
  /** What waits, by peer and path (`cpnet node outbox list`): a small table, read by an operator, not the drain. */
  queued(): Promise<QueuedGroup[]>;
  /**
   * Moves a refused delivery to the dead letters with the peer's answer (status and error body); `delivery`, when
   * given, is what is kept (the refused items only).
   */
  bury(id: number, refusal: { delivery?: Delivery; status: number; answer: unknown; at: number }): Promise<void>;
  /** The dead letters, oldest first. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Queues dead letters again (all, or those listed) at the end of the outbox at `at`; returns how many. */
  revive(at: number, ids?: readonly number[]): Promise<number>;
}

/** The deliveries waiting for one peer at one path. */
export interface QueuedGroup {
  readonly endpoint: string;
  readonly path: string;
  readonly count: number;
  /** The most failed attempts any of them has had (0: none tried and failed yet). */
  readonly attempts: number;
  /** When the oldest of them was queued (ISO 8601). */
  readonly since: string;
}

/** A row of the grouped query as both databases' stores read it (`since` as the driver gives it). */
export interface QueuedGroupRow {
  endpoint: string;
  path: string;
  count: number;
  attempts: number;
  since: string | Date;
}

export const queuedGroup = (r: QueuedGroupRow): QueuedGroup => ({
  endpoint: r.endpoint,
  path: r.path,
  count: Number(r.count),
  attempts: Number(r.attempts),
  since: new Date(r.since).toISOString(),
});

/** A delivery the peer refused, kept until an operator retries it. */
export interface DeadLetter {
  readonly id: number;
  readonly delivery: Delivery;
  readonly status: number;
  readonly answer: unknown;
  readonly failedAt: string;
}

/** A row of the OutboxDeadLetter table as both databases' stores read it (`failedAt` as the driver gives it). */
export interface DeadLetterRow {
  id: number;
  payload: string;
  status: number;
  answer: string;
  failedAt: string | number;
}

/** The dead letter a row holds. */
export function deadLetterFromRow(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    delivery: JSON.parse(r.payload) as Delivery,
    status: r.status,
    answer: JSON.parse(r.answer) as unknown,
    failedAt: new Date(r.failedAt).toISOString(),
  };
}

/**
 * The values of a buried delivery, in the column order ("kind", "payload", "status", "answer", "failedAt"): what
 * the peer refused (the refused items, or the whole queued payload) and its answer. `failedAt` is the time as the
 * database's text form gives it.
 */
export function deadLetterValues(
  queued: { kind: string; payload: string },
  refusal: { delivery?: Delivery; status: number; answer: unknown },
  failedAt: string,
): [string, string, number, string, string] {
  return [
    queued.kind,
    refusal.delivery ? JSON.stringify(refusal.delivery) : queued.payload,
    refusal.status,
    JSON.stringify(refusal.answer ?? null),
    failedAt,
  ];
}

/** The SQLite outbox store. */
export function sqliteOutboxStore({ sql }: SqliteConnection): OutboxStore {
  return {
    async add(delivery, at) {
      sql
        .stmt('INSERT INTO "Outbox" ("kind", "payload", "attempts", "nextAt") VALUES (?, ?, 0, ?)')
        .run(delivery.path, deliveryJson(delivery), sqlTime(at));
    },
    oldest: async (limit, after = 0) =>
      sql
        .stmt('SELECT "id", "payload" FROM "Outbox" WHERE "id" > ? ORDER BY "id" LIMIT ?')
        .all(after, limit) as QueuedDelivery[],
    async remove(ids) {
      for (const id of ids) sql.stmt('DELETE FROM "Outbox" WHERE "id" = ?').run(id);
    },
    async failed(ids) {
      for (const id of ids) sql.stmt('UPDATE "Outbox" SET "attempts" = "attempts" + 1 WHERE "id" = ?').run(id);
    },
    count: async () => (sql.stmt('SELECT COUNT(*) AS n FROM "Outbox"').get() as { n: number }).n,
    queued: async () =>
      (
        sql
          .stmt(
            `SELECT json_extract("payload", '$.endpoint') AS endpoint, "kind" AS path, COUNT(*) AS count,
                    MAX("attempts") AS attempts, MIN("nextAt") AS since
             FROM "Outbox" GROUP BY endpoint, "kind" ORDER BY endpoint, "kind"`,
          )
          .all() as QueuedGroupRow[]
      ).map(queuedGroup),
    async bury(id, refusal) {
      const row = sql.stmt('SELECT "kind", "payload" FROM "Outbox" WHERE "id" = ?').get(id) as
        { kind: string; payload: string } | undefined;
      if (!row) return;
      sql
        .stmt(
          'INSERT INTO "OutboxDeadLetter" ("kind", "payload", "status", "answer", "failedAt") VALUES (?, ?, ?, ?, ?)',
        )
        .run(...deadLetterValues(row, refusal, sqlTime(refusal.at)));
      sql.stmt('DELETE FROM "Outbox" WHERE "id" = ?').run(id);
    },
    async deadLetters() {
      const rows = sql
        .stmt('SELECT "id", "payload", "status", "answer", "failedAt" FROM "OutboxDeadLetter" ORDER BY "id"')
        .all() as DeadLetterRow[];
      return rows.map(deadLetterFromRow);
    },
    async revive(at, ids) {
      const rows = (
        sql.stmt('SELECT "id", "kind", "payload" FROM "OutboxDeadLetter" ORDER BY "id"').all() as {
          id: number;
          kind: string;
          payload: string;
        }[]
      ).filter((r) => !ids || ids.includes(r.id));
      for (const r of rows) {
        sql
          .stmt('INSERT INTO "Outbox" ("kind", "payload", "attempts", "nextAt") VALUES (?, ?, 0, ?)')
          .run(r.kind, r.payload, sqlTime(at));
        sql.stmt('DELETE FROM "OutboxDeadLetter" WHERE "id" = ?').run(r.id);
      }
      return rows.length;
    },
  };
}
