// PostgreSQL: the outbox and its dead letters, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import {
  deadLetterFromRow,
  deadLetterValues,
  deliveryJson,
  type DeadLetter,
  type DeadLetterRow,
  type OutboxStore,
  queuedGroup,
  type QueuedDelivery,
  type QueuedGroupRow,
} from '../outbox.ts';
import { iso, type PgSql } from '../pg-sql.ts';

const ADD_DELIVERY = 'INSERT INTO "Outbox" ("kind", "payload", "attempts", "nextAt") VALUES ($1, $2, 0, $3)';

export function postgresOutboxStore(sql: PgSql): OutboxStore {
  return {
    async add(delivery, at) {
      await sql.hold(ADD_DELIVERY, [delivery.path, deliveryJson(delivery), iso(at)]);
    },
    oldest: async (limit, after = 0) =>
      (
        await sql.query<QueuedDelivery>('SELECT "id", "payload" FROM "Outbox" WHERE "id" > $1 ORDER BY "id" LIMIT $2', [
          after,
          limit,
        ])
      ).rows,
    async remove(ids) {
      await sql.query('DELETE FROM "Outbox" WHERE "id" = ANY($1::int[])', [[...ids]]);
    },
    async failed(ids) {
      await sql.query('UPDATE "Outbox" SET "attempts" = "attempts" + 1 WHERE "id" = ANY($1::int[])', [[...ids]]);
    },
    count: async () => (await sql.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM "Outbox"')).rows[0]!.n,
    queued: async () =>
      (
        await sql.query<QueuedGroupRow>(
          `SELECT ("payload"::json)->>'endpoint' AS endpoint, "kind" AS path, COUNT(*)::int AS count,
                  MAX("attempts")::int AS attempts, MIN("nextAt") AS since
           FROM "Outbox" GROUP BY 1, 2 ORDER BY 1, 2`,
        )
      ).rows.map(queuedGroup),
    async bury(id, refusal) {
      const { rows } = await sql.query<{ kind: string; payload: string }>(
        'DELETE FROM "Outbox" WHERE "id" = $1 RETURNING "kind", "payload"',
        [id],
      );
      const row = rows[0];
      if (!row) return;
      await sql.query(
        'INSERT INTO "OutboxDeadLetter" ("kind", "payload", "status", "answer", "failedAt") VALUES ($1, $2, $3, $4, $5)',
        deadLetterValues(row, refusal, iso(refusal.at)),
      );
    },
    async deadLetters(): Promise<DeadLetter[]> {
      const { rows } = await sql.query<DeadLetterRow>(
        'SELECT "id", "payload", "status", "answer", "failedAt" FROM "OutboxDeadLetter" ORDER BY "id"',
      );
      return rows.map(deadLetterFromRow);
    },
    async revive(at, ids) {
      const { rows } = await sql.query<{ id: number; kind: string; payload: string }>(
        'SELECT "id", "kind", "payload" FROM "OutboxDeadLetter" ORDER BY "id"',
      );
      const chosen = rows.filter((r) => !ids || ids.includes(r.id));
      for (const r of chosen) {
        await sql.query(ADD_DELIVERY, [r.kind, r.payload, iso(at)]);
        await sql.query('DELETE FROM "OutboxDeadLetter" WHERE "id" = $1', [r.id]);
      }
      return chosen.length;
    },
  };
}
