import { describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '@cpnet/kernel';
import { facts, fullReport, hierarchy, template } from './testing.ts';

// The service's tick runs on its Clock (node time): these tests never call tick() and never wait on real time; only
// advancing the fake clock makes the timer-driven behaviour happen.

const TREE = { CPN: null, 'CPN.51': 'CPN' } as const;

/** Lets the work a timer started (async, in-memory stores) finish: event-loop turns, no time passes. */
async function drain(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advances `clock` by `ms` in steps of `step`, letting each round of timer work finish. */
async function advance(clock: FakeClock, o: { ms: number; step: number }): Promise<void> {
  for (let done = 0; done < o.ms; done += o.step) {
    clock.advance(Math.min(o.step, o.ms - done));
    await drain();
  }
}

function setup(options: Parameters<typeof hierarchy>[1]['options']) {
  const clock = createFakeClock(Date.UTC(2026, 10, 26, 8));
  const h = hierarchy(TREE, { clock, options });
  for (const s of h.services.values()) void s.start();
  const add = (over: Parameters<typeof facts>[1] = {}) => {
    const f = facts('CPN.51', over);
    const s = h.services.get('CPN.51')!;
    s.upsertCluster(f);
    s.onReport([fullReport(f)], clock.now());
    return f;
  };
  return { clock, h, add, s: h.services.get('CPN.51')! };
}

describe('scheduling driven by the node clock alone', () => {
  it('re-places the job of a cluster that stops reporting when its silence passes downAfterMs', async () => {
    const { clock, h, add, s } = setup({ tickMs: 250, downAfterMs: 1000 });
    try {
      const home = add({ price: 0.05 });
      const spare = add({ price: 0.2 });
      const job = await s.submit(template(), 'acme');
      expect(job.cluster).toBe(home.id);
      // Ticks at 250, 500 and 750 ms: both clusters silent for less than downAfterMs, nothing moves.
      await advance(clock, { ms: 750, step: 250 });
      expect(s.job(job.id)).toMatchObject({ cluster: home.id, attempt: 1 });
      s.onReport([fullReport(spare)], clock.now());
      // The tick at 1000 ms finds home silent for downAfterMs (spare reported 250 ms ago).
      await advance(clock, { ms: 500, step: 250 });
      expect(s.job(job.id)).toMatchObject({ cluster: spare.id, attempt: 2, state: 'dispatched' });
      expect(s.job(job.id)!.history.map((e) => e.state)).toContain('replaced');
    } finally {
      for (const x of h.services.values()) x.stop();
    }
  });

  it('fails a job still queued after maxQueueMs, retried by the tick meanwhile', async () => {
    const { clock, h, add, s } = setup({ tickMs: 500, retryMs: 500, maxQueueMs: 10_000, downAfterMs: 60_000 });
    try {
      const only = add();
      h.gateways.get('CPN.51')!.refuse.add(only.id);
      const job = await s.submit(template(), 'acme');
      expect(job.state).toBe('queued');
      const tries = () => h.gateways.get('CPN.51')!.sent.length;
      const first = tries();
      await advance(clock, { ms: 9_500, step: 500 });
      expect(s.job(job.id)?.state).toBe('queued');
      // Retried on the tick while it waited, and refused each time.
      expect(tries()).toBeGreaterThan(first);
      await advance(clock, { ms: 1_000, step: 500 });
      expect(s.job(job.id)).toBeUndefined();
      const stored = await h.stores.get('CPN.51')!.get(job.id);
      expect(stored?.state).toBe('failed');
      expect(stored?.history.at(-1)?.detail).toMatch(/queued longer than 10000 ms/);
    } finally {
      for (const x of h.services.values()) x.stop();
    }
  });
});
