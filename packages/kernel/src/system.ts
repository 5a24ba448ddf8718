import type { Clock } from './clock.ts';

/**
 * The real clock: the one place in cpnet allowed to read the wall clock and start real timers. Only the edges (the
 * node's main, the CLI, real-server tests) import it; pure packages take a `Clock` and never import this entry.
 *
 * Its timers do not keep the process alive (they are `unref`'d): periodic work, retries and timeouts run while
 * something else (a listening server, an open socket, a pending request) holds the process. `sleep` does keep it
 * alive: an awaited pause is work in progress, and a CLI waiting on it must not exit half-way.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    handle.unref();
    return () => clearInterval(handle);
  },
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/**
 * Starts a stopwatch on the machine's monotonic clock: the returned function gives the wall milliseconds elapsed since,
 * with sub-millisecond precision. For measuring real work (request latencies in metrics, benchmarks): always wall
 * time, in a simulation too — it measures the machine, not the scenario.
 */
export function stopwatch(): () => number {
  const started = performance.now();
  return () => performance.now() - started;
}
