import type { PrismaClient } from '../generated/prisma/client.ts';

/** The node's small key/value state, cached in memory and written through to SQLite. */
export interface Settings {
  get(key: string): string | undefined;
  getJson<T>(key: string): T | undefined;
  set(key: string, value: string): Promise<void>;
  setJson(key: string, value: unknown): Promise<void>;
}

/** Loads every setting once; reads are then synchronous. */
export async function loadSettings(prisma: PrismaClient): Promise<Settings> {
  const cache = new Map((await prisma.nodeSetting.findMany()).map((s) => [s.key, s.value]));
  const set = async (key: string, value: string) => {
    cache.set(key, value);
    await prisma.nodeSetting.upsert({ where: { key }, create: { key, value }, update: { value } });
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
