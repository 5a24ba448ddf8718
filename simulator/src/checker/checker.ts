/** An operation the system acknowledged: from then on it must never be lost nor applied twice. */
export interface AckedOp {
  /** A stable key of what was written (an identifier, `report:<cluster>:<seq>`, a job id). */
  readonly key: string;
  readonly kind: string;
  /** Virtual ms when the acknowledgement arrived. */
  readonly at: number;
}

/** One observation of the final state: how many times a key is present. */
export interface Observation {
  readonly key: string;
  readonly count: number;
}

/** Final-state problems of jobs. */
interface JobFinality {
  readonly id: string;
  readonly finalStates: readonly string[];
}

/** What the checker found. */
export interface CheckReport {
  readonly acknowledged: number;
  readonly lost: readonly string[];
  readonly duplicated: readonly string[];
  readonly jobsWithoutFinalState: readonly string[];
  readonly jobsWithSeveralFinalStates: readonly string[];
  readonly failover: {
    readonly episodes: number;
    readonly unrecovered: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
  };
  readonly passed: boolean;
}

/**
 * A history checker in the spirit of Jepsen: record every acknowledged operation while the scenario runs, then
 * compare with what the system holds at the end. Acknowledged writes lost = 0, duplicated = 0, every job in exactly
 * one final state.
 */
export function createChecker() {
  const acked = new Map<string, AckedOp>();
  const episodes: Array<{ what: string; failedAt: number; recoveredAt: number | null }> = [];
  return {
    /** Records an acknowledged write. The same key acknowledged twice (a retried request) is one write. */
    ack(op: AckedOp): void {
      if (!acked.has(op.key)) acked.set(op.key, op);
    },
    /** Opens a failover episode. */
    failed(what: string, at: number): void {
      episodes.push({ what, failedAt: at, recoveredAt: null });
    },
    /** Closes the latest open episode of `what`. */
    recovered(what: string, at: number): void {
      const open = [...episodes].reverse().find((e) => e.what === what && e.recoveredAt === null);
      if (open) open.recoveredAt = at;
    },
    /** Durations (virtual ms) of the failover episodes that recovered. */
    durations(): number[] {
      return episodes.filter((e) => e.recoveredAt !== null).map((e) => e.recoveredAt! - e.failedAt);
    },
    get acknowledged(): number {
      return acked.size;
    },
    /**
     * Compares the acknowledged history with the final observations. `unjudged`: keys acknowledged after the
     * observations were taken, so their absence says nothing (they are neither lost nor counted as acknowledged).
     */
    verify(final: {
      observations: Iterable<Observation>;
      jobs?: Iterable<JobFinality>;
      unjudged?: ReadonlySet<string>;
    }): CheckReport {
      const seen = new Map<string, number>();
      for (const o of final.observations) seen.set(o.key, (seen.get(o.key) ?? 0) + o.count);
      const skip = final.unjudged ?? new Set<string>();
      const lost = [...acked.keys()].filter((k) => !skip.has(k) && (seen.get(k) ?? 0) === 0);
      const duplicated = [...seen.entries()].filter(([, n]) => n > 1).map(([k]) => k);
      const none: string[] = [];
      const several: string[] = [];
      for (const j of final.jobs ?? []) {
        if (j.finalStates.length === 0) none.push(j.id);
        else if (j.finalStates.length > 1) several.push(j.id);
      }
      const durations = episodes
        .filter((e) => e.recoveredAt !== null)
        .map((e) => e.recoveredAt! - e.failedAt)
        .sort((a, b) => a - b);
      const q = (p: number) =>
        durations.length ? durations[Math.min(durations.length - 1, Math.floor(p * durations.length))]! : null;
      return {
        acknowledged: acked.size - [...skip].filter((k) => acked.has(k)).length,
        lost,
        duplicated,
        jobsWithoutFinalState: none,
        jobsWithSeveralFinalStates: several,
        failover: {
          episodes: episodes.length,
          unrecovered: episodes.filter((e) => e.recoveredAt === null).length,
          p50Ms: q(0.5),
          p99Ms: q(0.99),
        },
        passed: lost.length === 0 && duplicated.length === 0 && none.length === 0 && several.length === 0,
      };
    },
  };
}

/** A history checker. */
export type Checker = ReturnType<typeof createChecker>;
