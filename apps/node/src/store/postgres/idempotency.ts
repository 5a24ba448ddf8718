// PostgreSQL: idempotency keys of writes, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { IdempotencyStore } from '../idempotency.ts';
import { iso, type PgSql } from '../pg-sql.ts';

export function postgresIdempotencyStore(sql: PgSql): IdempotencyStore {
  return {
    async get(key) {
      const { rows } = await sql.query<{ response: string }>(
        'SELECT "response" FROM "IdempotencyKey" WHERE "key" = $1',
        [key],
      );
      return rows[0]?.response;
    },
    async claim(key, response, at) {
      const r = await sql.query(
        'INSERT INTO "IdempotencyKey" ("key", "response", "createdAt") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [key, response, iso(at)],
      );
      return r.rowCount === 1;
    },
  };
}
