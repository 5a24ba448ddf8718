import type { Router } from 'express';
import { z } from 'zod';
import { isWithin } from '@cpnet/identifier';
import { NodeClusters, Prefix, ROUTES, TopologySnapshot } from '@cpnet/protocol';
import type { PersonRole } from '@cpnet/security';
import type { Caller } from '../http/authenticate.ts';
import { fail } from '../http/http-error.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import type { RouteDeps } from '../http/write-route.ts';
import type { SubtreeSnapshots } from './subtree.ts';

const SubtreeQuery = z.strictObject({
  waitMs: z.coerce.number().int().min(100).max(10_000).optional().describe('wall ms to wait for the children'),
});
const ClustersQuery = z.strictObject({
  node: Prefix.describe("the node whose clusters to list (this node's subtree)"),
});

/** What the monitoring routes use of the node. */
type MonitorRoutesDeps = RouteDeps & {
  /** This node's subtree snapshots (built on demand, the children asked in parallel). */
  readonly subtree: SubtreeSnapshots;
};

const route = defineRoute<MonitorRoutesDeps>();

const WATCHER_RULE =
  'an ancestor node (signed; this node too) or a person the policy lets read this node’s metrics (read, metrics)';

/** An ancestor node (signed) or a person the policy lets read this node's metrics; anyone else 403. */
function watcher(env: MonitorRoutesDeps, caller: Caller): void {
  const p = caller.principal;
  if (p.kind === 'node') {
    if (p.id !== env.config.code && !isWithin(env.config.code, p.id))
      fail('FORBIDDEN', `${p.id} is not an ancestor of ${env.config.code}: only ancestors see its subtree`);
    return;
  }
  if (p.kind === 'person') {
    const d = env.policy.decide({
      principal: { kind: 'person', id: p.id, prefix: env.config.code, status: 'active', role: p.role as PersonRole },
      action: 'read',
      resource: { type: 'metrics', prefix: env.config.code },
    });
    if (d.allowed) return;
    fail('FORBIDDEN', `${p.id} may not watch ${env.config.code}: ${d.reason}`);
  }
  fail('FORBIDDEN', `${caller.who} may not watch ${env.config.code}`);
}

/**
 * `GET /cpn/v1/monitor/subtree` (this node's subtree snapshot, for an ancestor building its own or a viewer) and
 * `GET /cpn/v1/monitor/clusters?node=` (one node's clusters, when the snapshot sent per-node sums).
 */
export const MONITOR_ROUTES: RouteTable<MonitorRoutesDeps> = [
  route({
    operationId: 'getSubtreeSnapshot',
    method: 'get',
    path: ROUTES.monitorSubtree,
    tag: 'monitoring',
    summary: "This node's whole subtree as a TopologySnapshot",
    description:
      'Built on demand: the node asks each child for its own subtree (waiting at most `waitMs` of wall time) and ' +
      'merges the answers; a child that did not answer is listed as unreachable. Large subtrees send per-node ' +
      'cluster sums instead of every cluster (`GET /cpn/v1/monitor/clusters` lists one node’s).',
    auth: 'required',
    query: SubtreeQuery,
    // The subtree's snapshot is a TopologySnapshot (one schema, not an alias: an alias would name it twice).
    responses: { 200: { description: "The subtree's snapshot", schema: TopologySnapshot } },
    errors: { 403: 'the caller is neither an ancestor node nor a person allowed to read metrics' },
    access: { action: 'read', resource: 'metrics', rule: WATCHER_RULE },
    handle: async ({ env, caller, query }) => {
      watcher(env, caller!);
      return [200, await env.subtree.build(query.waitMs)];
    },
  }),
  route({
    operationId: 'getNodeClusters',
    method: 'get',
    path: ROUTES.monitorClusters,
    tag: 'monitoring',
    summary: "One node's clusters, when the subtree snapshot sent per-node sums",
    auth: 'required',
    query: ClustersQuery,
    responses: { 200: { description: "The node's clusters as last merged", schema: NodeClusters } },
    errors: {
      403: 'the caller is neither an ancestor node nor a person allowed to read metrics',
      404: "the node is not in this node's subtree",
    },
    access: { action: 'read', resource: 'metrics', rule: WATCHER_RULE },
    handle: ({ env, caller, query }) => {
      watcher(env, caller!);
      if (!isWithin(query.node, env.config.code))
        fail('NOT_FOUND', `${query.node} is not in the subtree of ${env.config.code}`);
      return [200, { node: query.node, items: env.subtree.clustersOf(query.node) }];
    },
  }),
];

/** Mounts the monitoring routes on this node's subtree snapshots. */
export function monitorRoutes(ctx: RouteDeps, subtree: SubtreeSnapshots): Router {
  return mountTable({ ...ctx, subtree }, MONITOR_ROUTES);
}
