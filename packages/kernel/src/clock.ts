/** Stops a timer; calling it again, or after the timer fired, does nothing. */
export type CancelTimer = () => void;

/**
 * What code that only reads the time needs. Pure functions (serials, token expiry, signature windows) take this, so a
 * test can pass `{ now: () => ms }`.
 */
export interface TimeSource {
  /** The current time in Unix milliseconds. */
  now(): number;
}

/**
 * The one source of time and timers. Injected everywhere: `systemClock` (from `@cpnet/kernel/system`) in production,
 * `createFakeClock` in tests, a virtual clock in the simulator.
 */
export interface Clock extends TimeSource {
  /** Runs `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): CancelTimer;
  /** Runs `fn` every `ms` (the first time `ms` from now) until cancelled. */
  setInterval(fn: () => void, ms: number): CancelTimer;
  /** Resolves `ms` from now. */
  sleep(ms: number): Promise<void>;
}
