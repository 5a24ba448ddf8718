// PostgreSQL: seen nonces of signed requests, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { SeenNonceStore } from '../nonces.ts';
import { iso, type PgSql } from '../pg-sql.ts';

export function postgresNonceStore(sql: PgSql): SeenNonceStore {
  return {
    async has(keyid, nonce) {
      const r = await sql.query('SELECT 1 FROM "SeenNonce" WHERE "keyid" = $1 AND "nonce" = $2', [keyid, nonce]);
      return r.rows.length > 0;
    },
    async latestExpiry() {
      // Epoch milliseconds computed by the server: a timestamp column read as a Date would be taken as local time.
      const r = await sql.query<{ at: number | null }>(
        'SELECT (EXTRACT(EPOCH FROM MAX("expiresAt")) * 1000)::float8 AS "at" FROM "SeenNonce"',
      );
      const at = r.rows[0]?.at ?? null;
      return at === null ? null : Math.round(Number(at));
    },
    async add(keyid, nonce, expiresAt) {
      const r = await sql.query(
        'INSERT INTO "SeenNonce" ("keyid", "nonce", "expiresAt") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [keyid, nonce, iso(expiresAt)],
      );
      return r.rowCount === 1;
    },
    async sweep(at) {
      await sql.query('DELETE FROM "SeenNonce" WHERE "expiresAt" < $1', [iso(at)]);
    },
  };
}
