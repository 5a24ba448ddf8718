import { formatIdentifier } from '@cpnet/identifier';
import type { Clock } from '@cpnet/kernel';
import {
  formatTime,
  JobCancelRelay,
  JobRelay,
  PlacementRequest,
  RegisterCluster,
  SchedulingFigures,
  SchedulingSummary,
  SelectionRelay,
  TaskTemplate,
  type ClusterReport,
  type GatewayAck,
} from '@cpnet/protocol';
import { ClusterTable, type HealthChange } from '../aggregation/cluster-table.ts';
import type { HealthTimeouts } from '../aggregation/health.ts';
import type { ClusterFacts } from './mapping.ts';
import { memoryStore } from './memory-store.ts';
import type { DispatchMsg, GatewayPort, PeerPort } from './ports.ts';
import { SchedulingService } from './service.ts';

let serial = 1000;
/** A valid identifier of `kind` under `prefix`. */
function idOf(prefix: string, kind: 'CL' | 'JB' | 'PV'): string {
  const r = formatIdentifier({ prefix, kind, serial: String(serial++) });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** A registered cluster's facts. */
export function facts(
  node: string,
  over: { province?: string; cpuCores?: number; cards?: number; price?: number; id?: string } = {},
): ClusterFacts {
  const capacity = {
    cpuCores: over.cpuCores ?? 64,
    memoryGib: 512,
    storageGib: 1000,
    bandwidthGbps: 10,
    accelerators: over.cards ? [{ model: 'A800', count: over.cards, fp16Tflops: 312, fp32Tflops: 19.5 }] : [],
  };
  const registration = RegisterCluster.parse({
    provider: idOf(node, 'PV'),
    name: 'c',
    province: over.province ?? node.split('.')[1] ?? '11',
    city: 'x',
    resourceClass: '403',
    arch: 'x86_64',
    securityLevel: 3,
    capacity,
    price: { perCoreHourYuan: over.price ?? 0.1, perCardHourYuan: 10 },
    pue: 1.2,
    greenShare: 0.5,
    carbonIntensity: 500,
  });
  return {
    id: over.id ?? idOf(node, 'CL'),
    node,
    provider: registration.provider,
    registration,
    lifecycle: 'active',
    health: 'healthy',
  };
}

/** A report of a cluster with its full capacity free. */
export function fullReport(f: ClusterFacts): ClusterReport {
  const v = { ...f.registration.capacity, accelerators: f.registration.capacity.accelerators };
  return {
    cluster: f.id,
    k1: v,
    k2: v,
    price: f.registration.price,
    pue: 1.2,
    greenShare: 0.5,
    metrics: { cpuUtil: 0, memoryUtil: 0, acceleratorUtil: 0, latencyMs: 5, health: 'healthy', runningJobs: 0 },
  };
}

/** A gateway that accepts (or refuses, per cluster) and remembers what it was sent. */
function fakeGateway(): GatewayPort & {
  sent: DispatchMsg[];
  cancels: { cluster: string; job: string; reason: string }[];
  refuse: Set<string>;
  /** Clusters whose gateway is away: a cancel for them is not heard (UNAVAILABLE). */
  away: Set<string>;
} {
  const sent: DispatchMsg[] = [],
    cancels: { cluster: string; job: string; reason: string }[] = [],
    refuse = new Set<string>(),
    away = new Set<string>();
  return {
    sent,
    cancels,
    refuse,
    away,
    dispatch: (m) => {
      sent.push(m);
      return Promise.resolve<GatewayAck>(
        refuse.has(m.cluster) ? { ok: false, error: { code: 'CONFLICT', message: 'no room' } } : { ok: true },
      );
    },
    cancel: (cluster, m) => {
      if (away.has(cluster))
        return Promise.resolve<GatewayAck>({ ok: false, error: { code: 'UNAVAILABLE', message: 'gateway away' } });
      cancels.push({ cluster, job: m.job, reason: m.reason });
      return Promise.resolve<GatewayAck>({ ok: true });
    },
  };
}

/** Lets relayed deliveries arrive. */
export const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `ok()` holds, checking every 10 ms of wall time, for at most `timeoutMs` of wall time (relays travel
 * through promises and a loaded machine can take longer than a fixed pause); false if it never held.
 */
export async function until(ok: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 10) {
    if (await ok()) return true;
    await settle(10);
  }
  return ok();
}

/** A template. */
export const template = (over: Record<string, unknown> = {}): TaskTemplate =>
  TaskTemplate.parse({ demand: { cpuCores: 16, memoryGib: 64 }, durationHours: 1, ...over });

/**
 * In-process hierarchy: services joined by a peer port that calls each other directly (through the wire schemas).
 * A child sends its figures as the one summary upward (`onFigures`), or as a 1.0 `SchedulingSummary` (`onSummary`)
 * when it is named in `legacy`.
 */
export function hierarchy(
  spec: Record<string, string | null>,
  o: {
    clock: Clock;
    options?: ConstructorParameters<typeof SchedulingService>[0]['options'];
    legacy?: readonly string[];
  },
) {
  const services = new Map<string, SchedulingService>();
  const gateways = new Map<string, ReturnType<typeof fakeGateway>>();
  const down = new Set<string>();
  const stores = new Map<string, ReturnType<typeof memoryStore>>();
  /** Every event the services emitted, in order. */
  const events: { node: string; type: string; data?: Record<string, unknown> }[] = [];
  for (const [code, parent] of Object.entries(spec)) {
    const peers: PeerPort = {
      place: async (to, body) => {
        const s = services.get(to);
        if (!s || down.has(to))
          return { ok: false, refusals: [{ node: to, reason: 'unreachable' }], summary: `${to} unreachable` };
        return s.onPlacement(PlacementRequest.parse(body), code);
      },
      select: async (to, body) =>
        down.has(to) ? null : (services.get(to)?.onSelectionRelay(SelectionRelay.parse(body)) ?? null),
      // Durable deliveries go through the outbox in a node: asynchronous, after the sender's work.
      relay: (to, body) => {
        if (!down.has(to)) setTimeout(() => void services.get(to)?.onRelay(JobRelay.parse(body)), 1);
        return Promise.resolve();
      },
      cancel: (to, body) => {
        if (!down.has(to)) setTimeout(() => void services.get(to)?.onCancelRelay(JobCancelRelay.parse(body), code), 1);
        return Promise.resolve();
      },
      summary: async (figures) => {
        const above = parent ? services.get(parent) : undefined;
        if (!above || down.has(code)) return null;
        if (o.legacy?.includes(code))
          above.onSummary(SchedulingSummary.parse({ node: code, at: formatTime(o.clock.now()), ...figures }), code);
        else above.onFigures(code, SchedulingFigures.parse(figures));
        return above.hierarchyCeiling();
      },
      metering: async () => undefined,
    };
    const gw = fakeGateway();
    const store = memoryStore();
    gateways.set(code, gw);
    stores.set(code, store);
    services.set(
      code,
      new SchedulingService({
        code,
        parent,
        clock: o.clock,
        store,
        gateways: gw,
        peers,
        emit: (type, detail) => void events.push({ node: code, type, data: detail.data }),
        newJobId: () => Promise.resolve(idOf(code, 'JB')),
        options: { tickMs: 1e9, summaryMs: 1e9, ...o.options },
      }),
    );
  }
  return {
    services,
    gateways,
    stores,
    down,
    events,
    /** Each non-root node sends its summary up (children before parents). */
    async summaries() {
      const order = Object.keys(spec).sort((a, b) => b.length - a.length);
      for (const c of order) await (services.get(c) as unknown as { pushSummaries(): Promise<void> }).pushSummaries();
    },
  };
}

/**
 * The aggregation's liveness judge — its `ClusterTable` (reports applied, the silence sweep) — feeding one service
 * the way `node-services.ts` does: registrations, reports, then the table's health changes. The sweep runs on the
 * service's clock every `sweepMs` (node time) once `start` is called.
 */
export function judge(service: SchedulingService, o: { clock: Clock; timeouts: HealthTimeouts; sweepMs?: number }) {
  const table = new ClusterTable();
  const tell = async (changes: readonly HealthChange[], cause: string) => {
    for (const c of changes) await service.clusterHealth(c.cluster, c.to, `${c.cluster} ${c.to} (${cause})`);
  };
  const j = {
    table,
    /** Registers a cluster (down until its first report, as in the aggregation). */
    add(f: ClusterFacts): void {
      const reg = f.registration;
      table.register({
        id: f.id,
        node: f.node,
        provider: f.provider,
        name: reg.name,
        province: reg.province,
        city: reg.city,
        industry: reg.industry ?? null,
        resourceClass: reg.resourceClass,
        capacity: reg.capacity,
        price: reg.price,
        pue: reg.pue,
        greenShare: reg.greenShare,
        lifecycle: f.lifecycle,
      });
      service.upsertCluster({ ...f, health: 'down' });
    },
    /** A gateway's reports, applied now: figures to the view, then the judge's verdict. */
    async report(reports: readonly ClusterReport[]): Promise<void> {
      const now = o.clock.now();
      const changes = table.apply(reports, { now, timeouts: o.timeouts });
      for (const r of reports) service.onReport([r], now);
      await tell(changes, 'report');
    },
    /** One sweep of the silence rule now. */
    sweep: () => tell(table.sweep({ now: o.clock.now(), timeouts: o.timeouts }), 'silence'),
    /** Sweeps every `sweepMs` of node time; returns the stop function. */
    start: () => o.clock.setInterval(() => void j.sweep(), o.sweepMs ?? 250),
  };
  return j;
}
