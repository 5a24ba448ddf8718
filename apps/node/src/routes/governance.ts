import { Router } from 'express';
import { childToward, isWithin, parsePrefix } from '@cpnet/identifier';
import { EmergencyAction, LifecycleNotice, ROUTES, type NodeLifecycle } from '@cpnet/protocol';
import type { Action } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { parseWith } from '../http/body.ts';
import { audited, authorize, writeRoute } from '../http/write-route.ts';
import { publicName } from '../http/public-name.ts';
import { setChildLifecycle } from '../onboarding/grant.ts';
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
type GovernanceRoutesDeps = Pick<
  NodeContext,
  | 'accounts'
  | 'audit'
  | 'cache'
  | 'config'
  | 'db'
  | 'deps'
  | 'events'
  | 'identity'
  | 'metrics'
  | 'nonceStore'
  | 'outbox'
  | 'policy'
  | 'setLifecycle'
  | 'state'
  | 'tls'
>;

/** Emergency response (应急处置) and lifecycle notices that travel up the hierarchy. */
export function governanceRoutes(ctx: GovernanceRoutesDeps, parts: { memberOrders: MemberOrders }): Router {
  const router = Router();
  router.post(
    ROUTES.emergency,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const order = parseWith(EmergencyAction, body);
      if (isMemberTarget(order.target)) {
        const r = await parts.memberOrders({ order, principal: caller.principal, requestId });
        ctx.events.emit('security.emergency', {
          subject: r.target,
          severity: 'critical',
          data: { action: order.action, reason: order.reason, by: publicName(caller.principal) },
        });
        await audited(ctx, { who: caller.who, action: order.action, resource: `member:${r.target}`, requestId });
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
      if (!isWithin(prefix, ctx.config.code)) fail('FORBIDDEN', `${prefix} is not within ${ctx.config.code}`, 'target');
      await authorize(ctx, {
        request: { principal: caller.principal, action: order.action as Action, resource: { type: 'node', prefix } },
        requestId,
      });
      const lifecycle = RESULT[order.action]!;
      const payload = { ...order, target: prefix };
      if (prefix === ctx.config.code) {
        if (caller.principal.id === ctx.config.code)
          fail('FORBIDDEN', 'a node cannot suspend, reinstate or revoke itself; its parent does');
        await ctx.setLifecycle(lifecycle, order.reason);
      } else {
        await setChildLifecycle(ctx, { prefix, lifecycle });
        await relay(ctx, { target: prefix, body: payload });
        await tellParent(ctx, { target: prefix, lifecycle, reason: order.reason });
        ctx.outbox.kick();
      }
      ctx.events.emit('security.emergency', {
        subject: prefix,
        severity: 'critical',
        data: { action: order.action, reason: order.reason, by: publicName(caller.principal) },
      });
      await audited(ctx, { who: caller.who, action: order.action, resource: `node:${prefix}`, requestId });
      return [200, { target: prefix, lifecycle }];
    }),
  );
  router.post(
    `${ROUTES.node}/lifecycle`,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const notice = parseWith(LifecycleNotice, body);
      const peer = await ctx.db.peers.byPrefix(caller.principal.id);
      if (
        caller.principal.kind !== 'node' ||
        peer?.relation !== 'child' ||
        !isWithin(notice.target, caller.principal.id) ||
        notice.target === caller.principal.id
      ) {
        fail('FORBIDDEN', `${caller.principal.id} may report only on nodes below it`);
      }
      await setChildLifecycle(ctx, { prefix: notice.target, lifecycle: notice.lifecycle });
      await tellParent(ctx, {
        target: notice.target,
        lifecycle: notice.lifecycle,
        ...(notice.reason ? { reason: notice.reason } : {}),
      });
      ctx.outbox.kick();
      await audited(ctx, { who: caller.who, action: 'lifecycle', resource: `node:${notice.target}`, requestId });
      return [200, { target: notice.target, lifecycle: notice.lifecycle }];
    }),
  );
  return router;
}
