import { parentPrefix } from '@cpnet/identifier';
import { ROUTES, type Capability } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';

/** What the joint-debugging handshake left this node with for `peer`: the capabilities both advertised. */
function peerHas(ctx: Pick<NodeContext, 'settings'>, peer: string, capability: Capability): boolean {
  return ctx.settings.getJson<string[]>(`peer.capabilities.${peer}`)?.includes(capability) === true;
}

/**
 * Whether this node sends its parent the one summary upward: its subtree summary with the scheduling figures in
 * `ext.scheduling`, by a direct signed POST every `scheduling.summaryMs`, which is also its heartbeat. Only to a parent
 * that advertised `one-summary` at the joint-debugging handshake; to a 1.0 parent, or before the handshake, the subtree
 * summary goes through the outbox (damped) and the scheduling summary on its own to `/cpn/v1/scheduling/summaries`.
 * A fault fixture dropping summaries (test-only) keeps that 1.0 path, where its outbox drops them: a node that never
 * forwards its subtree summary, still heard by the parent's scheduling.
 */
export function sendsOneSummary(ctx: Pick<NodeContext, 'config' | 'deps' | 'settings'>): boolean {
  const parent = ctx.config.parentUrl ? parentPrefix(ctx.config.code) : null;
  if (!parent) return false;
  if (ctx.deps.faults?.dropDeliveries?.includes(ROUTES.summaries)) return false;
  return peerHas(ctx, parent, 'one-summary');
}
