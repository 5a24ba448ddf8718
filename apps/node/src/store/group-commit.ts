// The queue of a hot-path connection's units of work and when it commits (group commit), shared by the SQLite
// connection (sql.ts) and the PostgreSQL one (pg-sql.ts); each runs a group its own way (`flush`).
import { systemClock } from '@cpnet/kernel/system';

/**
 * How long (wall time, ms) an enlisted unit waits for a write to join before it commits alone. A request's own
 * write comes tens of milliseconds after its nonce on a loaded machine, and an answer asks for the commit it
 * waits for (see `durableNonceStore`), so this only bounds how long an unanswered request's nonce stays in memory.
 */
export const ENLIST_WAIT_MS = 1000;

/** Asks for a flush of a group-commit queue. */
export interface CommitTimer {
  /**
   * Asks for a flush: on the next turn of the event loop when `eager` (a `write` waits), after `ENLIST_WAIT_MS` of
   * wall time otherwise (only enlisted units wait). A flush already asked for in the same way is not asked again; an
   * eager one is asked for even while a lazy one waits (the lazy one then finds the queue empty or busy).
   */
  request(eager: boolean): void;
}

/** The timer of one queue; `flush` commits what the queue holds (and does nothing while a commit runs). */
export function commitTimer(flush: () => void): CommitTimer {
  let soon = false;
  let later = false;
  return {
    request(eager) {
      if (eager) {
        if (soon) return;
        soon = true;
        setImmediate(() => {
          soon = false;
          flush();
        });
      } else if (!later) {
        later = true;
        // Wall time: how long an enlisted unit waits for a write to share its commit with.
        systemClock.setTimeout(() => {
          later = false;
          flush();
        }, ENLIST_WAIT_MS);
      }
    },
  };
}

/** A unit of work waiting in the queue, with how to settle its promise. */
export interface QueuedUnit {
  readonly fn: () => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  /** Queued by `enlist`: it does not ask for a commit of its own. */
  readonly lazy: boolean;
}

/** What running a unit gave. */
export type UnitOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The units waiting for the next group commit. One flush runs at a time: `take` starts it, `release` ends it, and
 * `schedule` asks for the next one when units wait.
 */
export class CommitQueue {
  #units: QueuedUnit[] = [];
  /** Units in the queue that ask for a commit now (queued by `write`). */
  #eager = 0;
  #busy = false;
  readonly #timer: CommitTimer;

  /** `flush` runs a group: it calls `take`, and `release` when done (it is called while a flush runs too). */
  constructor(flush: () => void) {
    this.#timer = commitTimer(flush);
  }

  /** Queues a unit; the promise settles as `settle` says, once its group has committed (or failed). */
  add<T>(fn: () => T | Promise<T>, lazy: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#units.push({ fn, resolve: resolve as (v: unknown) => void, reject, lazy });
      if (!lazy) this.#eager++;
      this.schedule();
    });
  }

  /** Starts a flush with every unit queued; null (and nothing starts) while a flush runs or when none waits. */
  take(): QueuedUnit[] | null {
    if (this.#busy) return null;
    const units = this.#units;
    this.#units = [];
    this.#eager = 0;
    if (units.length === 0) return null;
    this.#busy = true;
    return units;
  }

  /** Puts a flush's units back at the head of the queue (its transaction could not begin); the flush still runs. */
  requeue(units: QueuedUnit[]): void {
    this.#units = [...units, ...this.#units];
    this.#eager = this.#units.filter((u) => !u.lazy).length;
  }

  /** Ends the flush (without asking for the next one: see `schedule`). */
  release(): void {
    this.#busy = false;
  }

  /** A flush on the next turn when a write waits, after ENLIST_WAIT_MS when only enlisted units do. */
  schedule(): void {
    if (this.#busy || this.#units.length === 0) return;
    this.#timer.request(this.#eager > 0);
  }
}

/** Settles each unit of a group with its outcome (the outcomes in the units' order). */
export function settle(units: readonly QueuedUnit[], outcomes: readonly UnitOutcome[]): void {
  outcomes.forEach((o, i) => (o.ok ? units[i]!.resolve(o.value) : units[i]!.reject(o.error)));
}
