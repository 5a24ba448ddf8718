import type { CancelTimer, Clock } from '@cpnet/kernel';
import { createTimerQueue, type TimerQueue } from './timers.ts';

/** A cancellable timer handle. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Time for the simulator and the code it drives: the kernel's `Clock` (so it can be handed to a node as its clock),
 * plus `after`, the handle-returning form the simulator's own code uses. All of it virtual time.
 */
export interface SimClock extends Clock {
  /** Calls `fn` after `ms` of this clock's time. */
  after(ms: number, fn: () => void): TimerHandle;
}

/** What the governor reads real (wall) time from; tests pass a fake. */
export interface RealTime {
  /** Wall milliseconds on a scale every thread of the process shares. */
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

/** A virtual clock of the run: the governed time seen from one thread. */
export interface VirtualClock extends SimClock {
  /** The most virtual ms per wall ms; Infinity for `max`. */
  readonly speed: number;
  /** Virtual ms elapsed since the start. */
  elapsed(): number;
  /** A view of this clock shifted by `skewMs` (a node whose clock is wrong); its timers are this clock's. */
  skewed(skewMs: number): SimClock;
}

// ── shared time ───────────────────────────────────────────────────────────────────────────────────────────────────
//
// One SharedArrayBuffer holds the run's virtual time, written only by the governor (main thread), and one slot per
// thread that the thread writes and the governor reads:
//   Int32  [0]      generation: +1 at every publish; threads wait on it (Atomics.waitAsync) and are notified
//   BigInt64 [1]    virtual elapsed time, µs (Atomics)
//   BigInt64 [2]    the last calendar jump's end, µs (Atomics): timers due by then fire once, coalesced
//   Float64 [3]     wall ms of the last publish
//   slot i (i = 0 main, 1.. threads), Float64 × 5 from byte 64 + 40 i:
//     [0] lag (wall ms, self-reported)  [1] requests in flight  [2] next timer due (virtual elapsed ms)
//     [3] the generation the thread last caught up with  [4] wall ms the oldest request in flight started (Infinity)

const HEADER = 64;
const SLOT = 5;
const LAG = 0;
const INFLIGHT = 1;
const NEXT_DUE = 2;
const SEEN = 3;
const OLDEST = 4;

/** The shared cells, as views. */
interface Shared {
  readonly buffer: SharedArrayBuffer;
  readonly gen: Int32Array;
  readonly time: BigInt64Array;
  readonly published: Float64Array;
  readonly slots: Float64Array;
}

function views(buffer: SharedArrayBuffer): Shared {
  return {
    buffer,
    gen: new Int32Array(buffer, 0, 2),
    time: new BigInt64Array(buffer, 0, 4),
    published: new Float64Array(buffer, 0, 4),
    slots: new Float64Array(buffer, HEADER),
  };
}

const toMicros = (ms: number) => BigInt(Math.round(ms * 1000));
const fromMicros = (us: bigint) => Number(us) / 1000;

/** What a thread's clock tells the governor: work in flight and its own lag. */
export interface LoadReporter {
  /** Wall ms the oldest request still in flight started at; Infinity when none is. */
  oldest(): number;
  /** One more request in flight; call the returned function when it ends. */
  begin(): () => void;
  /** Counts `p` as in flight until it settles. */
  track<T>(p: Promise<T>): Promise<T>;
}

/** Counts requests in flight and remembers when the oldest began (starts come in order: the first entry is oldest). */
function createLoad(
  real: RealTime,
  onChange: (inflight: number, oldest: number) => void,
): LoadReporter & { inflight(): number } {
  const started = new Map<number, number>();
  let next = 0;
  const oldest = () => (started.size ? started.values().next().value! : Infinity);
  const load = {
    inflight: () => started.size,
    oldest,
    begin() {
      const id = next++;
      started.set(id, real.monotonicMs());
      onChange(started.size, oldest());
      return () => {
        if (!started.delete(id)) return;
        onChange(started.size, oldest());
      };
    },
    track<T>(p: Promise<T>): Promise<T> {
      const end = load.begin();
      return p.finally(end);
    },
  };
  return load;
}

/** A clock over a timer queue whose time someone else moves. */
function clockOver(q: TimerQueue, o: { start: number; speed: number; onAdd: (due: number) => void }): VirtualClock {
  const { start, speed, onAdd } = o;
  const add = (fn: () => void, ms: number, every: number | null): CancelTimer => {
    const cancel = q.add(fn, ms, every);
    onAdd(q.now() + Math.max(0, ms) - start);
    return cancel;
  };
  const base: SimClock = {
    now: () => q.now(),
    setTimeout: (fn, ms) => add(fn, ms, null),
    setInterval: (fn, ms) => add(fn, ms, ms),
    sleep: (ms) => new Promise<void>((resolve) => void add(resolve, ms, null)),
    after: (ms, fn) => ({ cancel: add(fn, ms, null) }),
  };
  return {
    ...base,
    speed,
    elapsed: () => q.now() - start,
    skewed: (skewMs) => ({ ...base, now: () => q.now() + skewMs }),
  };
}

/** The governor's settings. Durations are wall ms unless named virtual. */
export interface GovernorOptions {
  /** Unix ms the virtual clock starts at. */
  readonly start: number;
  /** The most virtual ms per wall ms, or 'max': as fast as the system keeps up, jumping over idle time. */
  readonly speed?: number | 'max';
  /** The most worker threads that will read the time (each takes a slot with `attach`); 64 by default. */
  readonly threads?: number;
  readonly real?: RealTime;
  /** Wall ms between governing steps. */
  readonly tickMs?: number;
  /** Lag (wall ms) above which time slows down, and at which it stops. */
  readonly lagSlowMs?: number;
  readonly lagStopMs?: number;
  /**
   * The most virtual ms per wall ms while any request is in flight (and at `max` while the system is busy): 200, so a
   * 30 ms round trip spans at most 6 virtual s, well inside the ±30 s signature window.
   */
  readonly busyRate?: number;
  /**
   * Wall age of the oldest request in flight above which time slows down, and at which it stops: a request a node
   * takes seconds to answer means the machine is behind (1 s and 5 s).
   */
  readonly ageSlowMs?: number;
  readonly ageStopMs?: number;
  /** At `max`: wall ms the system must have been idle before the clock jumps to the next timer. */
  readonly settleMs?: number;
  /** How long (wall ms) a calendar `advance` waits for in-flight work to drain before it jumps anyway. */
  readonly drainMs?: number;
}

/** Why time did not advance as fast as asked, summed over the run (wall ms). */
export interface GovernorStats {
  /** Steps in which a thread had not yet run timers that were due. */
  heldForTimersMs: number;
  /** Steps slowed or stopped by event-loop lag. */
  slowedForLagMs: number;
  /** Steps slowed or stopped because a request in flight was taking long (wall age past `ageSlowMs`). */
  slowedForSlowRequestsMs: number;
  /** Steps capped because work was in flight (at `max`: a jump to the next timer held back by it). */
  cappedForInflightMs: number;
  /** Jumps over idle time (at `max`) and calendar advances. */
  jumps: number;
  /** Publishes of a new time. */
  publishes: number;
}

/**
 * The run's time keeper (main thread). Virtual time advances by at most `speed` × the wall time of each step, and less
 * when the system falls behind: a thread that has not run its due timers holds time still; event-loop lag slows it
 * (stops it at `lagStopMs`); requests in flight cap it at `busyRate`. At `max` an idle system (nothing in flight, no
 * lag, for `settleMs`) jumps straight to the next timer due in any thread.
 */
export interface Governor {
  /** The main thread's clock. */
  readonly clock: VirtualClock;
  /** Counts the main thread's in-flight work (simulator clients, gateways, link proxies). */
  readonly load: LoadReporter;
  /** The buffer to give each thread, with a slot number from `attach`. */
  readonly shared: SharedArrayBuffer;
  /** Takes the next thread slot (1, 2, …). */
  attach(): number;
  /** One governing step; `start` runs it on a wall-time timer, tests call it directly. */
  step(): void;
  /** Starts stepping every `tickMs` of wall time. */
  start(): void;
  stop(): void;
  /**
   * Moves the calendar on by `ms` virtual: waits for in-flight work to drain (at most `drainMs`), jumps to `ms` − 2 min
   * — in this thread every timer due in between fires once, at the jump; in node slots one-shot timers due in between
   * fire once and intervals keep the delay they had left — then runs the last 2 minutes as at `max`, so heartbeats,
   * summaries and sweeps fire as they would and health settles. Resolves at the new time.
   */
  advance(ms: number): Promise<void>;
  /**
   * Slows time to at most `rate` virtual ms per wall ms (no jumps) until the returned function is called: for work the
   * simulator knows runs on wall time (a node onboarding on wall-time polls).
   */
  slow(rate: number): () => void;
  /** Wall ms of lag the main thread reports (the stepping timer's lateness; tests set it). */
  reportLag(ms: number): void;
  stats(): GovernorStats;
}

/** The most virtual ms per wall ms while requests are in flight (see `GovernorOptions.busyRate`). */
export const BUSY_RATE = 200;

/** After a calendar jump, this much virtual time runs through its timers before the advance ends. */
export const ADVANCE_SETTLE_MS = 120_000;

export function createGovernor(o: GovernorOptions): Governor {
  const max = o.speed === 'max';
  const speed = max ? Infinity : (o.speed ?? 1);
  if (!max && (!(speed > 0) || !Number.isFinite(speed)))
    throw new RangeError(`clock speed must be a positive number or 'max', got ${o.speed}`);
  const real = o.real ?? processTime;
  const capacity = o.threads ?? 64;
  let threads = 0;
  const tickMs = o.tickMs ?? 4;
  const lagSlowMs = o.lagSlowMs ?? 30;
  const lagStopMs = o.lagStopMs ?? 250;
  const busyRate = Math.min(speed, o.busyRate ?? BUSY_RATE);
  const settleMs = o.settleMs ?? 3;
  const ageSlowMs = o.ageSlowMs ?? 1000;
  const ageStopMs = o.ageStopMs ?? 5000;
  const drainMs = o.drainMs ?? 10_000;
  const s = views(new SharedArrayBuffer(HEADER + (capacity + 1) * SLOT * 8));
  for (let i = 0; i <= capacity; i++) {
    s.slots[i * SLOT + NEXT_DUE] = Infinity;
    s.slots[i * SLOT + OLDEST] = Infinity;
  }
  const q = createTimerQueue(o.start);
  let v = 0;
  let mainLag = 0;
  let lastReal = real.monotonicMs();
  let quietSince = lastReal;
  const ring = new Float64Array(256);
  const stats: GovernorStats = {
    heldForTimersMs: 0,
    slowedForLagMs: 0,
    slowedForSlowRequestsMs: 0,
    cappedForInflightMs: 0,
    jumps: 0,
    publishes: 0,
  };
  let advancing: { until: number; resolve: () => void } | null = null;
  let pending: { by: number; asked: number; resolve: () => void } | null = null;
  let timer: { cancel(): void } | null = null;
  const slows = new Map<number, number>();
  let nextSlow = 0;

  const publish = (to: number, jump?: number) => {
    if (jump !== undefined) {
      Atomics.store(s.time, 2, toMicros(jump));
      q.jumpTo(o.start + jump);
      stats.jumps++;
    }
    v = Math.max(v, to);
    Atomics.store(s.time, 1, toMicros(v));
    const r = real.monotonicMs();
    s.published[3] = r;
    const g = Atomics.add(s.gen, 0, 1) + 1;
    ring[g & 255] = r;
    Atomics.notify(s.gen, 0);
    stats.publishes++;
    q.runUntil(o.start + v);
  };

  const step = () => {
    const r = real.monotonicMs();
    const dt = Math.max(0, r - lastReal);
    lastReal = r;
    const gen = Atomics.load(s.gen, 0);
    let lag = mainLag;
    let busy = load.inflight();
    let oldest = load.oldest();
    let due = q.nextDue() - o.start;
    let behind = false;
    for (let i = 1; i <= threads; i++) {
      const b = i * SLOT;
      const seen = s.slots[b + SEEN]!;
      const nextDue = s.slots[b + NEXT_DUE]!;
      busy += s.slots[b + INFLIGHT]!;
      oldest = Math.min(oldest, s.slots[b + OLDEST]!);
      // (A thread's self-reported lag is history once it caught up; only a publish it has not handled yet counts.)
      if (seen < gen) {
        // Not caught up with the latest time: lagging by how long the first publish it missed has waited.
        lag = Math.max(lag, gen - seen > 255 ? lagStopMs : r - ring[(seen + 1) & 255]!);
        if (nextDue <= v) behind = true;
      }
      due = Math.min(due, nextDue);
    }
    if (busy > 0 || lag > lagSlowMs) quietSince = r;
    if (pending) {
      // A calendar advance: jump once nothing is in flight (or the drain wait is over) and every thread caught up.
      if (behind || (busy > 0 && r - pending.asked < drainMs)) return;
      const { by, resolve } = pending;
      const jumpTo = v + Math.max(0, by - ADVANCE_SETTLE_MS);
      advancing = { until: v + by, resolve };
      pending = null;
      if (jumpTo > v) publish(jumpTo, jumpTo);
      return;
    }
    if (behind) {
      stats.heldForTimersMs += dt;
      return;
    }
    // Requests answered slowly are the system falling behind too: the oldest one in flight, by its wall age.
    const age = Number.isFinite(oldest) ? r - oldest : 0;
    const ramp = (x: number, lo: number, hi: number) => (x <= lo ? 1 : x >= hi ? 0 : (hi - x) / (hi - lo));
    const lagFactor = ramp(lag, lagSlowMs, lagStopMs);
    const ageFactor = ramp(age, ageSlowMs, ageStopMs);
    const factor = Math.min(lagFactor, ageFactor);
    if (lagFactor < 1) stats.slowedForLagMs += dt;
    if (ageFactor < 1) stats.slowedForSlowRequestsMs += dt;
    if (factor === 0) return;
    const fast = max || advancing !== null;
    let rate = fast ? busyRate : speed;
    const slowest = Math.min(...slows.values());
    if (rate > slowest) rate = slowest;
    // Capped: a rate above the busy rate, or at `max` a jump to the next timer held back by work in flight.
    const held = fast && Number.isFinite(due) && due > v + Math.min(rate, busyRate) * dt * factor;
    if (busy > 0 && (rate > busyRate || held)) stats.cappedForInflightMs += dt;
    if (busy > 0 && rate > busyRate) rate = busyRate;
    let to = v + rate * dt * factor;
    if (fast && busy === 0 && slows.size === 0 && r - quietSince >= settleMs && Number.isFinite(due) && due > to) {
      to = due;
      stats.jumps++;
    }
    if (advancing) to = Math.min(to, advancing.until);
    if (to > v) publish(to);
    if (advancing && v >= advancing.until) {
      const done = advancing.resolve;
      advancing = null;
      done();
    }
  };

  const tick = () => {
    const before = real.monotonicMs();
    // The stepping timer's own lateness is the main thread's lag.
    mainLag = Math.max(0, before - lastReal - tickMs);
    step();
    timer = real.setTimeout(tick, tickMs);
  };

  const load = createLoad(real, () => undefined);

  return {
    clock: clockOver(q, { start: o.start, speed, onAdd: () => undefined }),
    load,
    shared: s.buffer,
    attach() {
      if (threads >= capacity) throw new RangeError(`the clock has slots for ${capacity} threads`);
      return ++threads;
    },
    step,
    start() {
      if (timer) return;
      lastReal = real.monotonicMs();
      timer = real.setTimeout(tick, tickMs);
    },
    stop() {
      timer?.cancel();
      timer = null;
    },
    advance(ms) {
      if (!(ms >= 0) || !Number.isFinite(ms)) return Promise.reject(new RangeError(`cannot advance by ${ms} ms`));
      if (pending || advancing) return Promise.reject(new Error('a calendar advance is already under way'));
      return new Promise<void>((resolve) => {
        pending = { by: ms, asked: real.monotonicMs(), resolve };
      });
    },
    slow(rate) {
      const id = nextSlow++;
      slows.set(id, rate);
      return () => void slows.delete(id);
    },
    reportLag(ms) {
      mainLag = ms;
    },
    stats: () => ({ ...stats }),
  };
}

/** A worker thread's view of the governed time. */
export interface ThreadClock {
  readonly clock: VirtualClock;
  readonly load: LoadReporter;
  /** Catches up with the shared time: fires the timers due by it and reports lag, load and the next timer. */
  pump(): void;
  /** Pumps each time the governor publishes (Atomics.waitAsync), until `stop`. */
  wake(): void;
  stop(): void;
}

/** `Atomics.waitAsync` (Node ≥ 16; not yet in TypeScript's ES2022 library). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      i: number,
      v: number,
    ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
  }
).waitAsync.bind(Atomics);

/** The clock of a worker thread reading the shared time in `slot` (1..threads). */
export function createThreadClock(o: {
  shared: SharedArrayBuffer;
  slot: number;
  start: number;
  speed: number;
  real?: RealTime;
}): ThreadClock {
  const s = views(o.shared);
  const real = o.real ?? processTime;
  const b = o.slot * SLOT;
  const q = createTimerQueue(o.start);
  let jumped = 0n;
  let running = false;
  const report = () => {
    s.slots[b + NEXT_DUE] = q.nextDue() - o.start;
  };
  const clock = clockOver(q, {
    start: o.start,
    speed: o.speed,
    onAdd: (due) => {
      if (due < s.slots[b + NEXT_DUE]!) s.slots[b + NEXT_DUE] = due;
    },
  });
  const pump = () => {
    const gen = Atomics.load(s.gen, 0);
    const jump = Atomics.load(s.time, 2);
    if (jump > jumped) {
      jumped = jump;
      // Nodes' periodic work keeps the delay it had left: a health sweep does not run at the instant of the jump,
      // before the simulator's side (which fires everything due at once) has reported.
      q.jumpTo(o.start + fromMicros(jump), { shiftIntervals: true });
    }
    q.runUntil(o.start + fromMicros(Atomics.load(s.time, 1)));
    s.slots[b + LAG] = gen > 0 ? Math.max(0, real.monotonicMs() - s.published[3]!) : 0;
    report();
    s.slots[b + SEEN] = gen;
  };
  const load = createLoad(real, (n, oldest) => {
    s.slots[b + INFLIGHT] = n;
    s.slots[b + OLDEST] = oldest;
  });

  pump();
  return {
    clock,
    load,
    pump,
    wake() {
      if (running) return;
      running = true;
      const loop = () => {
        if (!running) return;
        pump();
        const w = waitAsync(s.gen, 0, s.slots[b + SEEN]!);
        if (w.async) void w.value.then(loop);
        else setImmediate(loop);
      };
      loop();
    },
    stop() {
      running = false;
      // Wakes a pending wait so that nothing is left waiting on the shared time.
      Atomics.notify(s.gen, 0);
    },
  };
}

/** A started governor's main clock, with the governor that drives it (threads and calendar advances use it). */
export interface RunClock extends VirtualClock {
  readonly governor: Governor;
}

/** A governed virtual clock, already stepping on wall time (stop it with `clock.governor.stop()`). */
export function createVirtualClock(o: GovernorOptions): RunClock {
  const governor = createGovernor(o);
  governor.start();
  return { ...governor.clock, governor };
}
