import { residencyVerdict } from '@cpnet/protocol';
import { ARCHS, HEALTHS, LIFECYCLES, PROVINCE_CODES, type ClusterIndex } from './cluster-index.ts';
import type { Task } from './model.ts';
import { modelAt, type Need } from './need.ts';

/** Constraints a cluster can fail, in the order they are checked; index = reason code (0 = not excluded). */
export const CONSTRAINTS = [
  'none',
  'lifecycle',
  'health',
  'arch',
  'accelerator',
  'residency',
  'security',
  'cpu',
  'memory',
  'accelerator-capacity',
  'storage',
  'bandwidth',
  'latency',
  'price',
  'deadline',
  'excluded-by-caller',
  'plugin',
  'score',
] as const;
/** A constraint that excluded a cluster. */
export type Constraint = Exclude<(typeof CONSTRAINTS)[number], 'none'>;

/** Reason codes as constants for the hot loop. */
export const R = {
  lifecycle: 1,
  health: 2,
  arch: 3,
  accelerator: 4,
  residency: 5,
  security: 6,
  cpu: 7,
  memory: 8,
  cards: 9,
  storage: 10,
  bandwidth: 11,
  latency: 12,
  price: 13,
  deadline: 14,
  caller: 15,
  plugin: 16,
  score: 17,
} as const;

/** Why one cluster was excluded, with the values compared. */
export interface ExcludedCluster {
  readonly clusterId: string;
  readonly constraint: Constraint;
  readonly message: string;
  readonly required?: number | string;
  readonly actual?: number | string;
}

/** Context a reason needs besides the index row. */
export interface ExplainContext {
  readonly task: Task;
  readonly need: Need;
  readonly now: number | undefined;
  /** Reasons given by filter plugins, by row. */
  readonly pluginReasons?: ReadonlyMap<number, string>;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** A capacity exclusion: what the task needs (replicas × per replica) against what is free. */
function capacity(
  id: string,
  constraint: Constraint,
  v: { what: string; per: number; avail: number; replicas: number; ctx: ExplainContext },
): ExcludedCluster {
  const need = v.per * v.replicas;
  // The part before the availability is the same for every cluster of one decision: built once.
  const cache = cacheOf(v.ctx);
  // Keyed by what is counted ('CPU cores', 'A800 cards' …): an any-model task may count other cards elsewhere.
  let head = cache.capacity.get(v.what);
  if (head === undefined) {
    head = 'needs ' + fmt(need) + ' ' + v.what + ' (' + v.replicas + ' × ' + fmt(v.per) + '), ';
    cache.capacity.set(v.what, head);
  }
  return { clusterId: id, constraint, required: need, actual: v.avail, message: head + fmt(v.avail) + ' available' };
}

/** Messages that depend on one small value (lifecycle, security level) or on the decision alone, built once. */
interface MessageCache {
  residency: string[];
  capacity: Map<string, string>;
  small: Map<number, string>;
}
const caches = new WeakMap<Need, MessageCache>();
function cacheOf(ctx: ExplainContext): MessageCache {
  let c = caches.get(ctx.need);
  if (!c) caches.set(ctx.need, (c = { residency: [], capacity: new Map(), small: new Map() }));
  return c;
}
/** A message keyed by (reason code, small value). */
function small(ctx: ExplainContext, key: { code: number; value: number }, build: () => string): string {
  const c = cacheOf(ctx),
    k = key.code * 1024 + key.value;
  let m = c.small.get(k);
  if (m === undefined) c.small.set(k, (m = build()));
  return m;
}

// Residency messages depend only on the province: one verdict per province and task, not per cluster.
function residencyMessage(ctx: ExplainContext, province: string, p: number): string {
  const cache = cacheOf(ctx).residency;
  let m = cache[p];
  if (m === undefined) {
    const v = residencyVerdict(ctx.task.constraints?.residency, province);
    m = cache[p] = v.allowed ? 'residency' : v.reason;
  }
  return m;
}

/** Builds the explanation of reason `code` for `row`, reading the values from the index. */
export function describeExclusion(
  ix: ClusterIndex,
  at: { row: number; code: number },
  ctx: ExplainContext,
): ExcludedCluster {
  const { need, task } = ctx;
  const { row, code } = at;
  const id = ix.ids[row]!;
  const replicas = need.minReplicas;
  switch (code) {
    case R.lifecycle:
      return {
        clusterId: id,
        constraint: 'lifecycle',
        required: 'active',
        actual: LIFECYCLES[ix.life[row]!]!,
        message: small(
          ctx,
          { code, value: ix.life[row]! },
          () => `lifecycle is ${LIFECYCLES[ix.life[row]!]}, not active`,
        ),
      };
    case R.health:
      return { clusterId: id, constraint: 'health', actual: HEALTHS[ix.health[row]!]!, message: 'cluster is down' };
    case R.arch:
      return {
        clusterId: id,
        constraint: 'arch',
        required: ARCHS[need.arch]!,
        actual: ARCHS[ix.arch[row]!]!,
        message: `architecture ${ARCHS[ix.arch[row]!]}, task needs ${ARCHS[need.arch]}`,
      };
    case R.accelerator: {
      const want = task.demand.accelerator?.model ?? `any model ≥ ${need.minFp16} TFLOPS FP16`;
      const have = ix.models.filter((_, m) => ix.acc[m]!.cap[row]! > 0).join(', ') || 'none';
      return {
        clusterId: id,
        constraint: 'accelerator',
        required: want,
        actual: have,
        message: `no ${want} accelerators (has ${have})`,
      };
    }
    case R.residency: {
      const p = ix.prov[row]!,
        province = PROVINCE_CODES[p]!;
      return { clusterId: id, constraint: 'residency', actual: province, message: residencyMessage(ctx, province, p) };
    }
    case R.security:
      return {
        clusterId: id,
        constraint: 'security',
        required: need.minSecurity,
        actual: ix.security[row]!,
        message: small(
          ctx,
          { code, value: ix.security[row]! },
          () => `security level ${ix.security[row]} < required ${need.minSecurity}`,
        ),
      };
    case R.cpu:
      return capacity(id, 'cpu', { what: 'CPU cores', per: need.cpu, avail: ix.cpuAvail[row]!, replicas, ctx });
    case R.memory:
      return capacity(id, 'memory', { what: 'GiB memory', per: need.mem, avail: ix.memAvail[row]!, replicas, ctx });
    case R.cards: {
      const m = modelAt(ix, need, row);
      return capacity(id, 'accelerator-capacity', {
        what: `${m >= 0 ? ix.models[m] : ''} cards`,
        per: need.cards,
        avail: m >= 0 ? ix.acc[m]!.avail[row]! : 0,
        replicas,
        ctx,
      });
    }
    case R.storage:
      return capacity(id, 'storage', { what: 'GiB storage', per: need.sto, avail: ix.stoAvail[row]!, replicas, ctx });
    case R.bandwidth:
      return capacity(id, 'bandwidth', { what: 'Gbit/s', per: need.bw, avail: ix.bwAvail[row]!, replicas, ctx });
    case R.latency: {
      const lat = ix.latency[need.userRow]![row]!;
      return {
        clusterId: id,
        constraint: 'latency',
        required: need.maxLatency,
        actual: lat,
        message: `latency ${fmt(lat)} ms from ${task.constraints?.userProvince} > max ${need.maxLatency} ms`,
      };
    }
    case R.price: {
      const p = need.replicas * (need.cpu * ix.priceCore[row]! + need.cards * ix.priceCard[row]!);
      return {
        clusterId: id,
        constraint: 'price',
        required: need.maxPrice,
        actual: p,
        message: `price ${fmt(p)} 元/h > max ${need.maxPrice} 元/h`,
      };
    }
    case R.deadline: {
      const end = (ctx.now ?? 0) + ix.queueWaitMin[row]! * 60_000 + need.hours * 3_600_000;
      return {
        clusterId: id,
        constraint: 'deadline',
        required: need.deadline,
        actual: end,
        message: `would finish at ${new Date(end).toISOString()}, after the deadline ${new Date(need.deadline).toISOString()}`,
      };
    }
    case R.plugin:
      return {
        clusterId: id,
        constraint: 'plugin',
        message: ctx.pluginReasons?.get(row) ?? 'excluded by a filter plugin',
      };
    case R.score:
      return {
        clusterId: id,
        constraint: 'score',
        message: 'its score is not a finite number, so it cannot be ranked',
      };
    default:
      return {
        clusterId: id,
        constraint: 'excluded-by-caller',
        message: 'excluded by the caller (failed, refused or being drained)',
      };
  }
}
