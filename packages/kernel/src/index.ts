/** An expected failure as a value, and its two constructors. */
export { err, ok, type Result } from './result.ts';
/** The seeded random source (sfc32) that every package and the simulator share. */
export { createRng, deriveSeed, type Rng } from './rng.ts';
/** The injected time source: `now`, timers that return a cancel handle, `sleep`. */
export type { CancelTimer, Clock, TimeSource } from './clock.ts';
/** A clock for tests that moves only on `advance`, firing due timers in order. */
export { createFakeClock, type FakeClock } from './fake-clock.ts';
/** A clock whose readings are shifted by a fixed offset (a machine whose clock is wrong); timers unchanged. */
export { offsetClock } from './offset-clock.ts';
