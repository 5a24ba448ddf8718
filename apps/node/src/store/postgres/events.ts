// PostgreSQL: the event log (its hot paths; the rest through Prisma), in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { EventStore, StoredEvent } from '../events.ts';
import type { PgSql } from '../pg-sql.ts';

export function postgresEventStore(sql: PgSql, cold: EventStore): EventStore {
  return {
    ...cold,
    async add(e) {
      const r = await sql.query(
        `INSERT INTO "EventRecord" ("id", "type", "at", "subject", "severity", "data", "node")
          VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [e.id, e.type, e.at, e.subject, e.severity, e.data, e.node],
      );
      return r.rowCount === 1;
    },
    newestSeq: async () =>
      (await sql.query<{ m: number | null }>('SELECT MAX("seq") AS m FROM "EventRecord"')).rows[0]?.m ?? 0,
    async recent(q) {
      const { rows } = await sql.query<StoredEvent>(
        `SELECT * FROM "EventRecord" WHERE "at" >= $1 AND NOT ("type" = ANY($2::text[]))
          ORDER BY "seq" DESC LIMIT $3`,
        [q.since, [...q.leaveOut], q.limit],
      );
      return rows.reverse();
    },
    async ofTypes(q) {
      const { rows } = await sql.query<StoredEvent>(
        `SELECT * FROM "EventRecord" WHERE "seq" > $1 AND "seq" <= $2 AND "type" = ANY($3::text[])
          ORDER BY "seq" LIMIT $4`,
        [q.after, q.upTo, [...q.types], q.limit],
      );
      return rows;
    },
  };
}
