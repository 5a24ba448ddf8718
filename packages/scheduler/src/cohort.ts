import { ok } from '@cpnet/kernel';
import type { FairVector } from './fair.ts';
import { inputError, type Checked, type InputError } from './validate.ts';

/**
 * Cohorts with borrowing, after Kueue's ClusterQueue / Cohort model (kueue.sigs.k8s.io, "Cluster Queue" and
 * "Hierarchical Cohorts" concepts; read from the documentation, not copied): a queue has a nominal quota per resource
 * and belongs to at most one cohort; what its members do not use, a member may borrow — up to its borrowing limit —
 * and a member lends at most its lending limit (the rest of its nominal quota is guaranteed to it). Cohorts form a
 * tree (a cohort names its parent); a cohort lends its subtree's surplus up the tree (up to its own lending limit) and
 * borrows from above (up to its own borrowing limit). A queue that asks for work within its nominal quota gets it
 * back: borrowed capacity is reclaimed — the lowest-priority, newest workloads of queues above their nominal quota
 * are preempted (Kueue's `reclaimWithinCohort: Any`). Pure; checked input answers an error naming the field.
 */

/** A per-resource limit; an absent resource is unlimited. */
export type Limit = Partial<FairVector>;

/** A cohort: a name, its parent cohort (a tree; a cycle is refused), and how much it lends up / borrows from above. */
export interface CohortSpec {
  readonly name: string;
  readonly parent?: string;
  readonly borrowingLimit?: Limit;
  readonly lendingLimit?: Limit;
}

/** A queue (Kueue's ClusterQueue): nominal quota, its cohort, and its borrowing and lending limits. */
export interface QueueSpec {
  readonly name: string;
  readonly cohort?: string;
  readonly nominal: FairVector;
  /** The most it may use above its nominal quota (absent: unlimited, as Kueue). Needs a cohort. */
  readonly borrowingLimit?: Limit;
  /** The most of its nominal quota others may borrow (absent: all of it). ≤ nominal. Needs a cohort. */
  readonly lendingLimit?: Limit;
}

/** Queues and cohorts. */
export interface CohortConfig {
  readonly queues: readonly QueueSpec[];
  readonly cohorts?: readonly CohortSpec[];
}

/** A workload admitted to (or asking for) a queue. */
export interface Workload {
  readonly id: string;
  readonly queue: string;
  readonly demand: FairVector;
  readonly priority: number;
  /** When it was admitted or submitted (virtual ms): the newest are reclaimed first. */
  readonly since: number;
}

/** The answer to one workload. */
export type CohortDecision =
  | { readonly admit: true; readonly borrowed: FairVector; readonly reclaim: readonly string[] }
  | { readonly admit: false; readonly reason: string };

const KEYS = ['cpuCores', 'memoryGib', 'cards'] as const;
type Key = (typeof KEYS)[number];
const ZERO: FairVector = { cpuCores: 0, memoryGib: 0, cards: 0 };
const EPS = 1e-9;
const lim = (l: Limit | undefined, k: Key): number => l?.[k] ?? Infinity;

function vector(v: unknown, at: string, partial: boolean): { ok: false; error: InputError } | null {
  if (typeof v !== 'object' || v === null) return inputError(at, 'must be an object of cpuCores, memoryGib, cards');
  for (const k of Object.keys(v))
    if (!(KEYS as readonly string[]).includes(k))
      return inputError(`${at}.${k}`, `unknown resource (cpuCores, memoryGib, cards)`);
  for (const k of KEYS) {
    const x = (v as Record<string, unknown>)[k];
    if (partial && x === undefined) continue;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      return inputError(`${at}.${k}`, `must be a finite number ≥ 0, got ${String(x)}`);
  }
  return null;
}

/**
 * Checks queues and cohorts, naming the field: names unique and non-empty; quotas and limits finite ≥ 0; a queue's
 * lending limit ≤ its nominal quota; borrowing or lending limits only with a cohort; a cohort or parent that exists;
 * no cycle of parents (`cohorts[i].parent: cohort cycle a → b → a`).
 */
export function checkCohortConfig(c: CohortConfig, at = 'cohorts'): { ok: false; error: InputError } | null {
  if (typeof c !== 'object' || c === null || !Array.isArray(c.queues))
    return inputError(`${at}.queues`, 'must be a list of queues');
  const cohorts = c.cohorts ?? [];
  if (!Array.isArray(cohorts)) return inputError(`${at}.cohorts`, 'must be a list of cohorts');
  const cohortAt = new Map<string, number>();
  for (const [i, k] of cohorts.entries()) {
    const f = `${at}.cohorts[${i}]`;
    if (typeof k?.name !== 'string' || k.name.length === 0)
      return inputError(`${f}.name`, 'must be a non-empty string');
    if (cohortAt.has(k.name)) return inputError(`${f}.name`, `duplicate cohort ${k.name}`);
    cohortAt.set(k.name, i);
    for (const l of ['borrowingLimit', 'lendingLimit'] as const)
      if (k[l] !== undefined) {
        const e = vector(k[l], `${f}.${l}`, true);
        if (e) return e;
        if (k.parent === undefined)
          return inputError(`${f}.${l}`, 'a cohort without a parent has no one to borrow from or lend to');
      }
  }
  for (const [i, k] of cohorts.entries()) {
    if (k.parent === undefined) continue;
    if (!cohortAt.has(k.parent)) return inputError(`${at}.cohorts[${i}].parent`, `unknown cohort ${String(k.parent)}`);
    // Walk up from k: coming back to k is a cycle (every cycle is found from each of its members).
    const path = [k.name];
    for (let p: string | undefined = k.parent; p !== undefined; p = cohorts[cohortAt.get(p)!]!.parent) {
      path.push(p);
      if (p === k.name) return inputError(`${at}.cohorts[${i}].parent`, `cohort cycle ${path.join(' → ')}`);
      if (path.length > cohorts.length + 1) break;
    }
  }
  const queueNames = new Set<string>();
  for (const [i, q] of c.queues.entries()) {
    const f = `${at}.queues[${i}]`;
    if (typeof q?.name !== 'string' || q.name.length === 0)
      return inputError(`${f}.name`, 'must be a non-empty string');
    if (queueNames.has(q.name)) return inputError(`${f}.name`, `duplicate queue ${q.name}`);
    queueNames.add(q.name);
    const e = vector(q.nominal, `${f}.nominal`, false);
    if (e) return e;
    if (q.cohort !== undefined && !cohortAt.has(q.cohort))
      return inputError(`${f}.cohort`, `unknown cohort ${String(q.cohort)}`);
    for (const l of ['borrowingLimit', 'lendingLimit'] as const) {
      if (q[l] === undefined) continue;
      const le = vector(q[l], `${f}.${l}`, true);
      if (le) return le;
      if (q.cohort === undefined)
        return inputError(`${f}.${l}`, 'needs a cohort (a queue alone has no one to borrow from or lend to)');
    }
    for (const k of KEYS)
      if (lim(q.lendingLimit, k) < Infinity && lim(q.lendingLimit, k) > q.nominal[k])
        return inputError(
          `${f}.lendingLimit.${k}`,
          `must be ≤ the nominal quota ${q.nominal[k]}, got ${q.lendingLimit![k]}`,
        );
  }
  return null;
}

/** How much of each resource each queue uses. */
export function usageOf(workloads: readonly Workload[]): Map<string, FairVector> {
  const u = new Map<string, FairVector>();
  for (const w of workloads) {
    const a = u.get(w.queue) ?? ZERO;
    u.set(w.queue, {
      cpuCores: a.cpuCores + w.demand.cpuCores,
      memoryGib: a.memoryGib + w.demand.memoryGib,
      cards: a.cards + w.demand.cards,
    });
  }
  return u;
}

/**
 * Whether the usage is within every limit, per resource; null when it is, else why not. At each cohort, bottom up:
 * supply = its queues' lendable quota + its child cohorts' surplus (each up to its lending limit); demand = its
 * queues' use above their guaranteed quota (nominal − lendable) + its child cohorts' shortfall (each up to its
 * borrowing limit). A cohort with a parent passes its shortfall up; a root must cover it.
 */
export function violation(c: CohortConfig, usage: ReadonlyMap<string, FairVector>): string | null {
  for (const q of c.queues) {
    const u = usage.get(q.name) ?? ZERO;
    for (const k of KEYS) {
      const cap = q.cohort === undefined ? q.nominal[k] : q.nominal[k] + lim(q.borrowingLimit, k);
      const limit = q.cohort === undefined ? '' : ` + borrowing limit ${lim(q.borrowingLimit, k)}`;
      if (u[k] > cap + EPS)
        return `queue ${q.name} would use ${round(u[k])} ${k}, above its nominal ${q.nominal[k]}${limit}`;
    }
  }
  const cohorts = c.cohorts ?? [];
  const children = new Map<string, string[]>();
  for (const k of cohorts)
    if (k.parent !== undefined) children.set(k.parent, [...(children.get(k.parent) ?? []), k.name]);
  const members = new Map<string, QueueSpec[]>();
  for (const q of c.queues) if (q.cohort !== undefined) members.set(q.cohort, [...(members.get(q.cohort) ?? []), q]);
  const spec = new Map(cohorts.map((k) => [k.name, k]));
  // net(k) > 0: surplus it can lend up (capped); < 0: shortfall it must borrow (limit checked).
  const net = (name: string, r: Key): { value: number; why: string | null } => {
    let supply = 0,
      demand = 0;
    for (const q of members.get(name) ?? []) {
      const lend = Math.min(q.nominal[r], lim(q.lendingLimit, r));
      supply += lend;
      demand += Math.max(0, (usage.get(q.name) ?? ZERO)[r] - (q.nominal[r] - lend));
    }
    for (const ch of children.get(name) ?? []) {
      const n = net(ch, r);
      if (n.why) return n;
      const s = spec.get(ch)!;
      if (n.value >= 0) supply += Math.min(n.value, lim(s.lendingLimit, r));
      else if (-n.value > lim(s.borrowingLimit, r) + EPS)
        return {
          value: 0,
          why: `cohort ${ch} would borrow ${round(-n.value)} ${r}, above its borrowing limit ${lim(s.borrowingLimit, r)}`,
        };
      else demand += -n.value;
    }
    return { value: supply - demand, why: null };
  };
  for (const k of cohorts) {
    if (k.parent !== undefined) continue;
    for (const r of KEYS) {
      const n = net(k.name, r);
      if (n.why) return n.why;
      if (n.value < -EPS)
        return `cohort ${k.name} lacks ${round(-n.value)} ${r} (its members borrow more than is lent)`;
    }
  }
  return null;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
const add = (a: FairVector, b: FairVector, sign = 1): FairVector => ({
  cpuCores: a.cpuCores + sign * b.cpuCores,
  memoryGib: a.memoryGib + sign * b.memoryGib,
  cards: a.cards + sign * b.cards,
});

/**
 * Whether `w` may be admitted beside the `admitted` workloads. It is when every limit holds with it (`borrowed` is
 * what its queue then uses above its nominal quota). Else, when it stays within its queue's nominal quota, borrowed
 * capacity is reclaimed: workloads of queues above their nominal quota are preempted, lowest priority then newest
 * first, only while their queue is still above nominal, until it fits (`reclaim` lists them; it always fits once no
 * queue is above nominal). Else it waits, with the reason.
 */
export function admitToCohort(c: CohortConfig, admitted: readonly Workload[], w: Workload): Checked<CohortDecision> {
  const e = checkCohortConfig(c);
  if (e) return e;
  const q = c.queues.find((x) => x.name === w.queue);
  if (!q) return inputError('workload.queue', `unknown queue ${String(w.queue)}`);
  const de = vector(w.demand, 'workload.demand', false);
  if (de) return de;
  for (const [i, a] of admitted.entries())
    if (!c.queues.some((x) => x.name === a.queue))
      return inputError(`admitted[${i}].queue`, `unknown queue ${String(a.queue)}`);
  return ok(admitToCohortChecked(c, admitted, w));
}

/** `admitToCohort` on checked input. */
export function admitToCohortChecked(c: CohortConfig, admitted: readonly Workload[], w: Workload): CohortDecision {
  const q = c.queues.find((x) => x.name === w.queue)!;
  const usage = usageOf([...admitted, w]);
  const over = (u: FairVector): FairVector => ({
    cpuCores: Math.max(0, u.cpuCores - q.nominal.cpuCores),
    memoryGib: Math.max(0, u.memoryGib - q.nominal.memoryGib),
    cards: Math.max(0, u.cards - q.nominal.cards),
  });
  const why = violation(c, usage);
  if (why === null) return { admit: true, borrowed: over(usage.get(q.name)!), reclaim: [] };
  const mine = usage.get(q.name)!;
  if (KEYS.some((k) => mine[k] > q.nominal[k] + EPS)) return { admit: false, reason: why };
  const nominalOf = new Map(c.queues.map((x) => [x.name, x.nominal]));
  const aboveNominal = (u: FairVector, name: string): boolean => KEYS.some((k) => u[k] > nominalOf.get(name)![k] + EPS);
  // Only the same cohort tree lent to it.
  const parentOf = new Map((c.cohorts ?? []).map((k) => [k.name, k.parent]));
  const rootOf = (cohort: string | undefined): string | undefined => {
    let r = cohort;
    for (let i = 0; r !== undefined && parentOf.get(r) !== undefined && i <= parentOf.size; i++) r = parentOf.get(r);
    return r;
  };
  const cohortOf = new Map(c.queues.map((x) => [x.name, x.cohort]));
  const tree = rootOf(q.cohort);
  const victims = admitted
    .filter((a) => a.queue !== q.name && tree !== undefined && rootOf(cohortOf.get(a.queue)) === tree)
    .sort((a, b) => a.priority - b.priority || b.since - a.since || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const reclaim: string[] = [];
  for (const v of victims) {
    const u = usage.get(v.queue)!;
    if (!aboveNominal(u, v.queue)) continue;
    usage.set(v.queue, add(u, v.demand, -1));
    reclaim.push(v.id);
    if (violation(c, usage) === null) return { admit: true, borrowed: ZERO, reclaim };
  }
  return { admit: false, reason: why };
}
