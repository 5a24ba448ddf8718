import { Router, type Request } from 'express';
import { z } from 'zod';
import { isWithin } from '@cpnet/identifier';
import { Prefix, ROUTES, ViewerTokenRequest } from '@cpnet/protocol';
import { API_TOKEN_TTL_S, issueApiToken, type PersonRole } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { authenticate, hasCredentials } from '../http/authenticate.ts';
import { parseWith } from '../http/body.ts';
import { fail } from '../http/http-error.ts';
import { audited, writeRoute, type RouteDeps } from '../http/write-route.ts';
import type { SubtreeSnapshots } from './subtree.ts';

const SubtreeQuery = z.strictObject({
  waitMs: z.coerce.number().int().min(100).max(10_000).optional().describe('wall ms to wait for the children'),
});
const ClustersQuery = z.strictObject({ node: Prefix });

/** What `monitorRoutes` uses of the node. */
type MonitorRoutesDeps = RouteDeps & Pick<NodeContext, 'policy'>;

/** An ancestor node (signed) or a person the policy lets read this node's metrics; anyone else 401/403. */
async function watcher(ctx: MonitorRoutesDeps, req: Request): Promise<void> {
  if (!hasCredentials(req)) fail('UNAUTHENTICATED', 'the monitoring snapshot needs a signature or an API token');
  const caller = await authenticate(ctx, req, { raw: Buffer.alloc(0) });
  const p = caller.principal;
  if (p.kind === 'node') {
    if (p.id !== ctx.config.code && !isWithin(ctx.config.code, p.id))
      fail('FORBIDDEN', `${p.id} is not an ancestor of ${ctx.config.code}: only ancestors see its subtree`);
    return;
  }
  if (p.kind === 'person') {
    const d = ctx.policy.decide({
      principal: { kind: 'person', id: p.id, prefix: ctx.config.code, status: 'active', role: p.role as PersonRole },
      action: 'read',
      resource: { type: 'metrics', prefix: ctx.config.code },
    });
    if (d.allowed) return;
    fail('FORBIDDEN', `${p.id} may not watch ${ctx.config.code}: ${d.reason}`);
  }
  fail('FORBIDDEN', `${caller.who} may not watch ${ctx.config.code}`);
}

/**
 * `GET /cpn/v1/monitor/subtree` (this node's subtree snapshot, for an ancestor building its own or a viewer) and
 * `GET /cpn/v1/monitor/clusters?node=` (one node's clusters, when the snapshot sent per-node sums).
 */
export function monitorRoutes(ctx: MonitorRoutesDeps, subtree: SubtreeSnapshots): Router {
  const router = Router();
  router.get(ROUTES.monitorSubtree, async (req, res) => {
    await watcher(ctx, req);
    const q = parseWith(SubtreeQuery, req.query);
    res.json(await subtree.build(q.waitMs));
  });
  // A visualiser keeps its page's viewer token fresh with an operator's credential, not the viewer's password.
  router.post(
    ROUTES.viewerTokens,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const input = parseWith(ViewerTokenRequest, body);
      const p = caller.principal;
      const allowed = (p.kind === 'node' && p.id === ctx.config.code) || (p.kind === 'person' && p.role === 'operator');
      if (!allowed) fail('FORBIDDEN', "viewer tokens are minted by this node's operators (or the node itself)");
      const account = await ctx.db.accounts.byId(input.viewer);
      if (!account) fail('NOT_FOUND', `no account ${input.viewer} at ${ctx.config.code}`, 'viewer');
      if (account.role !== 'viewer')
        fail('FORBIDDEN', `${input.viewer} is a ${account.role} account; only viewer tokens are minted here`, 'viewer');
      if (account.status !== 'active') fail('FORBIDDEN', `${input.viewer} is ${account.status}`, 'viewer');
      const ttl = input.ttlSeconds ?? API_TOKEN_TTL_S.default;
      const token = await issueApiToken(
        { id: account.id, role: 'viewer', node: ctx.config.code, status: 'active' },
        {
          privateKey: ctx.identity.keys.privateKey,
          clock: ctx.deps.clock,
          ttlSeconds: ttl,
          randomBytes: ctx.deps.randomBytes,
        },
      );
      await audited(ctx, { who: caller.who, action: 'token', resource: `account:${account.id}`, requestId });
      return [201, { token, expiresIn: ttl }];
    }),
  );
  router.get(ROUTES.monitorClusters, async (req, res) => {
    await watcher(ctx, req);
    const q = parseWith(ClustersQuery, req.query);
    if (!isWithin(q.node, ctx.config.code)) fail('NOT_FOUND', `${q.node} is not in the subtree of ${ctx.config.code}`);
    res.json({ node: q.node, items: subtree.clustersOf(q.node) });
  });
  return router;
}
