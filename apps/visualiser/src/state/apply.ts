import type {
  EventType,
  Health,
  SnapshotCluster,
  MonitorEvent,
  SnapshotLink,
  SnapshotNode,
  TopologySnapshot,
} from '@cpnet/protocol';
import type { Counters, JobView, ViewState } from './types.ts';

const HEALTH: readonly string[] = ['healthy', 'degraded', 'down'];
const NODE_LIFECYCLE: readonly string[] = [
  'applied',
  'reviewing',
  'approved',
  'rejected',
  'joint-debugging',
  'accepted',
  'online',
  'suspended',
  'revoked',
];
const MEMBER_LIFECYCLE: readonly string[] = ['registered', 'active', 'suspended', 'revoked'];

/** The job state each job event moves a job to (job.update carries its state in data.state). */
const JOB_EVENT_STATE: Readonly<Record<string, JobView['state']>> = {
  'job.submit': 'submitted',
  'job.queue': 'queued',
  'job.schedule': 'scheduled',
  'job.escalate': 'escalated',
  'job.confirm': 'confirmed',
  'job.dispatch': 'dispatched',
  'job.run': 'running',
  'job.evict': 'preempted',
  'job.fail': 'failed',
  'job.finish': 'finished',
  'job.kill': 'cancelled',
  'job.lost': 'failed',
  'job.replace': 'replaced',
};
const FINAL = new Set(['finished', 'failed', 'cancelled']);

/**
 * What the view does with each event type of the contract: `state` (changes the drawn state), `list` (kept in the
 * event list and timeline only: the snapshot holds its effect, or it is an audit fact). Typed over every EventType,
 * so a new type does not compile until the view says what it does with it; a test holds it to docs/asyncapi.json.
 */
export const EVENT_HANDLING: Readonly<Record<EventType, 'state' | 'list'>> = {
  'topology.node-added': 'state',
  'topology.node-removed': 'state',
  'topology.link': 'state',
  'link.health': 'state',
  'node.lifecycle': 'state',
  'node.health': 'state',
  'provider.registered': 'list',
  'provider.lifecycle': 'list',
  'cluster.registered': 'state',
  'cluster.lifecycle': 'state',
  'cluster.health': 'state',
  'capacity.report': 'state',
  'summary.received': 'list',
  'identifier.registered': 'state',
  'identifier.updated': 'list',
  'identifier.revoked': 'list',
  'identifier.resolved': 'state',
  'application.submitted': 'list',
  'application.reviewed': 'list',
  'application.decided': 'list',
  'joint-debug.result': 'list',
  'acceptance.flag': 'list',
  'acceptance.decided': 'list',
  'acceptance.supervision': 'list',
  'job.submit': 'state',
  'job.queue': 'state',
  'job.schedule': 'state',
  'job.escalate': 'state',
  'job.confirm': 'state',
  'job.dispatch': 'state',
  'job.run': 'state',
  'job.evict': 'state',
  'job.fail': 'state',
  'job.finish': 'state',
  'job.kill': 'state',
  'job.lost': 'state',
  'job.update': 'state',
  'job.replace': 'state',
  'job.flows': 'state',
  'security.alert': 'state',
  'security.emergency': 'list',
  'fault.injected': 'list',
  'fault.healed': 'list',
};

/** An empty state (before the first snapshot). */
export function emptyState(at = new Date(0).toISOString()): ViewState {
  return {
    t: 0,
    at,
    nodes: new Map(),
    clusters: new Map(),
    links: new Map(),
    jobs: new Map(),
    clusterGroups: [],
    unreachable: [],
    flowCounts: new Map(),
    benignAlerts: 0,
    cursor: 0,
    version: 0,
    counters: {
      identifiersRegistered: 0,
      identifiersResolved: 0,
      jobsByState: {},
      schedulingP50Ms: null,
      schedulingP99Ms: null,
      securityAlerts: 0,
    },
  };
}

/** A fresh, independently mutable state from a snapshot. */
export function stateFromSnapshot(snapshot: TopologySnapshot, t: number): ViewState {
  const counters: Counters = { ...snapshot.counters, jobsByState: { ...snapshot.counters.jobsByState } };
  return {
    t,
    at: snapshot.at,
    nodes: new Map(snapshot.nodes.map((n) => [n.code, { ...n }])),
    clusters: new Map(snapshot.clusters.map((c) => [c.id, { ...c }])),
    links: new Map(snapshot.links.map((l) => [linkKey(l.from, l.to), { ...l }])),
    jobs: new Map(snapshot.jobs.map((j) => [j.id, { ...j }])),
    clusterGroups: snapshot.clusterGroups.map((g) => ({ ...g })),
    unreachable: [...snapshot.unreachable],
    flowCounts: new Map(),
    benignAlerts: 0,
    counters,
    cursor: 0,
    version: 0,
  };
}

/** The key of a link in `ViewState.links`. */
const linkKey = (from: string, to: string): string => `${from}>${to}`;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const oneOf = (v: unknown, allowed: readonly string[]): string | undefined =>
  typeof v === 'string' && allowed.includes(v) ? v : undefined;

// Producers may name the new value `health`/`lifecycle`, `to` or `status`; accept each, ignore anything else.
function pick(data: Record<string, unknown>, keys: readonly string[], allowed: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = oneOf(data[k], allowed);
    if (v) return v;
  }
  return undefined;
}

/**
 * Applies one event to the state, in place. Unknown or incomplete events change nothing but the time:
 * the snapshots remain the source of truth, events refine the view between them.
 */
export function applyEvent(state: ViewState, event: MonitorEvent, t: number): void {
  state.t = t;
  state.at = event.at;
  state.version++;
  const d = event.data;
  const subject = event.subject ?? event.node;
  switch (event.type) {
    case 'node.health': {
      const node = state.nodes.get(str(d.node) ?? subject);
      const h = pick(d, ['health', 'to', 'status'], HEALTH);
      if (node && h) node.health = h as Health;
      return;
    }
    case 'node.lifecycle': {
      const node = state.nodes.get(str(d.node) ?? subject);
      const l = pick(d, ['lifecycle', 'to', 'status'], NODE_LIFECYCLE);
      if (node && l) node.lifecycle = l as SnapshotNode['lifecycle'];
      return;
    }
    case 'topology.node-added': {
      const n = d.node as Partial<SnapshotNode> | undefined;
      if (n && typeof n.code === 'string' && typeof n.role === 'string') {
        state.nodes.set(n.code, {
          parent: null,
          province: null,
          industry: null,
          lifecycle: 'online',
          health: 'healthy',
          url: null,
          name: n.code,
          ...n,
        } as SnapshotNode);
      }
      return;
    }
    case 'topology.node-removed':
      state.nodes.delete(str(d.node) ?? subject);
      return;
    case 'topology.link':
      return applyLink(state, d);
    case 'link.health':
      // A parent's view of the link from its child: `child` → `parent`.
      return applyLink(state, { ...d, from: str(d.child) ?? subject, to: str(d.parent) ?? event.node });
    case 'job.flows':
      return applyFlows(state, d);
    case 'cluster.registered': {
      const c = d.cluster as Partial<SnapshotCluster> | undefined;
      if (c && typeof c.id === 'string' && typeof c.province === 'string')
        state.clusters.set(c.id, { ...defaultCluster(c.id, event.node), ...c } as SnapshotCluster);
      // Nodes send the cluster's identifier as the subject with its provider and province: the cluster is counted at
      // once; its capacity, price and utilisation come with the next snapshot.
      else if (
        event.subject &&
        str(d.province) &&
        PROVINCE.test(d.province as string) &&
        !state.clusters.has(event.subject)
      )
        state.clusters.set(event.subject, {
          ...defaultCluster(event.subject, event.node),
          province: d.province as string,
          provider: str(d.provider) ?? '',
          lifecycle: 'registered',
        });
      return;
    }
    case 'cluster.health': {
      const c = state.clusters.get(str(d.cluster) ?? subject);
      const h = pick(d, ['health', 'to', 'status'], HEALTH);
      if (c && h) c.health = h as Health;
      return;
    }
    case 'cluster.lifecycle': {
      const c = state.clusters.get(str(d.cluster) ?? subject);
      const l = pick(d, ['lifecycle', 'to', 'status'], MEMBER_LIFECYCLE);
      if (c && l) c.lifecycle = l as SnapshotCluster['lifecycle'];
      return;
    }
    case 'capacity.report':
      return applyCapacity(state, str(d.cluster) ?? subject, d);
    case 'identifier.registered':
      state.counters.identifiersRegistered++;
      return;
    case 'identifier.resolved':
      state.counters.identifiersResolved++;
      return;
    case 'security.alert':
      if (d.threat === false) state.benignAlerts++;
      else state.counters.securityAlerts++;
      return;
    default:
      if (event.type.startsWith('job.')) applyJob(state, event, subject);
  }
}

function defaultCluster(id: string, node: string): SnapshotCluster {
  return {
    id,
    node,
    provider: '',
    name: id,
    province: '11',
    lifecycle: 'active',
    health: 'healthy',
    cpuCores: 0,
    cpuAvailable: 0,
    accelerators: 0,
    acceleratorsAvailable: 0,
    utilisation: 0,
    pricePerCoreHourYuan: 0,
    greenShare: 0,
  };
}

function applyLink(state: ViewState, d: Record<string, unknown>): void {
  const from = str(d.from);
  const to = str(d.to);
  if (!from || !to) return;
  const key = linkKey(from, to);
  const link: SnapshotLink = state.links.get(key) ?? { from, to, health: 'healthy', latencyMs: null };
  const h = pick(d, ['health', 'status'], HEALTH);
  if (h) link.health = h as Health;
  const latency = num(d.latencyMs);
  if (latency !== undefined) link.latencyMs = latency;
  state.links.set(key, link);
}

function applyCapacity(state: ViewState, id: string, d: Record<string, unknown>): void {
  const c = state.clusters.get(id);
  if (!c) return;
  const u = num(d.utilisation);
  if (u !== undefined) c.utilisation = Math.min(1, Math.max(0, u));
  const cpu = num(d.cpuAvailable);
  if (cpu !== undefined) c.cpuAvailable = cpu;
  const acc = num(d.acceleratorsAvailable);
  if (acc !== undefined) c.acceleratorsAvailable = acc;
  const price = num(d.pricePerCoreHourYuan);
  if (price !== undefined) c.pricePerCoreHourYuan = price;
  if (u === undefined && cpu !== undefined && c.cpuCores > 0)
    c.utilisation = Math.min(1, Math.max(0, 1 - cpu / c.cpuCores));
}

function applyFlows(state: ViewState, d: Record<string, unknown>): void {
  if (!Array.isArray(d.flows)) return;
  for (const f of d.flows as Record<string, unknown>[]) {
    const count = num(f.count);
    const st = str(f.state);
    if (count === undefined || !st) continue;
    const key = `${str(f.from) ?? ''}>${str(f.to) ?? ''}>${st}`;
    state.flowCounts.set(key, (state.flowCounts.get(key) ?? 0) + count);
  }
}

function applyJob(state: ViewState, event: MonitorEvent, subject: string): void {
  const d = event.data;
  const id = str(d.job) ?? subject;
  const next =
    event.type === 'job.update' ? (str(d.state) as JobView['state'] | undefined) : JOB_EVENT_STATE[event.type];
  let job = state.jobs.get(id);
  if (!job) {
    job = {
      id,
      tenant: str(d.tenant) ?? '',
      state: next ?? 'submitted',
      from: null,
      cluster: null,
      to: null,
      origin: null,
      owner: null,
    };
    state.jobs.set(id, job);
  } else if (next && job.state !== next) {
    bump(state.counters.jobsByState, job.state, -1);
  } else {
    mergeJob(job, d, event.node);
    return;
  }
  if (next) {
    job.state = next;
    bump(state.counters.jobsByState, next, 1);
  }
  mergeJob(job, d, event.node);
  // Final jobs leave the in-flight map (the counters keep them); the drawer still finds them through the events.
  if (FINAL.has(job.state)) state.jobs.delete(id);
}

const PROVINCE = /^\d{2}$/;

function mergeJob(job: JobView, d: Record<string, unknown>, node: string): void {
  // Nodes send originProvince/province (JobEventData); older recordings from/to. Only province codes are taken.
  const from = str(d.originProvince) ?? str(d.from);
  if (from && PROVINCE.test(from)) job.from = from;
  const to = str(d.province) ?? str(d.to);
  if (to && PROVINCE.test(to)) job.to = to;
  const origin = str(d.origin);
  if (origin) job.origin = origin;
  const owner = str(d.owner);
  if (owner) job.owner = owner;
  const cluster = str(d.cluster);
  if (cluster) job.cluster = cluster;
  const tenant = str(d.tenant);
  if (tenant) job.tenant = tenant;
  if (d.explanation !== undefined) job.explanation = d.explanation;
  job.node = node;
}

function bump(counts: Record<string, number>, key: string, by: number): void {
  counts[key] = Math.max(0, (counts[key] ?? 0) + by);
}
