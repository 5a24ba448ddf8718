import type { TimeSource } from '@cpnet/kernel';

/**
 * What resolution remembers of the next hops it forwards to: a hop that did not answer (unreachable, timed out, 5xx)
 * is left alone for `downMs` of wall time, so while it is down the copies this node holds answer at once instead of
 * each query waiting for it again. The first answer after that clears it.
 */
export interface HopHealth {
  /** True while `endpoint` failed within the last `downMs`. */
  isDown(endpoint: string): boolean;
  /** Notes that `endpoint` did not answer. */
  failed(endpoint: string): void;
  /** Notes that `endpoint` answered. */
  answered(endpoint: string): void;
}

/** Creates the memory on the wall clock (a hop's outage is real time, whatever a simulation's speed). */
export function createHopHealth(wall: TimeSource, downMs: number): HopHealth {
  const downUntil = new Map<string, number>();
  return {
    isDown(endpoint) {
      const until = downUntil.get(endpoint);
      if (until === undefined) return false;
      if (until > wall.now()) return true;
      downUntil.delete(endpoint);
      return false;
    },
    failed(endpoint) {
      if (downMs > 0) downUntil.set(endpoint, wall.now() + downMs);
    },
    answered(endpoint) {
      downUntil.delete(endpoint);
    },
  };
}
