import type { NonceStore } from '@cpnet/security';
import type { Clock } from '@cpnet/identifier';
import { sqlTime, type SqlStore } from './sql.ts';

/**
 * A durable replay store over the SeenNonce table: replay memory survives a restart. One INSERT OR IGNORE per
 * signed request on the synchronous connection (its own small commit); expired rows are swept every 30 s.
 */
export function createDbNonceStore(sql: SqlStore, clock: Clock): NonceStore {
  let nextSweep = 0;
  const insert = 'INSERT OR IGNORE INTO "SeenNonce" ("keyid", "nonce", "expiresAt") VALUES (?, ?, ?)';
  return {
    durable: true,
    async seen(keyid, nonce, expiresAt) {
      const now = clock.now();
      return sql.write(() => {
        if (now >= nextSweep) {
          nextSweep = now + 30_000;
          sql.stmt('DELETE FROM "SeenNonce" WHERE "expiresAt" < ?').run(sqlTime(now));
        }
        return sql.stmt(insert).run(keyid, nonce, sqlTime(expiresAt)).changes === 0;
      });
    },
  };
}
