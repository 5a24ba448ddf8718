import type { Clock } from './clock.ts';

/**
 * A view of `clock` whose `now()` reads `offsetMs` later (earlier when negative): a machine whose clock is wrong. Timers
 * and sleeps are durations, so they run on `clock` unchanged.
 */
export function offsetClock(clock: Clock, offsetMs: number): Clock {
  return {
    now: () => clock.now() + offsetMs,
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    sleep: (ms) => clock.sleep(ms),
  };
}
