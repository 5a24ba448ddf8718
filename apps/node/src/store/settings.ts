import type { SqliteConnection } from './connection.ts';

/** The node's small key/value table (keys, certificate, grant, lifecycle, cursors, last serial). */
export interface SettingStore {
  /** Every setting. */
  all(): Promise<Map<string, string>>;
  /** Writes one setting (inside `NodeStores.write` it joins the caller's transaction). */
  put(key: string, value: string): Promise<void>;
}

/** The node's settings, cached in memory and written through to the store. */
export interface Settings {
  get(key: string): string | undefined;
  getJson<T>(key: string): T | undefined;
  set(key: string, value: string): Promise<void>;
  setJson(key: string, value: unknown): Promise<void>;
}

const UPSERT =
  'INSERT INTO "NodeSetting" ("key", "value") VALUES (?, ?) ON CONFLICT("key") DO UPDATE SET "value" = excluded."value"';

/** The SQLite settings table. */
export function sqliteSettingStore({ sql }: SqliteConnection): SettingStore {
  return {
    all: async () =>
      new Map(
        (sql.stmt('SELECT "key", "value" FROM "NodeSetting"').all() as { key: string; value: string }[]).map((s) => [
          s.key,
          s.value,
        ]),
      ),
    async put(key, value) {
      sql.stmt(UPSERT).run(key, value);
    },
  };
}

/**
 * Loads every setting once; reads are then synchronous. Writes join the group commit: cursors moved every second on
 * a busy node cost microseconds.
 */
export async function loadSettings(db: {
  write<T>(fn: () => Promise<T>): Promise<T>;
  readonly settings: SettingStore;
}): Promise<Settings> {
  const cache = await db.settings.all();
  const set = async (key: string, value: string) => {
    cache.set(key, value);
    await db.write(() => db.settings.put(key, value));
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
