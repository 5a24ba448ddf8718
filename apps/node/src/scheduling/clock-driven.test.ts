import { describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '@cpnet/kernel';
import { facts, fullReport, hierarchy, judge, template } from './testing.ts';

// The service's tick and the aggregation's health sweep run on the Clock (node time): these tests never call tick()
// or sweep() and never wait on real time; only advancing the fake clock makes the timer-driven behaviour happen.

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

function setup(o: {
  options?: Parameters<typeof hierarchy>[1]['options'];
  timeouts?: { degradedAfterMs: number; downAfterMs: number };
}) {
  const clock = createFakeClock(Date.UTC(2026, 10, 26, 8));
  const h = hierarchy(TREE, { clock, options: o.options });
  for (const s of h.services.values()) void s.start();
  const s = h.services.get('CPN.51')!;
  // The one liveness judge: the aggregation's table and its sweep (every 250 ms of node time).
  const j = judge(s, { clock, timeouts: o.timeouts ?? { degradedAfterMs: 60_000, downAfterMs: 120_000 } });
  const stopSweep = j.start();
  const add = (over: Parameters<typeof facts>[1] = {}) => {
    const f = facts('CPN.51', over);
    j.add(f);
    void j.report([fullReport(f)]);
    return f;
  };
  const stop = () => {
    stopSweep();
    for (const x of h.services.values()) x.stop();
  };
  return { clock, h, add, s, j, stop };
}

describe('scheduling driven by the node clock alone', () => {
  it("re-places the job of a cluster that stops reporting when the aggregation's sweep judges it down", async () => {
    const { clock, add, s, j, stop } = setup({
      options: { tickMs: 250 },
      timeouts: { degradedAfterMs: 500, downAfterMs: 1000 },
    });
    try {
      const home = add({ price: 0.05 });
      const spare = add({ price: 0.2 });
      const job = await s.submit(template(), 'acme');
      expect(job.cluster).toBe(home.id);
      // Sweeps at 250, 500 and 750 ms: both silent for less than downAfterMs (degraded from 500), nothing moves.
      await advance(clock, { ms: 750, step: 250 });
      expect(s.job(job.id)).toMatchObject({ cluster: home.id, attempt: 1 });
      await j.report([fullReport(spare)]);
      // The sweep at 1000 ms finds home silent for downAfterMs (spare reported 250 ms ago).
      await advance(clock, { ms: 500, step: 250 });
      expect(s.job(job.id)).toMatchObject({ cluster: spare.id, attempt: 2, state: 'dispatched' });
      expect(s.job(job.id)!.history.map((e) => e.state)).toContain('replaced');
    } finally {
      stop();
    }
  });

  it('re-places the job of a cluster whose gateway reports it down (it never went silent)', async () => {
    const { add, s, j, stop } = setup({ options: { tickMs: 250 } });
    try {
      const home = add({ price: 0.05 });
      const spare = add({ price: 0.2 });
      const job = await s.submit(template(), 'acme');
      expect(job.cluster).toBe(home.id);
      const down = fullReport(home);
      await j.report([{ ...down, metrics: { ...down.metrics, health: 'down' } }, fullReport(spare)]);
      expect(s.job(job.id)).toMatchObject({ cluster: spare.id, attempt: 2, state: 'dispatched' });
      expect(s.job(job.id)!.history.find((e) => e.state === 'replaced')?.detail).toMatch(/down/);
      // Reporting down again is no new transition: nothing moves twice.
      await j.report([{ ...down, metrics: { ...down.metrics, health: 'down' } }]);
      expect(s.job(job.id)).toMatchObject({ cluster: spare.id, attempt: 2 });
    } finally {
      stop();
    }
  });

  it('fails a job still queued after maxQueueMs, retried by the tick meanwhile', async () => {
    const { clock, h, add, s, stop } = setup({ options: { tickMs: 500, retryMs: 500, maxQueueMs: 10_000 } });
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
      stop();
    }
  });
});
