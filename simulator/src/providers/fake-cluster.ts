import type { ClusterReport, Demand, JobUpdate } from '@cpnet/protocol';
import type { z } from 'zod';
import type { SimClock, TimerHandle } from '../clock/virtual-clock.ts';
import type { PlannedCluster } from '../topology/expand.ts';

type Entry = Omit<z.input<typeof ClusterReport>, 'cluster'>;
type Update = Pick<z.input<typeof JobUpdate>, 'job' | 'attempt' | 'state' | 'detail' | 'progress'>;

/** What a dispatch asks a cluster to run. */
export interface RunRequest {
  readonly job: string;
  readonly attempt: number;
  readonly demand: Demand;
  readonly replicas: number;
  readonly durationHours: number;
}

interface Running {
  readonly req: RunRequest;
  readonly cores: number;
  readonly memoryGib: number;
  readonly cards: number;
  readonly startedAt: number;
  timer: TimerHandle;
}

/** Random failures and repairs of a cluster: mean time between failures and mean time to repair (virtual ms). */
export interface ChurnProfile {
  readonly mtbfMs: number;
  readonly mttrMs: number;
}

/**
 * A fake compute cluster: runs jobs on the virtual clock (a job takes its duration in virtual time), fails and
 * recovers on command or by a churn profile, and reports K1 (total) and K2 (available) capacity like a real one.
 */
export function createFakeCluster(options: {
  id: string;
  plan: PlannedCluster;
  clock: SimClock;
  random: () => number;
  onUpdate: (u: Update) => void;
}) {
  const { plan, clock } = options;
  const running = new Map<string, Running>();
  let up = true;
  let churnTimer: TimerHandle | null = null;
  /** The network distance to the cluster, drawn once: a figure that does not change from report to report. */
  const latencyMs = Math.round((1 + options.random() * 4) * 10) / 10;
  /** The last entry built and the state it was built in: the same object while nothing changed (see `report`). */
  let built: { readonly version: number; readonly entry: Entry } | null = null;
  let version = 0;
  const cards = plan.accelerators.reduce((n, a) => n + a.count, 0);
  const used = () => {
    let cores = 0;
    let memoryGib = 0;
    let usedCards = 0;
    for (const r of running.values()) {
      cores += r.cores;
      memoryGib += r.memoryGib;
      usedCards += r.cards;
    }
    return { cores, memoryGib, cards: usedCards };
  };
  const vector = (free: { cores: number; memoryGib: number; cards: number }) => ({
    cpuCores: free.cores,
    memoryGib: free.memoryGib,
    storageGib: plan.cpuCores * 100,
    bandwidthGbps: 100,
    accelerators: plan.accelerators.map((a) => ({
      model: a.model,
      kind: 'GPU' as const,
      count: Math.round((a.count * free.cards) / Math.max(1, cards)),
      memoryGib: 64,
      fp16Tflops: a.fp16Tflops,
      fp32Tflops: a.fp32Tflops,
    })),
  });

  const cluster = {
    id: options.id,
    get up(): boolean {
      return up;
    },
    get runningJobs(): number {
      return running.size;
    },
    /** Starts a job if it fits and the cluster is up; the answer is the gateway's acknowledgement. */
    start(req: RunRequest): { accepted: true } | { accepted: false; reason: string } {
      if (!up) return { accepted: false, reason: `cluster ${options.id} is down` };
      if (running.has(req.job)) return { accepted: true };
      const need = {
        cores: req.demand.cpuCores * req.replicas,
        memoryGib: req.demand.memoryGib * req.replicas,
        cards: (req.demand.accelerators?.count ?? 0) * req.replicas,
      };
      const u = used();
      if (
        u.cores + need.cores > plan.cpuCores ||
        u.memoryGib + need.memoryGib > plan.memoryGib ||
        u.cards + need.cards > cards
      ) {
        return {
          accepted: false,
          reason: `cluster ${options.id} lacks capacity (cores ${plan.cpuCores - u.cores} free, ${need.cores} asked)`,
        };
      }
      const timer = clock.after(req.durationHours * 3_600_000, () => {
        running.delete(req.job);
        version += 1;
        options.onUpdate({ job: req.job, attempt: req.attempt, state: 'finished', progress: 1 });
      });
      running.set(req.job, { req, ...need, startedAt: clock.now(), timer });
      version += 1;
      options.onUpdate({ job: req.job, attempt: req.attempt, state: 'running', progress: 0 });
      return { accepted: true };
    },
    /** Stops a job (cancelled, preempted or replaced); true when it was running here. */
    cancel(job: string): boolean {
      const r = running.get(job);
      if (!r) return false;
      r.timer.cancel();
      running.delete(job);
      version += 1;
      options.onUpdate({ job, attempt: r.req.attempt, state: 'cancelled' });
      return true;
    },
    /**
     * Fails the cluster: it goes dark — its running jobs are lost and it stops reporting, so nothing is said about
     * them (a dead cluster cannot speak); the node must notice the silence and re-place them. With `report`, the
     * gateway reports each job failed instead (a cluster that crashes its jobs but stays reachable).
     */
    fail(reason = 'cluster failure', o: { report?: boolean } = {}): void {
      if (!up) return;
      up = false;
      for (const [job, r] of running) {
        r.timer.cancel();
        if (o.report) options.onUpdate({ job, attempt: r.req.attempt, state: 'failed', detail: reason });
      }
      running.clear();
      version += 1;
    },
    recover(): void {
      up = true;
      version += 1;
    },
    /** Starts random failures and repairs. */
    churn(profile: ChurnProfile): void {
      const exp = (mean: number) => -Math.log(1 - options.random()) * mean;
      const next = () => {
        churnTimer = clock.after(exp(up ? profile.mtbfMs : profile.mttrMs), () => {
          if (up) cluster.fail('churn');
          else cluster.recover();
          next();
        });
      };
      next();
    },
    /**
     * This cluster's entry in its gateway's report, or null while it is down (a down cluster stops reporting). The
     * same object while nothing changed since it was built (the gateway then names the cluster unchanged); a new one
     * after a job starts, ends or is cancelled, or the cluster fails or recovers.
     */
    report(): Entry | null {
      if (!up) return null;
      if (built?.version === version) return built.entry;
      const u = used();
      const free = { cores: plan.cpuCores - u.cores, memoryGib: plan.memoryGib - u.memoryGib, cards: cards - u.cards };
      const entry: Entry = {
        k1: vector({ cores: plan.cpuCores, memoryGib: plan.memoryGib, cards }),
        k2: vector(free),
        price: { perCoreHourYuan: plan.pricePerCoreHourYuan, perCardHourYuan: plan.pricePerCardHourYuan },
        pue: plan.pue,
        greenShare: plan.greenShare,
        metrics: {
          cpuUtil: u.cores / Math.max(1, plan.cpuCores),
          memoryUtil: u.memoryGib / Math.max(1, plan.memoryGib),
          acceleratorUtil: cards ? u.cards / cards : 0,
          latencyMs,
          health: 'healthy',
          runningJobs: running.size,
        },
      };
      built = { version, entry };
      return entry;
    },
    /** Stops timers (the simulation is over). */
    stop(): void {
      churnTimer?.cancel();
      for (const r of running.values()) r.timer.cancel();
    },
  };
  return cluster;
}

/** A fake cluster. */
export type FakeCluster = ReturnType<typeof createFakeCluster>;
