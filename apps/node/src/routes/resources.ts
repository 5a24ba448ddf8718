import type { Router } from 'express';
import { z } from 'zod';
import {
  BatchAnswer,
  Cluster,
  ClusterList,
  MarketQuery,
  MarketView,
  Provider,
  ProviderList,
  RegisterCluster,
  RegisterProvider,
  ROUTES,
  SubtreeSummary,
  SummaryBatch,
} from '@cpnet/protocol';
import type { Principal } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import type { Aggregation } from '../aggregation/service.ts';
import { registerCluster, registerProvider } from '../aggregation/registration.ts';
import type { ProviderKeys } from '../aggregation/provider-keys.ts';
import { importPublicKey } from '../identity.ts';
import { fail } from '../http/http-error.ts';
import type { RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import type { Caller } from '../http/authenticate.ts';
import { peerRow } from '../http/principal.ts';

/** `GET /cpn/v1/clusters?provider=`: one provider's clusters, or every cluster. */
const ClustersQuery = z.strictObject({
  provider: z.string().max(64).optional().describe("only this provider's clusters (its identifier)"),
});

/** A provider signing with its own key acts as a provider principal in this node's namespace. */
function providerPrincipal(ctx: Pick<NodeContext, 'config'>, keys: ProviderKeys, caller: Caller): Principal | null {
  const p = keys.get(caller.who);
  if (!p) return null;
  const status = p.lifecycle === 'active' ? 'active' : p.lifecycle === 'suspended' ? 'suspended' : 'revoked';
  return { kind: 'provider', id: caller.who, prefix: ctx.config.code, status, owner: caller.who };
}

/** What `resourceRoutes` uses of the node. */
type ResourceRoutesDeps = RouteDeps &
  Pick<NodeContext, 'outbox' | 'serials'> & {
    readonly aggregation: Aggregation;
    readonly providerKeys: ProviderKeys;
  };

const route = defineRoute<ResourceRoutesDeps>();

/** The key a provider registering itself signs with: the one in the body, its credit code as keyid. */
function providerSelfKey(body: unknown) {
  return (keyid: string) => {
    const b = body as { creditCode?: unknown; publicKey?: unknown } | undefined;
    if (!b || typeof b.publicKey !== 'string' || b.creditCode !== keyid) return null;
    try {
      return importPublicKey(b.publicKey);
    } catch {
      return null;
    }
  };
}

/** Providers, clusters, summaries from children and the market view (算力资源汇聚). */
export const RESOURCE_ROUTES: RouteTable<ResourceRoutesDeps> = [
  // A provider registers itself, signing with the key in the body and its credit code as keyid (it has no
  // identifier yet), or a node registers it on its behalf.
  route({
    operationId: 'registerProvider',
    method: 'post',
    path: ROUTES.providers,
    tag: 'resources',
    summary: 'Register a provider (统一社会信用代码)',
    description:
      'Signed with the key in the body and the credit code as keyid (the body is read first, 64 KiB at most), or ' +
      'by a node on its behalf. A provider already registered under the credit code is answered 200.',
    auth: 'self-keyed',
    selfKey: providerSelfKey,
    body: RegisterProvider,
    responses: {
      200: { description: 'Already registered under this credit code', schema: Provider },
      201: { description: 'Registered', schema: Provider },
    },
    errors: { 403: 'the policy refuses a signer other than the provider, or this node is suspended or revoked' },
    access: {
      action: 'create',
      resource: 'provider',
      rule: 'the provider itself (its own key), else the policy: `create` on a provider here',
    },
    audit: 'create',
    nonceInOwnCommit:
      'registerProvider writes the provider, its PV identifier record and copy upward (an outbox row), the ' +
      'idempotency key, the audit entry and the provider.registered event in one unit of work; the key cache, the ' +
      'event stream and the outbox kick follow that commit, which holds the nonce (or follows its commit). Lost in ' +
      'a crash, the nonce was lost with every row of the request and no answer had left: a replay registers once.',
    authorize: ({ env, caller, body }) =>
      caller!.who === body.creditCode
        ? null
        : { principal: caller!.principal, action: 'create', resource: { type: 'provider', prefix: env.config.code } },
    handle: async ({ env, caller, body: input, requestId, idempotency }) => {
      if (env.state.lifecycle === 'suspended' || env.state.lifecycle === 'revoked')
        fail('FORBIDDEN', `${env.config.code} is ${env.state.lifecycle}; it registers nothing`);
      const r = await registerProvider(env, {
        body: input,
        idempotency,
        audit: { who: caller!.who, action: 'create', requestId },
      });
      if (r.created) {
        env.providerKeys.put({ id: r.value.id, publicKey: input.publicKey, lifecycle: 'active' });
        if (r.event) env.events.publish(r.event);
        env.metrics.registrations.inc();
        env.outbox.kick();
      }
      return [r.status === 201 ? 201 : 200, { ...r.value, health: env.aggregation.providerHealth(r.value.id) }];
    },
  }),
  route({
    operationId: 'registerCluster',
    method: 'post',
    path: ROUTES.clusters,
    tag: 'resources',
    summary: 'Register a cluster, signed by its provider (or a node on its behalf)',
    auth: 'required',
    signerKey: (env) => (keyid) => env.providerKeys.key(keyid),
    body: RegisterCluster,
    responses: {
      200: { description: 'An Idempotency-Key answered again', schema: Cluster },
      201: { description: 'Registered', schema: Cluster },
    },
    errors: {
      403: 'the policy refuses, or this node is suspended or revoked',
      404: '`provider` is not a provider registered here',
    },
    access: {
      action: 'create',
      resource: 'cluster',
      rule: 'the policy: `create` on a cluster owned by `provider` (the provider itself, or an operator)',
    },
    audit: 'create',
    nonceInOwnCommit:
      'registerCluster writes the cluster, its CL identifier record and copy upward (an outbox row), the ' +
      'idempotency key, the audit entry and the cluster.registered event in one unit of work; the cluster table, ' +
      'the event stream and the outbox kick follow that commit, which holds the nonce (or follows its commit). Lost ' +
      'in a crash, the nonce was lost with every row of the request and no answer had left: a replay registers once.',
    authorize: ({ env, caller, body }) => ({
      principal: providerPrincipal(env, env.providerKeys, caller!) ?? caller!.principal,
      action: 'create',
      resource: { type: 'cluster', prefix: env.config.code, owner: body.provider },
    }),
    handle: async ({ env, caller, body: input, requestId, idempotency }) => {
      if (env.state.lifecycle === 'suspended' || env.state.lifecycle === 'revoked')
        fail('FORBIDDEN', `${env.config.code} is ${env.state.lifecycle}; it registers nothing`);
      const r = await registerCluster(env, {
        body: input,
        idempotency,
        audit: { who: caller!.who, action: 'create', requestId },
      });
      if (r.spec) {
        env.aggregation.added(r.spec, r.event);
        env.metrics.registrations.inc();
        env.outbox.kick();
      }
      const state = env.aggregation.table.get(r.value.id);
      return [
        r.status === 201 ? 201 : 200,
        { ...r.value, ...(state ? { lifecycle: state.spec.lifecycle, health: state.health } : {}) },
      ];
    },
  }),
  route({
    operationId: 'listClusters',
    method: 'get',
    path: ROUTES.clusters,
    tag: 'resources',
    summary: 'Clusters registered here, with health, report count and last report',
    auth: 'none',
    query: ClustersQuery,
    responses: {
      200: { description: 'Every cluster (of one provider when `provider` is given)', schema: ClusterList },
    },
    handle: ({ env, query: q }) => {
      const items = [...env.aggregation.table.values()]
        .filter((s) => q.provider === undefined || s.spec.provider === q.provider)
        .map((s) => ({ ...s.spec, health: s.health, reports: s.reports, lastReport: s.report }));
      return [200, { items }];
    },
  }),
  route({
    operationId: 'listProviders',
    method: 'get',
    path: ROUTES.providers,
    tag: 'resources',
    summary: 'Providers registered here, with health',
    auth: 'none',
    responses: { 200: { description: 'Every provider', schema: ProviderList } },
    handle: async ({ env }) => {
      const rows = await env.db.providers.all();
      return [
        200,
        {
          items: rows.map((p) => ({
            id: p.id,
            name: p.name,
            creditCode: p.creditCode,
            province: p.province,
            city: p.city,
            node: env.config.code,
            lifecycle: p.lifecycle,
            health: env.aggregation.providerHealth(p.id),
            registeredAt: p.registeredAt,
          })),
        },
      ];
    },
  }),
  // A child's summaries, each deduplicated by its idempotency key; only a child may speak for its own subtree. A child
  // that sends the one summary upward sends one every scheduling interval (its heartbeat): only the summaries written
  // (changed materially, or the last written is old) are audited and raise `summary.received`.
  route({
    operationId: 'receiveSummaries',
    method: 'post',
    path: ROUTES.summaries,
    tag: 'resources',
    summary: "Node to node: a child's subtree summaries, each deduplicated by its key",
    description:
      'The newest summary of a child (by `at`) is applied; an older one is counted and dropped. A summary may carry ' +
      "the child's scheduling figures in `ext.scheduling` (the `SchedulingFigures` message of docs/asyncapi.json's " +
      'schemas: the one summary upward, sent every ' +
      "scheduling interval to a parent that advertised the `one-summary` capability): the parent ranks the child's " +
      "subtree with them and takes them as its heartbeat, and answers the whole hierarchy's ceiling in `ext.ceiling` " +
      '(a `Ceiling`, absent while it knows none). A summary is written only when it changed materially since the ' +
      "child's last written one, or that one is older than the parent's `summaryMaxIntervalMs`.",
    auth: 'required',
    body: SummaryBatch,
    responses: {
      200: {
        description: "How many were new and how many already held; `ext.ceiling`: the hierarchy's ceiling",
        schema: BatchAnswer,
      },
    },
    errors: { 403: 'the caller is not an active child, or a summary is not its own' },
    access: { rule: 'an active child node, for its own summary' },
    audit: 'report',
    audited: ({ caller, res }) => (res.locals.summariesStored ? { resource: `summary:${caller!.principal.id}` } : null),
    handle: async ({ env, caller, res, body: batch }) => {
      const p = caller!.principal;
      const peer = p.kind === 'node' ? await peerRow(env, p.id) : undefined;
      if (peer?.relation !== 'child') fail('FORBIDDEN', `${p.id} is not a child of ${env.config.code}`);
      if (p.status !== 'active') fail('FORBIDDEN', `${p.id} is ${peer.lifecycle}`);
      for (const [i, item] of batch.items.entries()) {
        if (item.summary.node !== p.id)
          fail(
            'FORBIDDEN',
            `${p.id} may send only its own summary, not ${item.summary.node}'s`,
            `items.${i}.summary.node`,
          );
      }
      const r = await env.aggregation.receiveSummaries(
        batch.items.map((i) => ({ key: `${caller!.who}|summary|${i.key}`, summary: i.summary })),
      );
      res.locals.summariesStored = r.stored;
      if (r.stored > 0)
        env.events.emit('summary.received', {
          subject: p.id,
          data: { accepted: r.accepted, duplicates: r.duplicates },
        });
      const ceiling = r.figures ? env.aggregation.scheduling?.ceiling() : null;
      return [200, { accepted: r.accepted, duplicates: r.duplicates, ...(ceiling ? { ext: { ceiling } } : {}) }];
    },
  }),
  route({
    operationId: 'market',
    method: 'get',
    path: ROUTES.market,
    tag: 'resources',
    summary: "The market view over this node's subtree (the national node: all), filterable",
    auth: 'none',
    query: MarketQuery,
    responses: { 200: { description: 'The offers matching the filters', schema: MarketView } },
    handle: ({ env, query }) => [200, env.aggregation.market(query)],
  }),
  route({
    operationId: 'ownSummary',
    method: 'get',
    path: `${ROUTES.summaries}/self`,
    tag: 'resources',
    summary: "This node's current subtree summary",
    auth: 'none',
    responses: { 200: { description: 'The summary', schema: SubtreeSummary } },
    handle: ({ env }) => [200, env.aggregation.summary()],
  }),
];

/** Mounts the resource area. */
export function resourceRoutes(
  ctx: Omit<ResourceRoutesDeps, 'aggregation' | 'providerKeys'>,
  deps: { aggregation: Aggregation; providerKeys: ProviderKeys },
): Router {
  return mountTable({ ...ctx, ...deps }, RESOURCE_ROUTES);
}
