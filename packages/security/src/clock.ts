import type { Clock } from '@cpnet/identifier';

export type { Clock };

/** A clock fixed at `ms`, movable by tests and the simulator. */
export function fixedClock(ms: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = ms;
  return {
    now: () => now,
    set: (t) => {
      now = t;
    },
    advance: (d) => {
      now += d;
    },
  };
}

/** Unix seconds of a clock reading. */
export const seconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
