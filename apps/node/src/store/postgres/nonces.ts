// PostgreSQL: seen nonces of signed requests, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { SeenNonceStore } from '../nonces.ts';
import { iso, type PgSql } from '../pg-sql.ts';

export function postgresNonceStore(sql: PgSql): SeenNonceStore {
  return {
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
