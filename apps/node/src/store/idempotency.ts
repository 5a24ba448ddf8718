import type { SqliteConnection } from './connection.ts';
import { sqlTime } from './sql.ts';

/** Responses already given for an idempotency key (a retried write is answered, not applied twice). */
export interface IdempotencyStore {
  /** The stored response text of a key, if any. */
  get(key: string): Promise<string | undefined>;
  /** Stores a response for a key; false when the key was already held (the first one wins). */
  claim(key: string, response: string, at: number): Promise<boolean>;
}

/** The SQLite idempotency-key store. */
export function sqliteIdempotencyStore({ sql }: SqliteConnection): IdempotencyStore {
  return {
    get: async (key) =>
      (sql.stmt('SELECT "response" FROM "IdempotencyKey" WHERE "key" = ?').get(key) as { response: string } | undefined)
        ?.response,
    claim: async (key, response, at) =>
      sql
        .stmt('INSERT OR IGNORE INTO "IdempotencyKey" ("key", "response", "createdAt") VALUES (?, ?, ?)')
        .run(key, response, sqlTime(at)).changes === 1,
  };
}
