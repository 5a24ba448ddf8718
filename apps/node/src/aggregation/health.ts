import type { ClusterState, HealthT } from './types.ts';

/** When a silent cluster turns degraded and then down (ms since its last report). */
export interface HealthTimeouts {
  readonly degradedAfterMs: number;
  readonly downAfterMs: number;
}

const RANK: Record<HealthT, number> = { healthy: 0, degraded: 1, down: 2 };

/** The worse of two health values. */
export function worse(a: HealthT, b: HealthT): HealthT {
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
): HealthT {
  if (state.lastReportAt === null || state.report === null) return 'down';
  const silent = now - state.lastReportAt;
  const bySilence: HealthT =
    silent >= timeouts.downAfterMs ? 'down' : silent >= timeouts.degradedAfterMs ? 'degraded' : 'healthy';
  return worse(state.report.metrics.health, bySilence);
}

/** Counts per health value. */
export function healthCounts(states: Iterable<Pick<ClusterState, 'health'>>): Record<HealthT, number> {
  const out: Record<HealthT, number> = { healthy: 0, degraded: 0, down: 0 };
  for (const s of states) out[s.health] += 1;
  return out;
}
