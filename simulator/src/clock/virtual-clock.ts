/** A cancellable timer handle. */
export interface TimerHandle {
  cancel(): void;
}

/** Time for the simulator and the code it drives: `now()` in Unix ms, and timers measured in the same time. */
export interface SimClock {
  now(): number;
  /** Calls `fn` after `ms` of this clock's time. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** What a virtual clock reads real time from; tests pass a fake. */
export interface RealTime {
  monotonicMs(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/**
 * The process's real time. Monotonic readings are offset by the thread's time origin, so that every thread of the
 * process reads the same scale (a worker thread's `performance.now()` starts at the worker's own start).
 */
export const processTime: RealTime = {
  monotonicMs: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A virtual clock: starts at `start` (Unix ms) and runs `speed` times faster than real time. */
export interface VirtualClock extends SimClock {
  readonly speed: number;
  /** The real-time reading (`RealTime.monotonicMs`) the clock started at: another thread's clock made with the same
   * start, speed and origin reads the same time. */
  readonly origin: number;
  /** Virtual ms elapsed since the start. */
  elapsed(): number;
  /** A view of this clock shifted by `skewMs` (a node whose clock is wrong). */
  skewed(skewMs: number): SimClock;
}

/**
 * Creates a virtual clock. Real servers, sockets and the proxy keep running in real time underneath; only what
 * reads this clock (timestamps, timeouts, job durations, report intervals) sees time `speed` times faster.
 */
export function createVirtualClock(options: {
  start: number;
  speed?: number;
  real?: RealTime;
  origin?: number;
}): VirtualClock {
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`clock speed must be a positive number, got ${speed}`);
  const real = options.real ?? processTime;
  const origin = options.origin ?? real.monotonicMs();
  const elapsed = () => (real.monotonicMs() - origin) * speed;
  const after = (ms: number, fn: () => void): TimerHandle => real.setTimeout(fn, Math.max(0, ms) / speed);
  const sleep = (ms: number) => new Promise<void>((resolve) => void after(ms, resolve));
  return {
    speed,
    origin,
    elapsed,
    now: () => options.start + elapsed(),
    after,
    sleep,
    skewed: (skewMs) => ({ now: () => options.start + elapsed() + skewMs, after, sleep }),
  };
}
