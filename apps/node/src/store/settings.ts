import type { SqlStore } from './sql.ts';

/** The node's small key/value state, cached in memory and written through to SQLite. */
export interface Settings {
  get(key: string): string | undefined;
  getJson<T>(key: string): T | undefined;
  set(key: string, value: string): Promise<void>;
  setJson(key: string, value: unknown): Promise<void>;
}

const UPSERT =
  'INSERT INTO "NodeSetting" ("key", "value") VALUES (?, ?) ON CONFLICT("key") DO UPDATE SET "value" = excluded."value"';

/**
 * Loads every setting once; reads are then synchronous. Writes go through the synchronous connection (Prisma's
 * `NodeSetting` table) and join its group commit: cursors moved every second on a busy node cost microseconds.
 */
export function loadSettings(sql: SqlStore): Settings {
  const rows = sql.stmt('SELECT "key", "value" FROM "NodeSetting"').all() as { key: string; value: string }[];
  const cache = new Map(rows.map((s) => [s.key, s.value]));
  const set = async (key: string, value: string) => {
    cache.set(key, value);
    await sql.write(() => {
      sql.stmt(UPSERT).run(key, value);
    });
  };
  return {
    get: (key) => cache.get(key),
    getJson: <T>(key: string) => {
      const v = cache.get(key);
      return v === undefined ? undefined : (JSON.parse(v) as T);
    },
    set,
    setJson: (key, value) => set(key, JSON.stringify(value)),
  };
}
