import { ok, type TimeSource } from '@cpnet/kernel';
import type { ClusterIndex } from './cluster-index.ts';
import type { CostModel } from './cost.ts';
import { GROUP_CANDIDATES, isGrouped, planGroup } from './group.ts';
import { chooseSubtree, type SubtreeChoice } from './hierarchy.ts';
import type { HeldJob } from './jobs.ts';
import type { SubtreeView, Task } from './model.ts';
import { resolveNeed } from './need.ts';
import { DEFAULT_REGISTRY, type Registry } from './policy.ts';
import { planPreemption } from './preempt.ts';
import { selectChecked } from './select.ts';
import { checkTask, type Checked } from './validate.ts';
import { cheapestTransferYuan, DEFAULT_TRANSFER } from './transfer.ts';
import { PROVINCE_CODES } from './cluster-index.ts';

/** What a node knows when it decides where a job goes (its own clusters, its children's summaries). */
export interface PlannerView {
  /** This node's prefix, e.g. `CPN.51`. */
  readonly code: string;
  readonly parent: string | null;
  readonly index: ClusterIndex;
  /** Live children's summaries (a child taken as down is left out by the caller). */
  readonly children: readonly SubtreeView[];
  /**
   * The jobs held on one of this node's clusters (read only), so that the plan may preempt lower-priority work as
   * the node's scheduler would; absent, the plan never preempts.
   */
  readonly heldOn?: (clusterId: string) => readonly HeldJob[];
  readonly clock?: TimeSource;
  readonly costModel?: CostModel;
  readonly registry?: Registry;
  readonly method?: string;
}

/** A job to place, and where it may not go. */
export interface PlanRequest {
  readonly task: Task;
  /** False when the parent asked: the parent tries its other children itself. */
  readonly allowUp: boolean;
  /** Nodes not to ask (the asker, nodes tried upstream). */
  readonly excludeNodes: readonly string[];
  /** Clusters ruled out (failed, refused by their gateway). */
  readonly excludeClusters: readonly string[];
  /** Offer latency-tolerant work to the parent first (东数西算); default true. A dry-run selection answers locally first. */
  readonly offerWest?: boolean;
  /**
   * The asker's own bill for the job (元), when it offered the job west first and could run it itself: nothing here
   * or below is used unless its bill (a subtree's optimistic one) is below it, so the offer comes back — refused —
   * rather than going somewhere dearer than the asker.
   */
  readonly reserveYuan?: number;
  /**
   * Work of a priority below this may be preempted (default the task's own priority). A job whose priority aged
   * while it waited passes its base priority: the aged one keeps it from being preempted, but it is no licence to
   * evict work of its own base priority.
   */
  readonly preemptBelow?: number;
}

/** A refusal so far: by this node's own clusters (node = this code) or by a peer. */
export interface Refusal {
  readonly node: string;
  readonly reason: string;
}

/** The next thing the node's executor does; it feeds a refusal back and asks again. */
export type PlanStep =
  | {
      readonly kind: 'place-local';
      readonly slices: readonly { readonly clusterId: string; readonly replicas: number }[];
      readonly unplaced: number;
      readonly costYuan: number;
      /** Lower-priority jobs to evict first (single mode only). */
      readonly preempts: readonly string[];
    }
  | {
      readonly kind: 'ask-child';
      readonly prefix: string;
      readonly rank: number;
      readonly expectedCostYuan: number;
      /** The chosen child as ranked, and the whole ranking (ranks are stable across refusals). */
      readonly choice: SubtreeChoice;
      readonly ranked: readonly SubtreeChoice[];
    }
  | {
      readonly kind: 'ask-parent';
      readonly prefix: string;
      readonly why: 'east-data-west-compute' | 'last-resort';
      /** What the parent must beat (`PlanRequest.reserveYuan`): this node's bill, or the reserve it was given. */
      readonly reserveYuan?: number;
    }
  | { readonly kind: 'give-up'; readonly refusals: readonly Refusal[] };

/** The step and what was ruled out on the way (the local obstacle, children excluded by their summaries). */
export interface Plan {
  readonly step: PlanStep;
  readonly notes: readonly Refusal[];
}

/**
 * One planner for the hierarchy (互联调度), pure: given the node's view, the job and the refusals so far, the next
 * step. Order: latency-tolerant work is offered to the parent first (东数西算: the ancestors see every subtree and may
 * send it west); then this node's clusters (preempting lower-priority work when the view shows it); then children
 * by expected cost; then the parent; then give up (the executor queues the job at its origin or answers the asker).
 * Never asks a node twice or an excluded one. Ranks are computed over the children not excluded by the request, so
 * a child keeps its rank while the ones before it refuse.
 */
export function nextStep(view: PlannerView, req: PlanRequest, refusals: readonly Refusal[]): Checked<Plan> {
  const checked = checkTask(req.task);
  if (!checked.ok) return checked;
  const tried = new Set([...req.excludeNodes, ...refusals.map((r) => r.node)]);
  const notes: Refusal[] = [];
  const parent = view.parent;
  const canAskParent = req.allowUp && parent !== null && !tried.has(parent);
  let local: { step: PlanStep | null; reason: string } | null = null;
  if (req.task.latencyTolerant && canAskParent && req.offerWest !== false) {
    // Data has weight: work whose data would cost more to move out of this node's provinces than the whole job
    // costs here stays (compute elsewhere cannot cost less than nothing); otherwise it is offered west first.
    local = !tried.has(view.code) ? planLocal(view, req) : null;
    const whole = local?.step?.kind === 'place-local' && local.step.unplaced === 0 ? local.step.costYuan : undefined;
    const stays = req.task.data !== undefined && whole !== undefined && leavingCostYuan(view, req.task) >= whole;
    // The parent must beat this node's own bill (or the reserve this node was given), else it refuses the offer.
    const reserve = Math.min(whole ?? Infinity, req.reserveYuan ?? Infinity);
    if (!stays)
      return ok({
        step: {
          kind: 'ask-parent',
          prefix: parent,
          why: 'east-data-west-compute',
          ...(Number.isFinite(reserve) ? { reserveYuan: reserve } : {}),
        },
        notes,
      });
  }
  const reserve = req.reserveYuan;
  const beats = (yuan: number): boolean => reserve === undefined || yuan < reserve;
  const notBelow = (yuan: number): string =>
    `its bill ${yuan.toFixed(2)} 元 is not below the asker's own ${reserve!.toFixed(2)} 元`;
  if (!tried.has(view.code)) {
    local ??= planLocal(view, req);
    if (local.step && (local.step.kind !== 'place-local' || beats(local.step.costYuan)))
      return ok({ step: local.step, notes });
    notes.push({
      node: view.code,
      reason: local.step?.kind === 'place-local' ? notBelow(local.step.costYuan) : local.reason,
    });
  }
  const excluded = new Set(req.excludeNodes);
  const chosen = chooseSubtree(
    view.children.filter((c) => !excluded.has(c.prefix) && c.prefix !== view.code),
    req.task,
    view.costModel,
  );
  if (!chosen.ok) return chosen;
  for (const x of chosen.value.excluded) notes.push({ node: x.prefix, reason: x.reason });
  const ranked = chosen.value.ranked;
  // A subtree's bill is optimistic (a lower bound): one not below the reserve can never beat the asker.
  for (const c of ranked)
    if (!beats(c.estimatedCostYuan)) notes.push({ node: c.prefix, reason: notBelow(c.estimatedCostYuan) });
  const child = ranked.find((c) => !tried.has(c.prefix) && beats(c.estimatedCostYuan));
  if (child)
    return ok({
      step: {
        kind: 'ask-child',
        prefix: child.prefix,
        rank: child.rank,
        expectedCostYuan: child.expectedCostYuan,
        choice: child,
        ranked,
      },
      notes,
    });
  if (canAskParent)
    return ok({
      step: {
        kind: 'ask-parent',
        prefix: parent,
        why: 'last-resort',
        ...(reserve !== undefined ? { reserveYuan: reserve } : {}),
      },
      notes,
    });
  return ok({ step: { kind: 'give-up', refusals: [...refusals, ...notes] }, notes });
}

/** This node's clusters: the placement the selection allows per mode, computed without changing the index. */
function planLocal(view: PlannerView, req: PlanRequest): { step: PlanStep | null; reason: string } {
  const ix = view.index,
    task = req.task;
  if (ix.size === 0) return { step: null, reason: 'no clusters registered here' };
  let exclude: Uint8Array | undefined;
  if (req.excludeClusters.length > 0) {
    exclude = new Uint8Array(ix.size);
    for (const id of req.excludeClusters) {
      const r = ix.rowOf(id);
      if (r >= 0) exclude[r] = 1;
    }
  }
  const mode = task.mode ?? 'single';
  const grouped = isGrouped(task);
  const sel = selectChecked(ix, task, {
    k: mode === 'single' ? 1 : grouped ? Math.min(ix.size, GROUP_CANDIDATES) : task.replicas,
    explain: 'codes',
    excludeRows: exclude,
    clock: view.clock,
    costModel: view.costModel,
    registry: view.registry ?? DEFAULT_REGISTRY,
    method: view.method ?? 'expected-cost',
  });
  if (grouped) {
    // Gang locality, spread and affinity groups: the same planner `Scheduler.reserve` runs, so they agree.
    const plan = planGroup(ix, task, {
      ranked: sel.candidates,
      obstacle: sel.mainObstacle?.message ?? 'no cluster fits',
    });
    if (!plan.ok)
      return {
        step: null,
        reason: sel.candidates.length === 0 ? `filter: ${sel.mainObstacle?.message ?? 'no cluster fits'}` : plan.reason,
      };
    const bill = new Map(sel.candidates.map((c) => [c.row, c.costYuan]));
    const placed = plan.parts.reduce((a, p) => a + p.replicas, 0);
    return {
      step: {
        kind: 'place-local',
        slices: plan.parts.map((p) => ({ clusterId: ix.ids[p.row]!, replicas: p.replicas })),
        unplaced: task.replicas - placed,
        costYuan: plan.parts.reduce((a, p) => a + (bill.get(p.row)! * p.replicas) / task.replicas, 0),
        preempts: [],
      },
      reason: '',
    };
  }
  const slices: { clusterId: string; replicas: number }[] = [];
  let left = task.replicas,
    cost = 0;
  // Candidates are distinct clusters, so each one's fit is independent of the others: no need to take capacity.
  for (const c of sel.candidates) {
    if (left === 0) break;
    const n = Math.min(left, c.replicasFit);
    if (n <= 0) continue;
    slices.push({ clusterId: c.clusterId, replicas: n });
    left -= n;
    cost += (c.costYuan * n) / task.replicas;
  }
  const obstacle = sel.mainObstacle?.message ?? 'no cluster fits';
  if (slices.length > 0 && (left === 0 || mode === 'split'))
    return { step: { kind: 'place-local', slices, unplaced: left, costYuan: cost, preempts: [] }, reason: '' };
  if (mode === 'single' && view.heldOn) {
    const heldOn = view.heldOn;
    // planPreemption frees and retakes capacity on the index while it looks: the index is unchanged afterwards.
    const plan = planPreemption(ix, {
      task,
      ...(req.preemptBelow !== undefined ? { below: req.preemptBelow } : {}),
      need: resolveNeed(ix, task),
      clock: view.clock,
      costModel: view.costModel,
      exclude,
      jobsOnRow: (row) => heldOn(ix.ids[row]!).filter((j) => j.status !== 'queued'),
    });
    if (plan)
      return {
        step: {
          kind: 'place-local',
          slices: [{ clusterId: ix.ids[plan.row]!, replicas: task.replicas }],
          unplaced: 0,
          costYuan: plan.costYuan,
          preempts: plan.victims.map((v) => v.id),
        },
        reason: '',
      };
  }
  const fitted = task.replicas - left;
  return {
    step: null,
    reason:
      mode === 'gang' && fitted > 0
        ? `gang: ${fitted} of ${task.replicas} replicas fit across ${slices.length} clusters (all or none; ${obstacle})`
        : `filter: ${obstacle}`,
  };
}

/** The least moving a task's data to any province where this node has no cluster costs (元): leaving's floor. */
function leavingCostYuan(view: PlannerView, task: Task): number {
  const here = new Set<string>();
  for (let r = 0; r < view.index.size; r++) here.add(PROVINCE_CODES[view.index.prov[r]!]!);
  const elsewhere = PROVINCE_CODES.filter((p) => !here.has(p));
  return cheapestTransferYuan(task.data, elsewhere, view.costModel?.transfer ?? DEFAULT_TRANSFER);
}
