// The order in which each node's planner asks its children for a job, predicted from the plan: the same subtree
// figures the nodes send their parents (`summarise` over a node's own clusters, `mergeSummaries` with its children's)
// and the same ranking (`chooseSubtree`), over the clusters as they register (all cores free). Ties at the price
// floor are broken as the planner breaks them — by the subtree's carbon and reliability — not by a private rule.
import { chooseSubtree, summarise, type SubtreeView, type Task } from '@cpnet/scheduler';
import { mergeSummaries, toCluster, toTask } from '@cpnet/node';
import { RegisterCluster, type TaskTemplate } from '@cpnet/protocol';
import type { TopologyPlan } from '../topology/expand.ts';
import { clusterBody } from './providers.ts';

const ANY_PROVIDER = 'CPN.51/PV-1O3';

/** A child as its parent's planner ranks it: its prefix and its expected cost of the task, 元. */
export interface RankedChild {
  readonly prefix: string;
  readonly expectedYuan: number;
}

/** Children of `at` in the order its planner asks them for `task` (ones it rules out left out), `skip` excluded. */
export type RankChildren = (at: string, task: Task, skip: string | null) => readonly RankedChild[];

/** Each node's subtree figures as its parent holds them, from the plan's clusters with all their cores free. */
export function plannedViews(plan: TopologyPlan): Map<string, SubtreeView> {
  const own = new Map<string, ReturnType<typeof toCluster>[]>();
  for (const p of plan.providers) {
    const industry = p.node.split('.')[2] ?? null;
    const rows = own.get(p.node) ?? [];
    for (const c of p.clusters)
      rows.push(
        toCluster({
          id: `${p.key}.${c.key}`,
          node: p.node,
          provider: p.key,
          // The provider's identifier is the node's to assign and plays no part in the ranking: any valid one.
          registration: RegisterCluster.parse(clusterBody(ANY_PROVIDER, c, industry)),
          lifecycle: 'active',
          health: 'healthy',
        }),
      );
    own.set(p.node, rows);
  }
  const children = new Map<string, string[]>();
  for (const n of plan.nodes) if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n.code]);
  const views = new Map<string, SubtreeView>();
  const view = (code: string): SubtreeView => {
    const held = views.get(code);
    if (held) return held;
    const mine = summarise(code, own.get(code) ?? []);
    if (!mine.ok) throw new Error(`summary of ${code}: ${mine.error.message}`);
    // As `schedulingFigures`: the node's own view merged with its children's figures.
    const v = mergeSummaries(code, [mine.value, ...(children.get(code) ?? []).map(view)]);
    views.set(code, v);
    return v;
  };
  for (const n of plan.nodes) view(n.code);
  return views;
}

/** The planner's ranking of each node's children (memoised per node, task and skipped child). */
export function plannerRanking(plan: TopologyPlan): RankChildren {
  const views = plannedViews(plan);
  const children = new Map<string, string[]>();
  for (const n of plan.nodes) if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n.code]);
  const memo = new Map<string, readonly RankedChild[]>();
  const ids = new WeakMap<Task, number>();
  let next = 0;
  return (at, task, skip) => {
    let id = ids.get(task);
    if (id === undefined) ids.set(task, (id = next++));
    const key = `${id}\u0000${at}\u0000${skip ?? ''}`;
    const held = memo.get(key);
    if (held) return held;
    const kids = (children.get(at) ?? []).filter((k) => k !== skip).map((k) => views.get(k)!);
    // A subtree with no clusters has figures marked down, which the ranking rules out as the planner does.
    const ranked = chooseSubtree(kids, task);
    const out = ranked.ok
      ? ranked.value.ranked.map((r) => ({ prefix: r.prefix, expectedYuan: r.expectedCostYuan }))
      : [];
    memo.set(key, out);
    return out;
  };
}

/** A stream's task as the node sees it (`toTask` of the wire template). */
export function streamTask(template: TaskTemplate, tenant: string): Task {
  return toTask(template, { id: 'estimate', tenant });
}
