import { nextStep, type PlannerView, type Refusal, type SubtreeView } from '@cpnet/scheduler';
import { fail } from '../http/http-error.ts';
import type { TaskTemplate, SelectionAnswer } from '@cpnet/protocol';
import type { ClusterView } from './cluster-view.ts';
import { toSelectionAnswer, toTask } from './mapping.ts';
import type { PeerPort } from './ports.ts';

/** What a selection across the hierarchy needs. */
export interface SelectionContext {
  readonly code: string;
  readonly parent: string | null;
  readonly view: ClusterView;
  readonly peers: PeerPort;
  /** Live child summaries. */
  children(): SubtreeView[];
}

/**
 * A dry-run selection (nothing reserved): this node's clusters first; when none fits, the planner's walk — the child
 * subtrees whose summaries could (best first), then the parent (unless the request came from it). An answer where nothing fits
 * anywhere is still an answer: the local exclusions and a summary naming the constraint that excluded everything.
 */
export async function selectAcross(
  ctx: SelectionContext,
  req: { template: TaskTemplate; topK: number; exclude: readonly string[]; allowUp: boolean },
): Promise<SelectionAnswer> {
  const task = toTask(req.template, { id: 'selection', tenant: req.template.tenant ?? 'anonymous' });
  const checked = ctx.view.scheduler.select(task, { k: req.topK, explain: 'all' });
  if (!checked.ok) fail(checked.error.code, checked.error.message, checked.error.field);
  const sel = checked.value;
  const local = toSelectionAnswer(sel, {
    answeredBy: ctx.code,
    escalated: false,
    place: (id) => ctx.view.place(id),
  }) as SelectionAnswer;
  if (local.candidates.length > 0) return local;
  const notes: string[] = [];
  // The walk is the planner's (the same one placements take), with this node's clusters already refused and no
  // westward offer: a dry run answers from here first.
  const asked: Refusal[] = [{ node: ctx.code, reason: local.summary }];
  const view: PlannerView = {
    code: ctx.code,
    parent: ctx.parent,
    index: ctx.view.scheduler.index,
    children: ctx.children(),
  };
  const exclude = [...new Set([...req.exclude, ctx.code])];
  let excluded: string[] | null = null;
  const flushExcluded = () => {
    notes.push(...(excluded ?? []));
    excluded = [];
  };
  for (;;) {
    const planned = nextStep(
      view,
      { task, allowUp: req.allowUp, excludeNodes: req.exclude, excludeClusters: [], offerWest: false },
      asked,
    );
    if (!planned.ok) {
      notes.push(`children: ${planned.error.message}`);
      break;
    }
    excluded ??= planned.value.notes.filter((n) => n.node !== ctx.code).map((n) => `${n.node}: ${n.reason}`);
    const step = planned.value.step;
    if (step.kind !== 'ask-child' && step.kind !== 'ask-parent') break;
    if (step.kind === 'ask-parent') flushExcluded();
    const direction = step.kind === 'ask-child' ? 'down' : 'up';
    const a = await ctx.peers.select(step.prefix, { template: req.template, topK: req.topK, direction, exclude });
    if (a && a.candidates.length > 0) return { ...a, escalated: true };
    const why = a ? a.summary : 'unreachable';
    notes.push(`${step.prefix}: ${why}`);
    asked.push({ node: step.prefix, reason: why });
  }
  flushExcluded();
  const escalated = notes.length > 0;
  return {
    ...local,
    escalated,
    summary: escalated ? `${local.summary}; elsewhere: ${notes.join('; ')}` : local.summary,
  };
}
