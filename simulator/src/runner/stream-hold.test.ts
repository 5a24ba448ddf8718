import { describe, expect, it } from 'vitest';
import { createGovernor, type RealTime, type RunClock } from '../clock/virtual-clock.ts';
import { submitOnSchedule } from './jobs.ts';

// Wall time here is fake (the governor steps when the test says); the hold's 5 s wall cap is a real unref'd timer
// that a test this short never reaches.
describe('a job stream whose window is full', () => {
  it('holds virtual time still at `max` until the system takes the due arrival, then lets it run on', async () => {
    let wall = 1000;
    const real: RealTime = { monotonicMs: () => wall, setTimeout: () => ({ cancel: () => undefined }) };
    const g = createGovernor({ start: 0, speed: 'max', real, settleMs: 0 });
    const clock: RunClock = { ...g.clock, governor: g };
    const answers: Array<() => void> = [];
    const sent: number[] = [];
    // 300 arrivals, one every virtual second; no submission is answered until the test answers it.
    const done = submitOnSchedule(
      { clock, advanced: { ms: 0 } },
      {
        count: 300,
        dueAt: (i) => (i + 1) * 1000,
        submit: (i) => {
          sent.push(i);
          return new Promise((resolve) => answers.push(() => resolve({ ok: true, detail: '' })));
        },
        stopped: () => false,
        onRefusal: () => undefined,
      },
    );
    const run = async (steps: number) => {
      for (let k = 0; k < steps; k++) {
        wall += 10;
        g.step();
        await new Promise((r) => setImmediate(r));
      }
    };
    await run(2000);
    // The window (256) is full: arrival 256 is due at 257 s and waits, and time waits with it (a step of the governor
    // may overshoot a due time by its rate × step: 200 virtual ms per wall ms × 10 ms here).
    expect(sent).toHaveLength(256);
    const held = g.clock.elapsed();
    expect(held).toBeGreaterThanOrEqual(257_000);
    expect(held).toBeLessThanOrEqual(259_000);
    await run(500);
    expect(g.clock.elapsed()).toBe(held);
    answers.shift()!();
    await run(50);
    expect(sent).toHaveLength(257);
    for (const a of answers.splice(0)) a();
    await run(2000);
    for (const a of answers.splice(0)) a();
    await done;
    expect(sent).toHaveLength(300);
    expect(g.clock.elapsed()).toBeGreaterThanOrEqual(300_000);
  });
});
