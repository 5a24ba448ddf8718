import type { Router } from 'express';
import { childToward, isWithin, parsePrefix } from '@cpnet/identifier';
import {
  CertificateRenewalRequest,
  EmergencyAction,
  Grant,
  LifecycleAnswer,
  LifecycleNotice,
  ROUTES,
  type NodeLifecycle,
} from '@cpnet/protocol';
import type { Action } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { authorize, type RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import { publicName } from '../http/public-name.ts';
import { renewGrant, setChildLifecycle } from '../onboarding/grant.ts';
import { isMemberTarget, type MemberOrders } from '../aggregation/emergency.ts';

const RESULT: Record<string, NodeLifecycle> = { suspend: 'suspended', reinstate: 'online', revoke: 'revoked' };

async function relay(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps' | 'outbox'>,
  input: { target: string; body: unknown },
): Promise<void> {
  const next = childToward(ctx.config.code, input.target);
  const hop = next ? await ctx.db.peers.byPrefix(next) : null;
  if (!hop) {
    ctx.deps.logger.warn({ target: input.target }, 'no known child toward the target; the order is recorded here only');
    return;
  }
  await ctx.outbox.enqueue({ endpoint: hop.endpoint, path: ROUTES.emergency, body: input.body });
}

async function tellParent(
  ctx: Pick<NodeContext, 'config' | 'outbox'>,
  notice: { target: string; lifecycle: string; reason?: string },
): Promise<void> {
  if (!ctx.config.parentUrl) return;
  await ctx.outbox.enqueue({ endpoint: ctx.config.parentUrl, path: `${ROUTES.node}/lifecycle`, body: notice });
}

/** What `governanceRoutes` uses of the node. */
type GovernanceRoutesDeps = RouteDeps &
  Pick<NodeContext, 'cache' | 'outbox' | 'setLifecycle' | 'tls'> & {
    /** Orders on providers and clusters (resource aggregation). */
    readonly memberOrders: MemberOrders;
  };

const route = defineRoute<GovernanceRoutesDeps>();

/** Emergency response (应急处置) and lifecycle notices that travel up the hierarchy. */
export const GOVERNANCE_ROUTES: RouteTable<GovernanceRoutesDeps> = [
  route({
    operationId: 'emergency',
    method: 'post',
    path: ROUTES.emergency,
    tag: 'governance',
    summary: 'Suspend, reinstate or revoke a node, provider or cluster (应急处置)',
    description:
      'A node target is relayed down toward it and reported up to the parent; a provider or cluster target is ' +
      'applied by the node that registered it.',
    auth: 'required',
    body: EmergencyAction,
    responses: { 200: { description: 'Applied: the target and its lifecycle now', schema: LifecycleAnswer } },
    errors: {
      403: 'the target is not within this node, the policy refuses, or a node orders itself',
      404: 'no child leads to the target, or the provider or cluster is not registered here',
      409: 'the provider or cluster is revoked',
    },
    access: {
      action: 'suspend | reinstate | revoke',
      resource: 'node',
      rule: 'the policy: the order’s action on the target',
    },
    audit: 'suspend | reinstate | revoke',
    audited: ({ body }, out) => ({
      action: body.action,
      resource: `${isMemberTarget(body.target) ? 'member' : 'node'}:${(out as { target: string }).target}`,
    }),
    handle: async ({ env, caller, body: order, requestId }) => {
      const principal = caller!.principal;
      if (isMemberTarget(order.target)) {
        const r = await env.memberOrders({ order, principal, requestId });
        env.events.emit('security.emergency', {
          subject: r.target,
          severity: 'critical',
          data: { action: order.action, reason: order.reason, by: publicName(principal) },
        });
        return [200, r];
      }
      const target = parsePrefix(order.target);
      if (!target.ok)
        fail(
          'INVALID_PREFIX',
          `target: ${target.error.message}; provider and cluster targets come with resource aggregation`,
          'target',
        );
      const prefix = target.value.prefix;
      if (!isWithin(prefix, env.config.code)) fail('FORBIDDEN', `${prefix} is not within ${env.config.code}`, 'target');
      await authorize(env, {
        request: { principal, action: order.action as Action, resource: { type: 'node', prefix } },
        requestId,
      });
      const lifecycle = RESULT[order.action]!;
      const payload = { ...order, target: prefix };
      if (prefix === env.config.code) {
        if (principal.id === env.config.code)
          fail('FORBIDDEN', 'a node cannot suspend, reinstate or revoke itself; its parent does');
        await env.setLifecycle(lifecycle, order.reason);
      } else {
        await setChildLifecycle(env, { prefix, lifecycle });
        await relay(env, { target: prefix, body: payload });
        await tellParent(env, { target: prefix, lifecycle, reason: order.reason });
        env.outbox.kick();
      }
      env.events.emit('security.emergency', {
        subject: prefix,
        severity: 'critical',
        data: { action: order.action, reason: order.reason, by: publicName(principal) },
      });
      return [200, { target: prefix, lifecycle }];
    },
  }),
  route({
    operationId: 'lifecycleNotice',
    method: 'post',
    path: `${ROUTES.node}/lifecycle`,
    tag: 'governance',
    summary: 'Node to node: a child reports a lifecycle change in its subtree',
    auth: 'required',
    body: LifecycleNotice,
    responses: { 200: { description: 'Recorded and passed up', schema: LifecycleAnswer } },
    errors: { 403: 'the caller is not a child, or the target is not below it' },
    access: { rule: 'a child node, about a node strictly below it' },
    audit: 'lifecycle',
    audited: ({ body }) => ({ resource: `node:${body.target}` }),
    handle: async ({ env, caller, body: notice }) => {
      const p = caller!.principal;
      const peer = await env.db.peers.byPrefix(p.id);
      if (p.kind !== 'node' || peer?.relation !== 'child' || !isWithin(notice.target, p.id) || notice.target === p.id)
        fail('FORBIDDEN', `${p.id} may report only on nodes below it`);
      await setChildLifecycle(env, { prefix: notice.target, lifecycle: notice.lifecycle });
      await tellParent(env, {
        target: notice.target,
        lifecycle: notice.lifecycle,
        ...(notice.reason ? { reason: notice.reason } : {}),
      });
      env.outbox.kick();
      return [200, { target: notice.target, lifecycle: notice.lifecycle }];
    },
  }),
  route({
    operationId: 'renewCertificate',
    method: 'post',
    path: ROUTES.certificateRenewal,
    tag: 'governance',
    summary: 'Node to node: a child asks its parent to renew its certificate and delegation (same key)',
    description:
      'Asked by the child once two thirds of its certificate’s life (or of an issuer’s in its chain) have passed. ' +
      'The answer carries the parent’s current chain, so issuer renewals reach the child too.',
    auth: 'required',
    body: CertificateRenewalRequest,
    responses: {
      200: { description: 'The renewed certificate, the parent’s chain and a renewed delegation', schema: Grant },
    },
    errors: { 403: 'the caller is not a child node here, or it is suspended, revoked or rejected' },
    access: { rule: 'a child node, for itself' },
    audit: 'renew-certificate',
    audited: ({ caller }) => ({ resource: `node:${caller!.principal.id}` }),
    handle: async ({ env, caller }) => {
      const p = caller!.principal;
      if (p.kind !== 'node') fail('FORBIDDEN', `only a child node renews its own certificate, not a ${p.kind}`);
      const r = await renewGrant(env, { prefix: p.id });
      if (!r.ok) fail('FORBIDDEN', r.reason);
      env.deps.logger.info({ child: p.id }, 'child certificate renewed');
      return [200, r.grant];
    },
  }),
];

/** Mounts the governance area. */
export function governanceRoutes(
  ctx: Omit<GovernanceRoutesDeps, 'memberOrders'>,
  parts: { memberOrders: MemberOrders },
): Router {
  return mountTable({ ...ctx, memberOrders: parts.memberOrders }, GOVERNANCE_ROUTES);
}
