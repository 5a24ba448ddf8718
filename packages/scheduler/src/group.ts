import type { ClusterIndex } from './cluster-index.ts';
import { PROVINCE_CODES } from './cluster-index.ts';
import type { SpreadConstraint, Task } from './model.ts';

/**
 * Where the replicas of a split or gang job go, given its candidates in rank order (best first), honouring:
 * - gang locality, in order: one cluster; else one province; else clusters whose pairwise latency is at most
 *   `placement.maxInterReplicaLatencyMs` (any clusters when absent);
 * - spread constraints (like Karmada's spreadConstraints): at least `min` and at most `max` distinct provinces or
 *   providers (a cluster's node prefix) among the clusters used;
 * - ordered affinity groups (like Karmada's clusterAffinities): the first group of provinces that can hold the job,
 *   else the next.
 * Pure; reads only the index's static columns and the candidates' `replicasFit`.
 */

/** A candidate as the planner reads it. */
export interface GroupCandidate {
  readonly row: number;
  /** Replicas that fit there now (at most the job's). */
  readonly replicasFit: number;
}

/** The plan: replicas per row, and how locality was met (or why nothing fits). */
export type GroupPlan =
  | {
      readonly ok: true;
      readonly parts: readonly { readonly row: number; readonly replicas: number }[];
      /** `cluster`, `province`, `latency-bound`, `any` (gang locality level) or `spread` (split). */
      readonly locality: 'cluster' | 'province' | 'latency-bound' | 'any' | 'spread';
      /** The affinity group used, by index, when the task has groups. */
      readonly affinityGroup?: number;
    }
  | { readonly ok: false; readonly reason: string; readonly step: 'gang' | 'spread' | 'affinity' };

type Parts = { row: number; replicas: number }[];

/** Fills `need` replicas from candidates in order; the parts, or null when they do not add up (for all-or-none). */
function fill(cands: readonly GroupCandidate[], need: number): { parts: Parts; left: number } {
  const parts: Parts = [];
  let left = need;
  for (const c of cands) {
    if (left === 0) break;
    const n = Math.min(left, c.replicasFit);
    if (n > 0) {
      parts.push({ row: c.row, replicas: n });
      left -= n;
    }
  }
  return { parts, left };
}

const groupKey = (ix: ClusterIndex, by: SpreadConstraint['by'], row: number): string =>
  by === 'province' ? PROVINCE_CODES[ix.prov[row]!]! : ix.prefixes[row]!;

/** Fills under spread constraints: the best cluster of each of the first `min` groups first, then in rank order. */
function fillSpread(
  ix: ClusterIndex,
  cands: readonly GroupCandidate[],
  o: { need: number; spread: readonly SpreadConstraint[] },
): { parts: Parts; left: number; short?: string } {
  const { need, spread } = o;
  let pool = cands.filter((c) => c.replicasFit > 0);
  // max: keep only the first `max` groups met in rank order.
  for (const s of spread) {
    if (s.max === undefined) continue;
    const allowed = new Set<string>();
    pool = pool.filter((c) => {
      const k = groupKey(ix, s.by, c.row);
      if (allowed.has(k)) return true;
      if (allowed.size >= s.max!) return false;
      allowed.add(k);
      return true;
    });
  }
  // min: seed one replica in the best cluster of each of the first `min` groups.
  const seeded = new Map<number, number>();
  for (const s of spread) {
    const min = s.min ?? 1;
    const have = new Set([...seeded.keys()].map((r) => groupKey(ix, s.by, r)));
    for (const c of pool) {
      if (have.size >= min) break;
      const k = groupKey(ix, s.by, c.row);
      if (have.has(k)) continue;
      have.add(k);
      seeded.set(c.row, 1);
    }
    if (have.size < min)
      return {
        parts: [],
        left: need,
        short: `${have.size} ${s.by === 'province' ? 'provinces' : 'providers'} of the ${min} asked can hold a replica`,
      };
  }
  if ([...seeded.values()].reduce((a, b) => a + b, 0) > need)
    return { parts: [], left: need, short: `the minimum spread needs more clusters than the ${need} replicas` };
  const parts: Parts = [...seeded].map(([row, n]) => ({ row, replicas: n }));
  let left = need - parts.length;
  for (const c of pool) {
    if (left === 0) break;
    const p = parts.find((x) => x.row === c.row);
    const room = c.replicasFit - (p?.replicas ?? 0);
    const n = Math.min(left, room);
    if (n <= 0) continue;
    if (p) p.replicas += n;
    else parts.push({ row: c.row, replicas: n });
    left -= n;
  }
  return { parts, left };
}

/** Gang locality: one cluster, else one province, else within a latency bound, else (no bound) any. */
function gangPlan(
  ix: ClusterIndex,
  cands: readonly GroupCandidate[],
  o: { need: number; bound: number | undefined },
): { parts: Parts; locality: 'cluster' | 'province' | 'latency-bound' | 'any' } | null {
  const { need, bound } = o;
  const one = cands.find((c) => c.replicasFit >= need);
  if (one) return { parts: [{ row: one.row, replicas: need }], locality: 'cluster' };
  // One province: the province whose best-ranked clusters fill the job first in rank order of its best cluster.
  const byProv = new Map<number, GroupCandidate[]>();
  for (const c of cands) (byProv.get(ix.prov[c.row]!) ?? byProv.set(ix.prov[c.row]!, []).get(ix.prov[c.row]!)!).push(c);
  for (const list of byProv.values()) {
    const f = fill(list, need);
    if (f.left === 0) return { parts: f.parts, locality: 'province' };
  }
  if (bound === undefined) {
    const f = fill(cands, need);
    return f.left === 0 ? { parts: f.parts, locality: 'any' } : null;
  }
  // Within the bound: seeded by each candidate in rank order, add candidates close to every chosen cluster.
  for (const seed of cands) {
    const chosen: GroupCandidate[] = [seed];
    let got = Math.min(need, seed.replicasFit);
    for (const c of cands) {
      if (got >= need) break;
      if (c === seed || c.replicasFit <= 0) continue;
      if (chosen.every((x) => interLatency(ix, x.row, c.row) <= bound)) {
        chosen.push(c);
        got += Math.min(need - got, c.replicasFit);
      }
    }
    if (got >= need) return { parts: fill(chosen, need).parts, locality: 'latency-bound' };
  }
  return null;
}

/** Round-trip latency between two clusters, ms: the worse of each one's latency from the other's province. */
export function interLatency(ix: ClusterIndex, a: number, b: number): number {
  if (a === b) return 0;
  return Math.max(ix.latency[ix.prov[a]!]![b]!, ix.latency[ix.prov[b]!]![a]!);
}

/** Candidates the gang / spread planner considers (the best ranked). */
export const GROUP_CANDIDATES = 256;

/** Whether a task's replicas go through `planGroup`: every gang, and a split job with placement constraints. */
export const isGrouped = (t: Task): boolean => t.mode === 'gang' || (t.mode === 'split' && t.placement !== undefined);

/**
 * Plans a split or gang job over its ranked candidates (see the module note). `obstacle`, the selection's main
 * obstacle, ends a refusal's reason.
 */
export function planGroup(
  ix: ClusterIndex,
  task: Task,
  o: { readonly ranked: readonly GroupCandidate[]; readonly obstacle?: string },
): GroupPlan {
  const ranked = o.ranked;
  const tail = o.obstacle ? `; ${o.obstacle}` : '';
  const mode = task.mode ?? 'single';
  const pc = task.placement;
  const groups = pc?.affinityGroups;
  const tries: { cands: readonly GroupCandidate[]; group?: number }[] =
    groups && groups.length > 0
      ? groups.map((g, gi) => {
          const ps = new Set(g.provinces);
          return { cands: ranked.filter((c) => ps.has(PROVINCE_CODES[ix.prov[c.row]!]!)), group: gi };
        })
      : [{ cands: ranked }];
  let why: GroupPlan | null = null;
  for (const t of tries) {
    const g = t.group === undefined ? {} : { affinityGroup: t.group };
    if (pc?.spread && pc.spread.length > 0) {
      const f = fillSpread(ix, t.cands, { need: task.replicas, spread: pc.spread });
      if (f.short) {
        why = { ok: false, step: 'spread', reason: `spread: ${f.short}` };
        continue;
      }
      if (f.parts.length > 0 && (f.left === 0 || mode === 'split'))
        return { ok: true, parts: f.parts, locality: 'spread', ...g };
      why = {
        ok: false,
        step: mode === 'gang' ? 'gang' : 'spread',
        reason:
          `${mode === 'gang' ? 'gang' : 'spread'}: ${task.replicas - f.left} of ${task.replicas} replicas ` +
          'fit within the spread constraints',
      };
      continue;
    }
    if (mode === 'gang') {
      const p = gangPlan(ix, t.cands, { need: task.replicas, bound: pc?.maxInterReplicaLatencyMs });
      if (p) return { ok: true, parts: p.parts, locality: p.locality, ...g };
      const total = t.cands.reduce((a, c) => a + c.replicasFit, 0);
      why = {
        ok: false,
        step: 'gang',
        reason:
          pc?.maxInterReplicaLatencyMs !== undefined && total >= task.replicas
            ? `gang: ${task.replicas} replicas fit only across clusters more than ` +
              `${pc.maxInterReplicaLatencyMs} ms apart (no single cluster or province holds them)`
            : `gang: ${Math.min(total, task.replicas)} of ${task.replicas} replicas fit across ` +
              `${fill(t.cands, task.replicas).parts.length} clusters (all or none)`,
      };
      continue;
    }
    const f = fill(t.cands, task.replicas);
    if (f.parts.length > 0) return { ok: true, parts: f.parts, locality: 'any', ...g };
    why = { ok: false, step: 'affinity', reason: 'affinity: no cluster of the group fits' };
  }
  const out: GroupPlan = why ?? { ok: false, step: 'gang', reason: 'gang: no candidates' };
  if (out.ok) return out;
  let reason = out.reason.endsWith('(all or none)') ? `${out.reason.slice(0, -1)}${tail})` : `${out.reason}${tail}`;
  if (groups && groups.length > 0)
    reason += ` (in every affinity group: ${groups.map((g, i) => g.name ?? `#${i}`).join(', ')})`;
  return { ...out, reason };
}
