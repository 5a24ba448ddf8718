import { describe, expect, it } from 'vitest';
import { stopwatch, systemClock } from './system.ts';

describe('systemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
  });

  it('fires a timer and cancels another', async () => {
    let cancelled = false;
    const cancel = systemClock.setTimeout(() => {
      cancelled = true;
    }, 5);
    cancel();
    let fired = false;
    systemClock.setTimeout(() => {
      fired = true;
    }, 1);
    await systemClock.sleep(20);
    expect(fired).toBe(true);
    expect(cancelled).toBe(false);
  });
});

describe('stopwatch', () => {
  it('measures elapsed wall time', async () => {
    const elapsed = stopwatch();
    await systemClock.sleep(15);
    expect(elapsed()).toBeGreaterThanOrEqual(10);
  });
});
