import { createGatewayConnection, type GatewayConnection } from '@cpnet/client';
import type { TestProvider } from './providers.ts';

/** A cluster the gateway serves: its identifier and the body it was registered with. */
export interface SimCluster {
  readonly id: string;
  readonly body: { capacity: { cpuCores: number }; price: unknown } & Record<string, unknown>;
}

/** A dispatched job as the simulated gateway runs it. */
interface Running {
  job: string;
  cluster: string;
  attempt: number;
  cores: number;
  cards: number;
  model: string | null;
}

/**
 * A provider gateway over part 2's real socket.io client: reports K1 and K2 (K1 less the jobs it runs) for its
 * clusters every `everyMs`, accepts dispatches (or refuses those `refuse` says no to), reports them running, and
 * stops them on cancel. `silence(cluster)` stops reporting one cluster (a failure), `resume` brings it back;
 * `health(cluster, h)` reports it with that health from then on (a gateway that says `down` and keeps reporting).
 */
export interface SimGateway {
  readonly conn: GatewayConnection;
  readonly running: Map<string, Running>;
  readonly dispatched: { job: string; cluster: string; attempt: number; traceparent?: string }[];
  readonly cancels: { job: string; reason: string }[];
  refuse: (order: { cluster: string; template: { name?: string } }) => boolean;
  silence(cluster: string): void;
  resume(cluster: string): void;
  health(cluster: string, health: 'healthy' | 'degraded' | 'down'): void;
  finish(job: string, state?: 'finished' | 'failed'): Promise<void>;
  stop(): void;
}

/** Starts a simulated gateway for `p`'s clusters at the node `url` (code `node`). */
export async function startSimGateway(o: {
  url: string;
  node: string;
  provider: TestProvider;
  clusters: readonly SimCluster[];
  everyMs?: number;
}): Promise<SimGateway> {
  const running = new Map<string, Running>();
  const silent = new Set<string>();
  const healths = new Map<string, 'healthy' | 'degraded' | 'down'>();
  const dispatched: SimGateway['dispatched'] = [];
  const cancels: SimGateway['cancels'] = [];
  const handlers = {
    dispatch(order: {
      job: string;
      cluster: string;
      attempt: number;
      template: { name?: string; demand: { cpuCores: number; accelerators?: { model?: string; count: number } } };
      replicas: number;
      traceparent?: string;
    }) {
      if (sim.refuse(order))
        return { ok: false as const, error: { code: 'CONFLICT', message: 'no room on this cluster after all' } };
      dispatched.push({
        job: order.job,
        cluster: order.cluster,
        attempt: order.attempt,
        ...(order.traceparent ? { traceparent: order.traceparent } : {}),
      });
      running.set(order.job, {
        job: order.job,
        cluster: order.cluster,
        attempt: order.attempt,
        cores: order.template.demand.cpuCores * order.replicas,
        cards: (order.template.demand.accelerators?.count ?? 0) * order.replicas,
        model: order.template.demand.accelerators?.model ?? null,
      });
      setTimeout(() => {
        if (running.get(order.job)?.attempt === order.attempt)
          void conn.jobUpdate({ job: order.job, cluster: order.cluster, attempt: order.attempt, state: 'running' });
      }, 10);
      return { ok: true as const };
    },
    cancel(order: { job: string; reason: string }) {
      cancels.push({ job: order.job, reason: order.reason });
      running.delete(order.job);
      return { ok: true as const };
    },
  };
  const conn = createGatewayConnection({
    baseUrl: o.url,
    node: o.node,
    signer: { keyid: o.provider.id, privateKey: o.provider.keys.privateKey },
    backoff: { initialMs: 50, maxMs: 500 },
    handlers: handlers as never,
  });
  const sim: SimGateway = {
    get conn() {
      return conn;
    },
    running,
    dispatched,
    cancels,
    refuse: () => false,
    silence: (c) => {
      silent.add(c);
    },
    resume: (c) => {
      silent.delete(c);
    },
    health: (c, h) => {
      healths.set(c, h);
    },
    async finish(job, state = 'finished') {
      const r = running.get(job);
      if (!r) throw new Error(`the gateway does not run ${job}`);
      running.delete(job);
      await conn.jobUpdate({ job, cluster: r.cluster, attempt: r.attempt, state });
    },
    stop() {
      clearInterval(timer);
      conn.close();
    },
  };
  await conn.connect();
  const report = async () => {
    const entries = o.clusters
      .filter((c) => !silent.has(c.id))
      .map((c) => {
        const mine = [...running.values()].filter((r) => r.cluster === c.id);
        const used = mine.reduce((a, r) => a + r.cores, 0);
        const k1 = c.body.capacity as { cpuCores: number; accelerators?: { model: string; count: number }[] };
        const accelerators = (k1.accelerators ?? []).map((a) => ({
          ...a,
          count: Math.max(
            0,
            a.count - mine.filter((r) => r.model === null || r.model === a.model).reduce((x, r) => x + r.cards, 0),
          ),
        }));
        return {
          cluster: c.id,
          k1,
          k2: { ...k1, cpuCores: Math.max(0, k1.cpuCores - used), accelerators },
          price: c.body.price,
          pue: 1.25,
          greenShare: 0.7,
          metrics: {
            cpuUtil: used / k1.cpuCores,
            memoryUtil: 0.1,
            acceleratorUtil: 0,
            latencyMs: 4,
            health: healths.get(c.id) ?? 'healthy',
            runningJobs: running.size,
          },
        } as never;
      });
    if (entries.length > 0) await conn.report(entries).catch(() => undefined);
  };
  await report();
  const timer = setInterval(() => void report(), o.everyMs ?? 200);
  return sim;
}
