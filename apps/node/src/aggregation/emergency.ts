import { childToward, isWithin, parseIdentifier } from '@cpnet/identifier';
import { ROUTES, type MemberLifecycle } from '@cpnet/protocol';
import type { Action, Principal } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { authorize } from '../http/write-route.ts';
import type { GatewayHub } from '../gateway/namespace.ts';
import type { ProviderKeys } from './provider-keys.ts';
import type { Aggregation } from './service.ts';

const RESULT: Record<string, MemberLifecycle> = { suspend: 'suspended', reinstate: 'active', revoke: 'revoked' };

/** An emergency order (应急处置) on a provider or cluster. */
export interface MemberOrder {
  readonly target: string;
  readonly action: 'suspend' | 'reinstate' | 'revoke';
  readonly reason: string;
}

/** Applies an emergency order to a provider or cluster (or relays it toward the descendant that holds it). */
export type MemberOrders = (input: {
  order: MemberOrder;
  principal: Principal;
  requestId: string;
}) => Promise<{ target: string; lifecycle: string }>;

/** Whether a target names a provider or cluster (PV / CL identifier) rather than a node prefix. */
export function isMemberTarget(target: string): boolean {
  const p = parseIdentifier(target);
  return p.ok && (p.value.kind === 'PV' || p.value.kind === 'CL');
}

/** What `memberEmergency` uses of the node. */
type MemberEmergencyDeps = Pick<NodeContext, 'audit' | 'config' | 'db' | 'events' | 'outbox' | 'policy'>;

/**
 * Applies an emergency order to a provider or cluster of this node: its lifecycle is stored, its gateway is told
 * (a `control` order) and, for a suspended or revoked provider, disconnected; a target in a descendant's namespace
 * is relayed toward it through the outbox. A revoked member stays revoked.
 */
export async function memberEmergency(
  ctx: MemberEmergencyDeps,
  input: {
    order: MemberOrder;
    principal: Principal;
    requestId: string;
    aggregation: Aggregation;
    providerKeys: ProviderKeys;
    gateway: GatewayHub | null;
  },
): Promise<{ target: string; lifecycle: string }> {
  const parsed = parseIdentifier(input.order.target);
  if (!parsed.ok) fail('INVALID_IDENTIFIER', `target: ${parsed.error.message}`, 'target');
  const { id, prefix, kind } = parsed.value;
  if (!isWithin(prefix, ctx.config.code)) fail('FORBIDDEN', `${id} is not within ${ctx.config.code}`, 'target');
  await authorize(ctx, {
    request: {
      principal: input.principal,
      action: input.order.action as Action,
      resource: { type: kind === 'PV' ? 'provider' : 'cluster', prefix, id },
    },
    requestId: input.requestId,
  });
  const lifecycle = RESULT[input.order.action]!;
  if (prefix !== ctx.config.code) {
    const next = childToward(ctx.config.code, prefix);
    const hop = next ? await ctx.db.peers.byPrefix(next) : null;
    if (!hop) fail('NOT_FOUND', `no child of ${ctx.config.code} leads to ${prefix}`, 'target');
    await ctx.outbox.enqueue({ endpoint: hop.endpoint, path: ROUTES.emergency, body: { ...input.order, target: id } });
    ctx.outbox.kick();
    return { target: id, lifecycle };
  }
  let provider: string;
  if (kind === 'PV') {
    const held = input.providerKeys.get(id);
    if (!held) fail('NOT_FOUND', `${id} is not a provider of ${ctx.config.code}`, 'target');
    if (held.lifecycle === 'revoked') fail('CONFLICT', `${id} is revoked`, 'target');
    await ctx.db.providers.setProviderLifecycle(id, lifecycle);
    input.providerKeys.setLifecycle(id, lifecycle);
    provider = id;
    for (const c of input.aggregation.table.ofProvider(id)) {
      const cluster = input.aggregation.table.get(c);
      if (cluster) input.aggregation.changed({ kind: 'lifecycle', cluster });
    }
    ctx.events.emit('provider.lifecycle', {
      subject: id,
      severity: 'warning',
      data: { to: lifecycle, reason: input.order.reason },
    });
  } else {
    const state = input.aggregation.table.get(id);
    if (!state) fail('NOT_FOUND', `${id} is not a cluster of ${ctx.config.code}`, 'target');
    if (state.spec.lifecycle === 'revoked') fail('CONFLICT', `${id} is revoked`, 'target');
    await ctx.db.providers.setClusterLifecycle(id, lifecycle);
    state.spec.lifecycle = lifecycle;
    input.aggregation.changed({ kind: 'lifecycle', cluster: state });
    provider = state.spec.provider;
    ctx.events.emit('cluster.lifecycle', {
      subject: id,
      severity: 'warning',
      data: { to: lifecycle, reason: input.order.reason },
    });
  }
  if (input.gateway?.connected(provider)) {
    await input.gateway.control(provider, { target: id, action: input.order.action, reason: input.order.reason }, 2000);
    if (kind === 'PV' && lifecycle !== 'active') input.gateway.disconnect(provider);
  }
  return { target: id, lifecycle };
}
