import type { Clock } from '@cpnet/kernel';

/**
 * The page's time, in one place. Wall time: the visualiser animates and measures in real time on the viewer's screen;
 * the scenario's (virtual) time comes inside the recording and the live events. The kernel's `systemClock` is for Node
 * (its timers are `unref`'d), so the browser has its own.
 */

/** Milliseconds since the page loaded, on the scale `requestAnimationFrame` stamps its frames with. */
export const pageTime = (): number => performance.now();

/** The page's Clock: Unix ms from the browser's monotonic clock, and window timers. */
export const pageClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => {
    const handle = window.setTimeout(fn, ms);
    return () => window.clearTimeout(handle);
  },
  setInterval: (fn, ms) => {
    const handle = window.setInterval(fn, ms);
    return () => window.clearInterval(handle);
  },
  sleep: (ms) => new Promise<void>((resolve) => window.setTimeout(resolve, ms)),
};
