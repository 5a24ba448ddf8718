import type { CancelTimer, Clock } from './clock.ts';

/** A clock that moves only when a test says so. */
export interface FakeClock extends Clock {
  /** Moves time on by `ms`, firing each timer that falls due, in order of due time (then of creation). */
  advance(ms: number): void;
  /**
   * Sets the time to `ms`, firing the timers due by then like `advance`. An earlier `ms` turns the clock back (to test
   * skew) and fires nothing; pending timers keep their due times.
   */
  set(ms: number): void;
  /** The due time of the earliest pending timer, or null when none is pending. */
  nextDueAt(): number | null;
  /** How many timers are pending. */
  pending(): number;
}

interface Timer {
  readonly seq: number;
  due: number;
  readonly every: number | null;
  readonly fn: () => void;
}

/** A fake clock starting at `start` (Unix ms); its timers fire only inside `advance` or `set`. */
export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let t = start;
  let seq = 0;
  const timers = new Map<number, Timer>();

  const add = (fn: () => void, ms: number, every: number | null): CancelTimer => {
    const timer: Timer = { seq: seq++, due: t + Math.max(0, ms), every, fn };
    timers.set(timer.seq, timer);
    return () => {
      timers.delete(timer.seq);
    };
  };
  const earliest = (): Timer | undefined => {
    let best: Timer | undefined;
    for (const timer of timers.values())
      if (!best || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) best = timer;
    return best;
  };
  const runUntil = (target: number): void => {
    // Timers created by a callback and due within the window fire in this same call, as they would in real time.
    for (let timer = earliest(); timer && timer.due <= target; timer = earliest()) {
      t = Math.max(t, timer.due);
      if (timer.every === null) timers.delete(timer.seq);
      // A zero interval would never let time move on: treat it as 1 ms, as Node treats setInterval(fn, 0).
      else timer.due = t + Math.max(1, timer.every);
      timer.fn();
    }
    t = Math.max(t, target);
  };

  return {
    now: () => t,
    setTimeout: (fn, ms) => add(fn, ms, null),
    setInterval: (fn, ms) => add(fn, ms, ms),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        add(resolve, ms, null);
      }),
    advance: (ms) => runUntil(t + Math.max(0, ms)),
    set: (ms) => {
      if (ms < t) t = ms;
      else runUntil(ms);
    },
    nextDueAt: () => earliest()?.due ?? null,
    pending: () => timers.size,
  };
}
