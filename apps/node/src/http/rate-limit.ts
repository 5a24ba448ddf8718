import { HttpError } from './http-error.ts';

/** 429 with the seconds after which a retry may succeed (sent as `Retry-After`). */
export class RateLimitedError extends HttpError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super('RATE_LIMITED', message);
  }
}

/**
 * Counts events per key in fixed windows: a key over `limit` is refused until its window ends. Keys are bounded
 * (`maxKeys`; expired windows go first, then the oldest), so a flood of fresh keys costs memory once, not forever.
 */
export class WindowLimiter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(private readonly o: { limit: number; windowMs: number; clock: { now(): number }; maxKeys?: number }) {}

  /** Seconds until `key` may try again, or null when it is under its limit. */
  retryAfter(key: string): number | null {
    const w = this.windows.get(key);
    const now = this.o.clock.now();
    if (!w || w.endsAt <= now || w.count < this.o.limit) return null;
    return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
  }

  /** Counts one event for `key`. */
  hit(key: string): void {
    const now = this.o.clock.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      this.windows.delete(key);
      this.evict(now);
      w = { count: 0, endsAt: now + this.o.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
  }

  /** Forgets `key` (a login that succeeded). */
  reset(key: string): void {
    this.windows.delete(key);
  }

  /** Throws 429 naming `what` when `key` is over its limit. */
  check(key: string, what: string): void {
    const after = this.retryAfter(key);
    if (after !== null) throw new RateLimitedError(`too many ${what}; retry after ${after} s`, after);
  }

  private evict(now: number): void {
    const max = this.o.maxKeys ?? 100_000;
    if (this.windows.size < max) return;
    for (const [k, w] of this.windows) if (w.endsAt <= now) this.windows.delete(k);
    for (const k of this.windows.keys()) {
      if (this.windows.size < max) break;
      this.windows.delete(k);
    }
  }
}

/**
 * Runs at most `concurrency` tasks at once with at most `queue` waiting, and one per key (an account) running or
 * waiting; beyond that the caller gets 429 at once. Password hashing goes through it: scrypt takes the libuv pool,
 * and a burst of wrong logins would otherwise make a legitimate one wait behind all of them.
 */
export class BoundedQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly active = new Set<string>();

  constructor(private readonly o: { concurrency: number; queue: number }) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    if (this.active.has(key)) throw new RateLimitedError(`a login for ${key} is already in progress; retry`, 1);
    if (this.running >= this.o.concurrency && this.waiting.length >= this.o.queue)
      throw new RateLimitedError('too many logins in progress; retry', 1);
    this.active.add(key);
    try {
      if (this.running >= this.o.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
      else this.running++;
      try {
        return await task();
      } finally {
        // The slot passes straight to the next waiter, so `running` stays counted.
        const next = this.waiting.shift();
        if (next) next();
        else this.running--;
      }
    } finally {
      this.active.delete(key);
    }
  }
}
