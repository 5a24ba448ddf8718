// A fault for the governed clock's own tests: a node thread that keeps stalling, as a thread would on a machine that
// starves it. Lives under clock/ because it reads and waits on wall time on purpose (the lint rule allows it here).
import { performance } from 'node:perf_hooks';

/** How a thread is stalled: blocked for `busyMs` of wall time every `everyMs` of wall time. */
export interface StallPlan {
  readonly busyMs: number;
  readonly everyMs: number;
}

/** Checks a stall plan; returns what is wrong with it, or null. */
export function stallProblem(plan: StallPlan): string | null {
  if (!Number.isInteger(plan.busyMs) || plan.busyMs < 1) return `busyMs must be a positive integer, got ${plan.busyMs}`;
  if (!Number.isInteger(plan.everyMs) || plan.everyMs <= plan.busyMs)
    return `everyMs must be an integer above busyMs (${plan.busyMs}), got ${plan.everyMs}`;
  return null;
}

/** A running stall: how long it has blocked the thread so far (wall ms), and how to end it. */
export interface Stall {
  stalledMs(): number;
  stop(): void;
}

/**
 * Blocks this thread's event loop for `busyMs` every `everyMs` of wall time (Atomics.wait: the thread sleeps, taking
 * no CPU from the others), so everything it hosts answers late and its timers fire late — a slow thread, not a busy
 * machine (the CPU-hog test covers that).
 */
export function stallThread(plan: StallPlan): Stall {
  const problem = stallProblem(plan);
  if (problem) throw new RangeError(`stall: ${problem}`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  let total = 0;
  const timer = setInterval(() => {
    const t0 = performance.now();
    Atomics.wait(cell, 0, 0, plan.busyMs);
    total += performance.now() - t0;
  }, plan.everyMs - plan.busyMs);
  timer.unref();
  return { stalledMs: () => Math.round(total), stop: () => clearInterval(timer) };
}
