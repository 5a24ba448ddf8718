import { describe, expect, it } from 'vitest';
import type { NodeClient } from '@cpnet/client';
import { createTenants } from './jobs.ts';
import type { RunContext } from './context.ts';

// The node side is a stand-in that counts sign-ins and answers each token when the test says; what is checked is the
// simulator's own bookkeeping of tenants' clients over virtual time (the clock is a number the test sets).
function harness() {
  let now = 0;
  const tokens: Array<{ resolve: () => void; reject: () => void; n: number }> = [];
  let issued = 0;
  const node = {
    running: true,
    self: () => ({ createAccount: async () => ({ ok: true, value: {} }) }),
    anon: () => ({
      token: () =>
        new Promise((resolve, reject) => {
          const n = ++issued;
          tokens.push({
            n,
            resolve: () => resolve({ ok: true, value: { token: `token-${n}` } }),
            reject: () => reject(new Error('refused')),
          });
        }),
    }),
  };
  const ctx = {
    net: { nodes: new Map([['CPN', node]]), urlOf: () => 'http://127.0.0.1:1' },
    clock: { now: () => now },
  } as unknown as Pick<RunContext, 'net' | 'clock'>;
  const tenantClient = createTenants(ctx);
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    tenantClient,
    tokens,
    setNow: (ms: number) => (now = ms),
    settle,
    /** Which token a client was made with: the requests it would sign carry it; here its identity is enough. */
    async answerNext() {
      await settle();
      tokens.shift()!.resolve();
      await settle();
    },
  };
}

const MIN = 60_000;

describe("the simulator's tenants", () => {
  it('keep one client for 45 virtual minutes, then renew in the background while the held token serves', async () => {
    const h = harness();
    const first = h.tenantClient('CPN', 'acme');
    await h.answerNext();
    const a: NodeClient = await first;
    h.setNow(30 * MIN);
    expect(await h.tenantClient('CPN', 'acme')).toBe(a);
    // 50 minutes: a renewal starts; the caller is not held back by it.
    h.setNow(50 * MIN);
    expect(await h.tenantClient('CPN', 'acme')).toBe(a);
    expect(await h.tenantClient('CPN', 'acme')).toBe(a); // one renewal at a time
    await h.settle();
    expect(h.tokens).toHaveLength(1); // one sign-in under way
    await h.answerNext();
    const b = await h.tenantClient('CPN', 'acme');
    expect(b).not.toBe(a);
  });

  it('await the new token when the held one has under 5 minutes left (or expired across a clock jump)', async () => {
    const h = harness();
    const first = h.tenantClient('CPN', 'acme');
    await h.answerNext();
    const a = await first;
    h.setNow(30 * 24 * 60 * MIN); // a 30-day jump
    let got: NodeClient | null = null;
    const p = h.tenantClient('CPN', 'acme').then((c) => (got = c));
    await h.settle();
    expect(got).toBeNull();
    await h.answerNext();
    await p;
    expect(got).not.toBe(a);
  });

  it('try again at the next call when a renewal fails, the held client serving while it can', async () => {
    const h = harness();
    const first = h.tenantClient('CPN', 'acme');
    await h.answerNext();
    const a = await first;
    h.setNow(46 * MIN);
    expect(await h.tenantClient('CPN', 'acme')).toBe(a);
    await h.settle();
    h.tokens.shift()!.reject();
    await h.settle();
    expect(await h.tenantClient('CPN', 'acme')).toBe(a); // a second renewal has started
    await h.answerNext();
    expect(await h.tenantClient('CPN', 'acme')).not.toBe(a);
  });
});
