import { chooseSubtree, type SubtreeView } from '@cpnet/scheduler';
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
 * A dry-run selection (nothing reserved): this node's clusters first; when none fits, the child subtrees whose
 * summaries could (best first), then the parent (unless the request came from it). An answer where nothing fits
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
  const exclude = [...new Set([...req.exclude, ctx.code])];
  const chosen = chooseSubtree(
    ctx.children().filter((c) => !exclude.includes(c.prefix)),
    task,
  );
  const decision = chosen.ok
    ? chosen.value
    : { ranked: [], excluded: [{ prefix: 'children', reason: chosen.error.message }] };
  for (const c of decision.ranked) {
    const a = await ctx.peers.select(c.prefix, { template: req.template, topK: req.topK, direction: 'down', exclude });
    if (a && a.candidates.length > 0) return { ...a, escalated: true };
    notes.push(a ? `${c.prefix}: ${a.summary}` : `${c.prefix}: unreachable`);
  }
  for (const x of decision.excluded) notes.push(`${x.prefix}: ${x.reason}`);
  if (req.allowUp && ctx.parent && !exclude.includes(ctx.parent)) {
    const a = await ctx.peers.select(ctx.parent, { template: req.template, topK: req.topK, direction: 'up', exclude });
    if (a && a.candidates.length > 0) return { ...a, escalated: true };
    notes.push(a ? `${ctx.parent}: ${a.summary}` : `${ctx.parent}: unreachable`);
  }
  const escalated = notes.length > 0;
  return {
    ...local,
    escalated,
    summary: escalated ? `${local.summary}; elsewhere: ${notes.join('; ')}` : local.summary,
  };
}
