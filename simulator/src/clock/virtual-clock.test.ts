import { describe, expect, it } from 'vitest';
import { createGovernor, createThreadClock, type RealTime } from './virtual-clock.ts';
import { createTimerQueue } from './timers.ts';

// Wall time here is fake: nothing sleeps, each test runs in milliseconds (cap: vitest's default 5 s per test).
function fakeReal() {
  let now = 1000;
  const real: RealTime = { monotonicMs: () => now, setTimeout: () => ({ cancel: () => undefined }) };
  return { real, pass: (ms: number) => void (now += ms) };
}

const START = Date.UTC(2026, 0, 1);

describe('governed virtual clock', () => {
  it('runs at most speed times faster than wall time', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: START, speed: 60, real });
    pass(1000);
    g.step();
    expect(g.clock.elapsed()).toBe(60_000);
    expect(g.clock.now()).toBe(START + 60_000);
  });

  it('fires timers at their virtual due time, in order, and can cancel them', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 10, real });
    const fired: Array<[string, number]> = [];
    g.clock.after(10_000, () => fired.push(['a', g.clock.now()]));
    const b = g.clock.after(20_000, () => fired.push(['b', g.clock.now()]));
    g.clock.setTimeout(() => fired.push(['c', g.clock.now()]), 5_000);
    pass(999);
    g.step();
    expect(fired).toEqual([['c', 5000]]);
    pass(1);
    g.step();
    expect(fired).toEqual([
      ['c', 5000],
      ['a', 10_000],
    ]);
    b.cancel();
    pass(5000);
    g.step();
    expect(fired).toHaveLength(2);
  });

  it('never outruns a lagging system: slows with lag, stops at the stop threshold', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 10, real, lagSlowMs: 20, lagStopMs: 120 });
    g.reportLag(70); // halfway between slow and stop: half speed
    pass(100);
    g.step();
    expect(g.clock.elapsed()).toBe(500);
    g.reportLag(500);
    pass(1000);
    g.step();
    expect(g.clock.elapsed()).toBe(500);
    expect(g.stats().slowedForLagMs).toBeGreaterThanOrEqual(1000);
  });

  it('holds time while a thread has not run its due timers, and its lag counts', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 10, real, threads: 1, lagSlowMs: 1000, lagStopMs: 10_000 });
    const t = createThreadClock({ shared: g.shared, slot: g.attach(), start: 0, speed: 10, real });
    const fired: number[] = [];
    t.clock.setTimeout(() => fired.push(t.clock.now()), 500);
    pass(100);
    g.step(); // publishes 1000 ms; the thread has not pumped yet
    expect(g.clock.elapsed()).toBe(1000);
    pass(100);
    g.step(); // the thread's timer (due 500) has not run: time waits
    expect(g.clock.elapsed()).toBe(1000);
    expect(g.stats().heldForTimersMs).toBe(100);
    t.pump();
    expect(fired).toEqual([500]);
    pass(100);
    g.step();
    expect(g.clock.elapsed()).toBe(2000);
  });

  it('main and thread clocks agree on the time', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: START, speed: 7, real, threads: 2 });
    const a = createThreadClock({ shared: g.shared, slot: g.attach(), start: START, speed: 7, real });
    const b = createThreadClock({ shared: g.shared, slot: g.attach(), start: START, speed: 7, real });
    for (const ms of [3, 17, 250, 1]) {
      pass(ms);
      g.step();
      a.pump();
      b.pump();
      expect(a.clock.now()).toBe(g.clock.now());
      expect(b.clock.now()).toBe(g.clock.now());
    }
  });

  it('at max, jumps over idle time to the next timer in any thread', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 'max', real, threads: 1, settleMs: 0 });
    const t = createThreadClock({ shared: g.shared, slot: g.attach(), start: 0, speed: Infinity, real });
    const fired: number[] = [];
    t.clock.setTimeout(() => fired.push(t.clock.now()), 3_600_000);
    pass(1);
    g.step();
    expect(g.clock.elapsed()).toBe(3_600_000);
    t.pump();
    expect(fired).toEqual([3_600_000]);
  });

  it('respects work in flight: no jump, and at most busyRate virtual ms per wall ms', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 'max', real, threads: 1, settleMs: 0, busyRate: 200 });
    const t = createThreadClock({ shared: g.shared, slot: g.attach(), start: 0, speed: Infinity, real });
    t.clock.setTimeout(() => undefined, 3_600_000);
    const end = t.load.begin();
    pass(30); // a 30 ms round trip spans 6 virtual s, inside the ±30 s signature window
    g.step();
    expect(g.clock.elapsed()).toBe(6000);
    end();
    pass(1);
    g.step();
    expect(g.clock.elapsed()).toBe(3_600_000);
    // A fixed speed above the cap is capped too while anything is in flight.
    const h = createGovernor({ start: 0, speed: 1000, real, busyRate: 200 });
    void h.load.track(new Promise(() => undefined));
    pass(10);
    h.step();
    expect(h.clock.elapsed()).toBe(2000);
  });

  it('slows while a request in flight is old, and stops when it is very old', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 10, real, ageSlowMs: 1000, ageStopMs: 3000, lagSlowMs: 1e9 });
    const end = g.load.begin();
    pass(2000); // the request is 2 s old: half speed
    g.step();
    expect(g.clock.elapsed()).toBe(10_000);
    pass(2000); // 4 s old: stopped
    g.step();
    expect(g.clock.elapsed()).toBe(10_000);
    end();
    pass(100);
    g.step();
    expect(g.clock.elapsed()).toBe(11_000);
    expect(g.stats().slowedForSlowRequestsMs).toBe(4000);
  });

  it('slows to a given rate, without jumps, while asked to', () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 'max', real, settleMs: 0 });
    g.clock.setTimeout(() => undefined, 3_600_000);
    const done = g.slow(5);
    pass(100);
    g.step();
    expect(g.clock.elapsed()).toBe(500);
    done();
    pass(1);
    g.step();
    expect(g.clock.elapsed()).toBe(3_600_000);
  });

  it('advances the calendar: a coalesced jump, then the last 2 minutes through every timer', async () => {
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 10, real, threads: 1, settleMs: 0 });
    const t = createThreadClock({ shared: g.shared, slot: g.attach(), start: 0, speed: 10, real });
    let beats = 0;
    t.clock.setInterval(() => beats++, 5000);
    let ends = 0;
    g.clock.setTimeout(() => ends++, 10 * 86_400_000); // a deadline 10 days out
    const done = g.advance(30 * 86_400_000);
    let resolved = false;
    void done.then(() => (resolved = true));
    for (let i = 0; i < 200 && !resolved; i++) {
      pass(1);
      g.step();
      t.pump();
      await Promise.resolve();
    }
    expect(resolved).toBe(true);
    expect(g.clock.elapsed()).toBe(30 * 86_400_000);
    expect(ends).toBe(1);
    // The node's beat keeps its remaining delay across the jump, then beats every 5 s through the last 2 minutes:
    // about 24 beats, not the 518,400 of stepping through 30 days.
    expect(beats).toBeGreaterThanOrEqual(24);
    expect(beats).toBeLessThanOrEqual(26);
  });

  it('refuses a non-positive speed', () => {
    expect(() => createGovernor({ start: 0, speed: 0 })).toThrow(/positive/);
  });
});

describe('timer queue', () => {
  it('fires intervals every period when run through, once when jumped over', () => {
    const q = createTimerQueue(0);
    let n = 0;
    q.add(() => n++, 10, 10);
    q.runUntil(100);
    expect(n).toBe(10);
    q.jumpTo(1_000_000);
    expect(n).toBe(11);
    expect(q.nextDue()).toBe(1_000_010);
  });
});
