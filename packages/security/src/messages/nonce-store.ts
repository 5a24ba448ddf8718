/** Replay memory: remembers (keyid, nonce) until `expiresAt` (Unix ms). The node implements it over its database. */
export interface NonceStore {
  /** True when the store survives a restart; otherwise verifiers refuse messages created before they started. */
  readonly durable: boolean;
  /** Records the nonce and returns false, or returns true when it was already seen (a replay). */
  seen(keyid: string, nonce: string, expiresAt: number): boolean | Promise<boolean>;
}

/**
 * An in-memory replay store (not durable). Expired entries are swept as it fills; when it holds `maxEntries` live
 * nonces it refuses new ones (reports them as seen) rather than forgetting any — fail closed.
 */
export function createMemoryNonceStore(options: {
  clock: TimeSource;
  maxEntries?: number;
}): NonceStore & { size(): number } {
  const max = options.maxEntries ?? 1_000_000;
  const entries = new Map<string, number>();
  let nextSweep = 0;
  const sweep = (now: number): void => {
    for (const [k, exp] of entries) if (exp < now) entries.delete(k);
  };
  return {
    durable: false,
    seen(keyid, nonce, expiresAt) {
      const now = options.clock.now();
      const key = `${keyid.length}:${keyid}${nonce}`;
      const prior = entries.get(key);
      if (prior !== undefined && prior >= now) return true;
      if (entries.size >= max || now >= nextSweep) {
        sweep(now);
        nextSweep = now + 10_000;
        if (entries.size >= max) return true;
      }
      entries.set(key, expiresAt);
      return false;
    },
    size: () => entries.size,
  };
}
import type { TimeSource } from '@cpnet/kernel';
