import type { SqliteConnection } from './connection.ts';
import { sqlTime } from './sql.ts';

/** One delivery: a signed POST of `body` to `path` at `endpoint`. Record copies to the same place are merged. */
export interface Delivery {
  readonly endpoint: string;
  readonly path: string;
  readonly body: unknown;
}

/** A queued delivery as stored: its queue position and its JSON text. */
export interface QueuedDelivery {
  readonly id: number;
  readonly payload: string;
}

/** The durable outbox table. `add` is the only way a delivery is queued (the `Outbox` service calls it). */
export interface OutboxStore {
  /** Queues a delivery (synchronous: inside `NodeStores.write` it commits with the caller's other writes). */
  add(delivery: Delivery, at: number): void;
  /** The oldest queued deliveries, at most `limit`. */
  oldest(limit: number): QueuedDelivery[];
  /** Removes delivered (or refused) deliveries. */
  remove(ids: readonly number[]): void;
  /** Counts one more failed attempt of each. */
  failed(ids: readonly number[]): void;
  /** Deliveries waiting. */
  count(): number;
}

/** The SQLite outbox store. */
export function sqliteOutboxStore({ sql }: SqliteConnection): OutboxStore {
  return {
    add(delivery, at) {
      sql
        .stmt('INSERT INTO "Outbox" ("kind", "payload", "attempts", "nextAt") VALUES (?, ?, 0, ?)')
        .run(delivery.path, JSON.stringify(delivery), sqlTime(at));
    },
    oldest: (limit) =>
      sql.stmt('SELECT "id", "payload" FROM "Outbox" ORDER BY "id" LIMIT ?').all(limit) as QueuedDelivery[],
    remove(ids) {
      for (const id of ids) sql.stmt('DELETE FROM "Outbox" WHERE "id" = ?').run(id);
    },
    failed(ids) {
      for (const id of ids) sql.stmt('UPDATE "Outbox" SET "attempts" = "attempts" + 1 WHERE "id" = ?').run(id);
    },
    count: () => (sql.stmt('SELECT COUNT(*) AS n FROM "Outbox"').get() as { n: number }).n,
  };
}
