import type { CancelTimer } from '@cpnet/kernel';

interface Timer {
  readonly seq: number;
  due: number;
  readonly every: number | null;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * Timers on a time that someone else moves (the governor, or a thread's view of the shared time): a binary heap by due
 * time, then creation order, so timers due together fire in the order they were made. Times are virtual ms.
 */
export interface TimerQueue {
  /** The queue's current time. */
  now(): number;
  add(fn: () => void, ms: number, every: number | null): CancelTimer;
  /** The due time of the earliest pending timer, or Infinity. */
  nextDue(): number;
  /** Pending timers. */
  size(): number;
  /**
   * Moves time on to `t`, firing each timer due by then in order (callbacks see `now()` equal to their due time); an
   * interval due several times fires each time. Never moves time back.
   */
  runUntil(t: number): void;
  /**
   * A calendar jump to `t`: every one-shot timer due by `t` fires once, at `t`, in the order it was due. Intervals
   * either fire once at `t` too (then continue from `t`), or with `shiftIntervals` keep the delay they had left (a
   * periodic sweep does not run at the very instant of the jump, before anything reported).
   */
  jumpTo(t: number, o?: { shiftIntervals?: boolean }): void;
}

export function createTimerQueue(start: number): TimerQueue {
  let t = start;
  let seq = 0;
  let live = 0;
  const heap: Timer[] = [];
  const before = (a: Timer, b: Timer) => a.due < b.due || (a.due === b.due && a.seq < b.seq);
  const push = (x: Timer) => {
    heap.push(x);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): Timer | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  /** The earliest live timer, dropping cancelled ones from the top. */
  const peek = (): Timer | undefined => {
    while (heap.length > 0 && heap[0]!.cancelled) pop();
    return heap[0];
  };
  const fire = (x: Timer, at: number) => {
    pop();
    t = Math.max(t, at);
    if (x.every === null) {
      x.cancelled = true;
      live--;
    } else {
      // A zero interval would never let time move on: 1 ms, as Node treats setInterval(fn, 0).
      x.due = t + Math.max(1, x.every);
      push(x);
    }
    x.fn();
  };
  return {
    now: () => t,
    add(fn, ms, every) {
      const x: Timer = { seq: seq++, due: t + Math.max(0, ms), every, fn, cancelled: false };
      live++;
      push(x);
      return () => {
        if (x.cancelled) return;
        x.cancelled = true;
        live--;
      };
    },
    nextDue: () => peek()?.due ?? Infinity,
    size: () => live,
    runUntil(target) {
      for (let x = peek(); x && x.due <= target; x = peek()) fire(x, x.due);
      t = Math.max(t, target);
    },
    jumpTo(target, opts = {}) {
      if (target <= t) return;
      const delta = target - t;
      const due: Timer[] = [];
      const shifted: Timer[] = [];
      for (let x = peek(); x && (x.due <= target || opts.shiftIntervals); x = peek()) {
        pop();
        if (opts.shiftIntervals && x.every !== null) shifted.push(x);
        else if (x.due <= target) due.push(x);
        else shifted.push(x); // not reached: one-shots beyond the jump stay where they are
      }
      t = target;
      for (const x of shifted) {
        if (x.every !== null) x.due += delta;
        push(x);
      }
      for (const x of due) {
        if (x.cancelled) continue;
        if (x.every === null) {
          x.cancelled = true;
          live--;
        } else {
          x.due = target + Math.max(1, x.every);
          push(x);
        }
        x.fn();
      }
      // Timers a callback made for `target` itself (0 ms) fire too.
      this.runUntil(target);
    },
  };
}
