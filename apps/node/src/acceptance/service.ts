import { formatTime, type AcceptanceCase } from '@cpnet/protocol';
import { jcsBytes, signCompact } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { repeat } from '../deps.ts';
import { openCase, recordRun, refreshFlags, type CaseResult } from './case.ts';

/** What the acceptance service uses of the node. */
export type AcceptanceDeps = Pick<NodeContext, 'audit' | 'config' | 'db' | 'deps' | 'events' | 'identity'>;

/** The JWS type of the records the authority signs (decisions, supervision orders, evidence packs). */
export const ACCEPTANCE_JWS_TYPE = 'cpn-acceptance+jws';

/** Signs a record as this node: a compact JWS over its RFC 8785 JSON. */
export function signRecord(ctx: Pick<NodeContext, 'config' | 'identity'>, record: unknown): Promise<string> {
  return signCompact(
    jcsBytes(record),
    { typ: ACCEPTANCE_JWS_TYPE, kid: ctx.config.code },
    ctx.identity.keys.privateKey,
  );
}

/** Opens the case of a node this one approved: the construction period begins (idempotent). */
export async function openAcceptanceCase(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps'>,
  input: { node: string; approvedAt: number },
): Promise<AcceptanceCase> {
  const known = await ctx.db.acceptance.byNode(input.node);
  if (known) return known;
  const c = openCase({
    node: input.node,
    authority: ctx.config.code,
    mode: ctx.config.acceptance,
    approvedAt: formatTime(input.approvedAt),
  });
  await ctx.db.acceptance.put(c, formatTime(ctx.deps.clock.now()));
  return c;
}

/**
 * The case of `node` as of now (node time): what is overdue recomputed, and each newly overdue item raised once to
 * the supervising authority (an `acceptance.flag` event and an audit entry).
 */
export async function currentCase(ctx: AcceptanceDeps, node: string): Promise<AcceptanceCase | null> {
  const c = await ctx.db.acceptance.byNode(node);
  if (!c) return null;
  const now = ctx.deps.clock.now();
  const { value, raised } = refreshFlags(c, now);
  if (raised.length > 0) {
    await ctx.db.acceptance.put(value, formatTime(now));
    for (const f of raised) {
      ctx.events.emit('acceptance.flag', { subject: node, severity: 'warning', data: { ...f } });
      await ctx.audit.record({
        who: ctx.config.code,
        action: `flag:${f.kind}`,
        resource: `acceptance:${node}`,
        decision: 'allow',
        requestId: '-',
      });
    }
  }
  return value;
}

/** Every case, refreshed. */
export async function allCases(ctx: AcceptanceDeps): Promise<AcceptanceCase[]> {
  const out: AcceptanceCase[] = [];
  for (const c of await ctx.db.acceptance.all()) out.push((await currentCase(ctx, c.node)) ?? c);
  return out;
}

/** The case, or 404. */
export async function caseOr404(ctx: AcceptanceDeps, node: string): Promise<AcceptanceCase> {
  const c = await currentCase(ctx, node);
  if (!c)
    fail('NOT_FOUND', `no acceptance case for ${node} at ${ctx.config.code} (cases open when a node is approved)`);
  return c;
}

/** Stores a change, or answers its refusal (nothing is written then). */
export async function saveOrRefuse(ctx: AcceptanceDeps, r: CaseResult): Promise<AcceptanceCase> {
  if (!r.ok) fail(r.error.code, r.error.message, r.error.field);
  await ctx.db.acceptance.put(r.value, formatTime(ctx.deps.clock.now()));
  return (await currentCase(ctx, r.value.node)) ?? r.value;
}

/**
 * Records a joint-debugging run of a child (both ways judged by the caller) in its case and tells whether the child
 * is now accepted. A child approved before cases existed gets one opened now.
 */
export async function recordJointDebugRun(
  ctx: AcceptanceDeps,
  input: { node: string; passed: boolean },
): Promise<AcceptanceCase> {
  const now = ctx.deps.clock.now();
  const c = await openAcceptanceCase(ctx, { node: input.node, approvedAt: now });
  const next = recordRun(c, { at: now, by: ctx.config.code, passed: input.passed });
  await ctx.db.acceptance.put(next, formatTime(now));
  if (next.status !== c.status)
    await ctx.audit.record({
      who: ctx.config.code,
      action: `joint-debug:${next.status}`,
      resource: `acceptance:${input.node}`,
      decision: 'allow',
      requestId: '-',
    });
  return next;
}

/**
 * Raises what became overdue even when nobody reads the cases: every `acceptanceSweepMs` of node time the cases are
 * refreshed (a flag is raised once, as on a read). Nothing runs on a node that keeps no case.
 */
export function startAcceptanceSweep(ctx: AcceptanceDeps): () => void {
  return repeat(ctx.deps, { ms: ctx.config.acceptanceSweepMs, what: 'acceptance sweep' }, () => allCases(ctx));
}
