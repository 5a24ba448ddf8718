import { describe, expect, it } from 'vitest';
import { createVirtualClock, type RealTime } from './virtual-clock.ts';

function fakeRealTime() {
  let now = 1000;
  const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  const real: RealTime = {
    monotonicMs: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => !x.cancelled && x.at <= now)) {
      t.cancelled = true;
      t.fn();
    }
  };
  return { real, advance };
}

describe('virtual clock', () => {
  it('runs speed times faster than real time', () => {
    const { real, advance } = fakeRealTime();
    const clock = createVirtualClock({ start: Date.UTC(2026, 0, 1), speed: 60, real });
    advance(1000);
    expect(clock.elapsed()).toBe(60_000);
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1) + 60_000);
  });

  it('fires timers after virtual delays and can cancel them', () => {
    const { real, advance } = fakeRealTime();
    const clock = createVirtualClock({ start: 0, speed: 10, real });
    const fired: string[] = [];
    clock.after(10_000, () => fired.push('a'));
    const b = clock.after(20_000, () => fired.push('b'));
    advance(999);
    expect(fired).toEqual([]);
    advance(1);
    expect(fired).toEqual(['a']);
    b.cancel();
    advance(5000);
    expect(fired).toEqual(['a']);
  });

  it('gives skewed views for clock-skew faults', () => {
    const { real } = fakeRealTime();
    const clock = createVirtualClock({ start: 5000, speed: 1, real });
    expect(clock.skewed(-45_000).now()).toBe(5000 - 45_000);
  });

  it('refuses a non-positive speed', () => {
    expect(() => createVirtualClock({ start: 0, speed: 0 })).toThrow(/positive/);
  });
});
