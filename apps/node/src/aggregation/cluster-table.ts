import type { ClusterReport, Health } from '@cpnet/protocol';
import { healthAt, type HealthTimeouts } from './health.ts';
import type { ClusterSpec, ClusterState } from './types.ts';

/** A change of a cluster's health, to record as an event. */
export interface HealthChange {
  readonly cluster: string;
  readonly provider: string;
  readonly from: Health;
  readonly to: Health;
}

/** Why one entry of a report was not applied. */
export interface RejectedEntry {
  readonly cluster: string;
  readonly reason: string;
}

/**
 * The clusters a node holds, in memory, indexed by id and by provider. The database is the source of truth at
 * start-up; afterwards every change is written through the repository before it is acknowledged.
 */
export class ClusterTable {
  private readonly states = new Map<string, ClusterState>();
  private readonly byProviderIndex = new Map<string, Set<string>>();
  /**
   * What the last full sweep found: no cluster's verdict by silence changes before `until` (node time) under these
   * timeouts, so sweeps before then have nothing to do. A report moves its cluster's deadlines to a timeout from
   * then (`apply` brings `until` forward to it); a cluster put or registered, other timeouts or time running backwards
   * make the next sweep a full one.
   */
  private quiet: { until: number; at: number; degradedAfterMs: number; downAfterMs: number } | null = null;

  /** Adds or replaces a cluster (start-up load or a new registration). */
  put(state: ClusterState): void {
    this.quiet = null;
    this.states.set(state.spec.id, state);
    let set = this.byProviderIndex.get(state.spec.provider);
    if (!set) this.byProviderIndex.set(state.spec.provider, (set = new Set()));
    set.add(state.spec.id);
  }

  /** Registers a cluster that has not reported yet (down until its first report). */
  register(spec: ClusterSpec): ClusterState {
    const state: ClusterState = { spec, report: null, lastReportAt: null, health: 'down', reports: 0 };
    this.put(state);
    return state;
  }

  get(id: string): ClusterState | undefined {
    return this.states.get(id);
  }

  /** The cluster ids of one provider. */
  ofProvider(provider: string): string[] {
    return [...(this.byProviderIndex.get(provider) ?? [])];
  }

  values(): IterableIterator<ClusterState> {
    return this.states.values();
  }

  get size(): number {
    return this.states.size;
  }

  /** Checks one report entry against the table: the cluster must exist, belong to `provider` and not be revoked. */
  check(entry: Pick<ClusterReport, 'cluster'>, provider: string): string | null {
    const state = this.states.get(entry.cluster);
    if (!state) return `${entry.cluster} is not a cluster registered at this node`;
    if (state.spec.provider !== provider) return `${entry.cluster} belongs to ${state.spec.provider}, not ${provider}`;
    if (state.spec.lifecycle === 'revoked') return `${entry.cluster} is revoked`;
    return null;
  }

  /** Applies reports (already checked and durably written) at `now`; returns the health changes they caused. */
  apply(entries: readonly ClusterReport[], input: { now: number; timeouts: HealthTimeouts }): HealthChange[] {
    const changes: HealthChange[] = [];
    for (const entry of entries) {
      const state = this.states.get(entry.cluster);
      if (!state) continue;
      state.report = entry;
      state.lastReportAt = input.now;
      state.reports += 1;
      this.reassess(state, input, changes);
    }
    // A reported cluster's next deadline is a timeout from now: earlier than what the last sweep found if it had none
    // left (never reported, or silent past both).
    const q = this.quiet;
    if (q !== null && entries.length > 0)
      q.until = Math.min(q.until, input.now + Math.min(input.timeouts.degradedAfterMs, input.timeouts.downAfterMs));
    return changes;
  }

  /** Re-evaluates every cluster's health at `now` (silence turns clusters degraded, then down). */
  sweep(input: { now: number; timeouts: HealthTimeouts }): HealthChange[] {
    const changes: HealthChange[] = [];
    const { now, timeouts } = input;
    const q = this.quiet;
    if (
      q !== null &&
      now >= q.at &&
      now < q.until &&
      q.degradedAfterMs === timeouts.degradedAfterMs &&
      q.downAfterMs === timeouts.downAfterMs
    )
      return changes;
    let until = Infinity;
    for (const state of this.states.values()) {
      this.reassess(state, input, changes);
      if (state.lastReportAt === null || state.report === null) continue;
      // The next moment silence changes this cluster's verdict (degraded, then down), if any is still ahead.
      const degraded = state.lastReportAt + timeouts.degradedAfterMs;
      const down = state.lastReportAt + timeouts.downAfterMs;
      const next = degraded > now ? degraded : down > now ? down : Infinity;
      if (next < until) until = next;
    }
    this.quiet = { until, at: now, ...timeouts };
    return changes;
  }

  private reassess(
    state: ClusterState,
    input: { now: number; timeouts: HealthTimeouts },
    changes: HealthChange[],
  ): void {
    const next = healthAt(state, input.now, input.timeouts);
    if (next !== state.health) {
      changes.push({ cluster: state.spec.id, provider: state.spec.provider, from: state.health, to: next });
      state.health = next;
    }
  }
}
