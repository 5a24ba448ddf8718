import type { NonceStore } from '@cpnet/security';
import type { TimeSource } from '@cpnet/kernel';
import type { SqliteConnection } from './connection.ts';
import { sqlTime } from './sql.ts';

/** Signature nonces seen inside the replay window (the table behind the security package's `NonceStore`). */
export interface SeenNonceStore {
  /** Records a nonce; false when it was seen before (a replay). */
  add(keyid: string, nonce: string, expiresAt: number): Promise<boolean>;
  /** Forgets nonces that expired before `at`. */
  sweep(at: number): Promise<void>;
}

/** The SQLite nonce table. */
export function sqliteNonceStore({ sql }: SqliteConnection): SeenNonceStore {
  return {
    add: async (keyid, nonce, expiresAt) =>
      sql
        .stmt('INSERT OR IGNORE INTO "SeenNonce" ("keyid", "nonce", "expiresAt") VALUES (?, ?, ?)')
        .run(keyid, nonce, sqlTime(expiresAt)).changes === 1,
    async sweep(at) {
      sql.stmt('DELETE FROM "SeenNonce" WHERE "expiresAt" < ?').run(sqlTime(at));
    },
  };
}

/**
 * A durable replay store: replay memory survives a restart. One insert per signed request joining the group commit;
 * expired rows are swept every 30 s.
 */
export function durableNonceStore(
  db: { write<T>(fn: () => Promise<T>): Promise<T>; readonly nonces: SeenNonceStore },
  clock: TimeSource,
): NonceStore {
  let nextSweep = 0;
  return {
    durable: true,
    async seen(keyid, nonce, expiresAt) {
      const now = clock.now();
      return db.write(async () => {
        if (now >= nextSweep) {
          nextSweep = now + 30_000;
          await db.nonces.sweep(now);
        }
        return !(await db.nonces.add(keyid, nonce, expiresAt));
      });
    },
  };
}
