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
/** States of a `job.flows` row counted as placements and as failures (each job is dispatched once where it runs). */
const FLOW_PLACED = new Set(['dispatched']);
const FLOW_FAILED = new Set(['failed', 'lost']);
const PROVINCE = /^\d{2}$/;

/**
 * Job-flow rates per province pair over the window (t − windowMs, t]. Nodes send their job movements upward as
 * `job.flows` sums (`data.flows[]`: from, to, state, count per reporting period): rows in state dispatched count as
 * placements, failed/lost as failures. Single job events (schedule, dispatch, replace — once per job and pair — and
 * fail/lost) with both provinces count too, for pairs that no `job.flows` in the window reports (recordings made
 * before nodes sent sums). Rows or events without both provinces are ignored.
 */
export function flowRates(events: readonly TimedEvent[], options: { t: number; windowMs: number }): Flow[] {
  const end = upperBound(events, options.t);
  const start = upperBound(events, options.t - options.windowMs);
  const placed = new Map<string, Set<string>>();
  const failed = new Map<string, number>();
  const summed = new Map<string, number>();
  const summedFailed = new Map<string, number>();
  for (let i = start; i < end; i++) {
    const { event } = events[i]!;
    if (event.type === 'job.flows') {
      const rows = Array.isArray(event.data.flows) ? (event.data.flows as Record<string, unknown>[]) : [];
      for (const f of rows) {
        if (typeof f.from !== 'string' || typeof f.to !== 'string') continue;
        if (!PROVINCE.test(f.from) || !PROVINCE.test(f.to) || typeof f.count !== 'number') continue;
        const key = `${f.from}>${f.to}`;
        const st = String(f.state);
        if (FLOW_PLACED.has(st)) summed.set(key, (summed.get(key) ?? 0) + f.count);
        else if (FLOW_FAILED.has(st)) summedFailed.set(key, (summedFailed.get(key) ?? 0) + f.count);
        else if (!summed.has(key)) summed.set(key, 0);
      }
      continue;
    }
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
  const keys = new Set([...placed.keys(), ...failed.keys(), ...summed.keys(), ...summedFailed.keys()]);
  return [...keys]
    .sort()
    .map((key) => {
      const [from, to] = key.split('>') as [string, string];
      const sums = summed.has(key) || summedFailed.has(key);
      return {
        from,
        to,
        perMinute: (sums ? (summed.get(key) ?? 0) : (placed.get(key)?.size ?? 0)) / minutes,
        failedPerMinute: (sums ? (summedFailed.get(key) ?? 0) : (failed.get(key) ?? 0)) / minutes,
      };
    })
    .filter((f) => f.perMinute > 0 || f.failedPerMinute > 0);
}

/** How many dots to animate for a rate: grows with the square root so a busy pair stays readable, 1 to max. */
export function dotCount(perMinute: number, max = 16): number {
  if (perMinute <= 0) return 0;
  return Math.max(1, Math.min(max, Math.round(Math.sqrt(perMinute) * 2)));
}
