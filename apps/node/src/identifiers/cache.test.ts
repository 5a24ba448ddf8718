import { describe, expect, it } from 'vitest';
import { createAnswerCache, type SignedWireAnswer } from './cache.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const answer = (id: string, ttlMs: number): SignedWireAnswer => ({
  id,
  cachedUntil: new Date(T0 + ttlMs).toISOString(),
});

describe('the answer cache', () => {
  it('keeps at most `max` answers, dropping the least recently used', () => {
    const clock = { now: () => T0 };
    const cache = createAnswerCache(3, clock);
    for (const id of ['a', 'b', 'c']) cache.put(id, answer(id, 60_000));
    expect(cache.get('a')?.id).toBe('a'); // a is now the most recently used
    cache.put('d', answer('d', 60_000));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((id) => cache.get(id)?.id)).toEqual(['a', 'c', 'd']);
    expect(cache.encoded('c')).toBe(JSON.stringify(answer('c', 60_000)));
    cache.forget('c');
    expect(cache.get('c')).toBeUndefined();
  });

  it('expires an answer at its cachedUntil on the injected clock, and never stores an expired one', () => {
    let now = T0;
    const cache = createAnswerCache(10, { now: () => now });
    cache.put('a', answer('a', 1000));
    cache.put('old', answer('old', 0));
    expect(cache.get('old')).toBeUndefined();
    now += 999;
    expect(cache.get('a')?.id).toBe('a');
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('costs memory for what it holds, not for its bound (every node of a simulated network has one)', () => {
    const before = process.memoryUsage();
    const caches = Array.from({ length: 50 }, () => createAnswerCache(100_000, { now: () => T0 }));
    const after = process.memoryUsage();
    const perCache = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / caches.length;
    // With lru-cache's `max` each one allocated ~2.7 MiB of index arrays up front; now a few KiB.
    expect(perCache).toBeLessThan(100 * 1024);
    expect(caches.every((c) => c.size === 0)).toBe(true);
  });
});
