import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fake-clock.ts';
import { offsetClock } from './offset-clock.ts';

describe('offsetClock', () => {
  it('reads shifted time and runs timers on the underlying clock', () => {
    const base = createFakeClock(1_000_000);
    const skewed = offsetClock(base, -45_000);
    expect(skewed.now()).toBe(955_000);
    let fired = 0;
    skewed.setTimeout(() => fired++, 1000);
    const stop = skewed.setInterval(() => fired++, 500);
    base.advance(1000);
    expect(fired).toBe(3);
    stop();
    base.advance(5000);
    expect(fired).toBe(3);
    expect(skewed.now()).toBe(base.now() - 45_000);
  });

  it('reads a function offset at every reading', () => {
    const base = createFakeClock(1_000_000);
    let skew = 600_000;
    const skewed = offsetClock(base, () => skew);
    expect(skewed.now()).toBe(1_600_000);
    skew = 0;
    expect(skewed.now()).toBe(1_000_000);
  });
});
