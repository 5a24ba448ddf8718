import { upperBound } from './recording.ts';
import type { TimedEvent } from './types.ts';

/** Job flow between two provinces over a window: placements and failures per minute. */
export interface Flow {
  readonly from: string;
  readonly to: string;
  readonly perMinute: number;
  readonly failedPerMinute: number;
}

const PLACED = new Set(['job.schedule', 'job.dispatch', 'job.replace']);
const FAILED = new Set(['job.fail', 'job.lost']);

/**
 * Job-flow rates per province pair over the window (t − windowMs, t]: placements (schedule, dispatch, replace,
 * counted once per job and pair) and failures. Events without both `data.from` and `data.to` provinces are ignored.
 */
export function flowRates(events: readonly TimedEvent[], options: { t: number; windowMs: number }): Flow[] {
  const end = upperBound(events, options.t);
  const start = upperBound(events, options.t - options.windowMs);
  const placed = new Map<string, Set<string>>();
  const failed = new Map<string, number>();
  for (let i = start; i < end; i++) {
    const { event } = events[i]!;
    const placedType = PLACED.has(event.type);
    if (!placedType && !FAILED.has(event.type)) continue;
    const from = event.data.originProvince ?? event.data.from;
    const to = event.data.province ?? event.data.to;
    if (typeof from !== 'string' || typeof to !== 'string') continue;
    const key = `${from}>${to}`;
    if (placedType) {
      const jobs = placed.get(key) ?? new Set<string>();
      jobs.add(event.subject ?? event.id);
      placed.set(key, jobs);
    } else {
      failed.set(key, (failed.get(key) ?? 0) + 1);
    }
  }
  const minutes = options.windowMs / 60_000;
  const keys = new Set([...placed.keys(), ...failed.keys()]);
  return [...keys].sort().map((key) => {
    const [from, to] = key.split('>') as [string, string];
    return {
      from,
      to,
      perMinute: (placed.get(key)?.size ?? 0) / minutes,
      failedPerMinute: (failed.get(key) ?? 0) / minutes,
    };
  });
}

/** How many dots to animate for a rate: grows with the square root so a busy pair stays readable, 1 to max. */
export function dotCount(perMinute: number, max = 16): number {
  if (perMinute <= 0) return 0;
  return Math.max(1, Math.min(max, Math.round(Math.sqrt(perMinute) * 2)));
}
