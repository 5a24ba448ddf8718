import type { Health } from '@cpnet/protocol';
import type { ClusterState } from './types.ts';

/** When a silent cluster turns degraded and then down (ms since its last report). */
export interface HealthTimeouts {
  readonly degradedAfterMs: number;
  readonly downAfterMs: number;
}

const RANK: Record<Health, number> = { healthy: 0, degraded: 1, down: 2 };

/** The worse of two health values. */
export function worse(a: Health, b: Health): Health {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * A cluster's health at `now`: down before its first report; otherwise what its gateway reports, made worse by
 * silence — degraded after `degradedAfterMs` without a report, down after `downAfterMs`.
 */
export function healthAt(
  state: Pick<ClusterState, 'report' | 'lastReportAt'>,
  now: number,
  timeouts: HealthTimeouts,
): Health {
  if (state.lastReportAt === null || state.report === null) return 'down';
  const silent = now - state.lastReportAt;
  const bySilence: Health =
    silent >= timeouts.downAfterMs ? 'down' : silent >= timeouts.degradedAfterMs ? 'degraded' : 'healthy';
  return worse(state.report.metrics.health, bySilence);
}

/** Counts per health value. */
export function healthCounts(states: Iterable<Pick<ClusterState, 'health'>>): Record<Health, number> {
  const out: Record<Health, number> = { healthy: 0, degraded: 0, down: 0 };
  for (const s of states) out[s.health] += 1;
  return out;
}
