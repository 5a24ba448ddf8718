import type { Clock } from './clock.ts';

/**
 * A view of `clock` whose `now()` reads `offsetMs` later (earlier when negative): a machine whose clock is wrong. A
 * function is read at every `now()`, so a test can set the clock right again. Timers and sleeps are durations, so they
 * run on `clock` unchanged.
 */
export function offsetClock(clock: Clock, offsetMs: number | (() => number)): Clock {
  const offset = typeof offsetMs === 'number' ? () => offsetMs : offsetMs;
  return {
    now: () => clock.now() + offset(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    sleep: (ms) => clock.sleep(ms),
  };
}
