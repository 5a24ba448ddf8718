import type { Clock } from './clock.ts';

/**
 * The real clock: the one place in cpnet allowed to read the wall clock and start real timers. Only the edges (the
 * node's main, the CLI, real-server tests) import it; pure packages take a `Clock` and never import this entry.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    return () => clearInterval(handle);
  },
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};
