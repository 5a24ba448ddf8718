import type { Router } from 'express';
import { z } from 'zod';
import {
  CAPABILITIES,
  ConsistencyProof,
  EventPage,
  EventsQuery,
  formatTime,
  HealthAnswer,
  InclusionProof,
  NodeInfo,
  PROTOCOL_VERSION,
  ROUTES,
  SignedTreeHead,
} from '@cpnet/protocol';
import { parentPrefix } from '@cpnet/identifier';
import type { NodeContext } from '../context.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import type { RouteDeps } from '../http/write-route.ts';
import { eventOf } from '../store/events.ts';
import { fail } from '../http/http-error.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const count = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** What `nodeInfo` uses of the node. */
type NodeInfoDeps = Pick<NodeContext, 'config' | 'deps' | 'identity' | 'state' | 'tls'>;

/** This node's NodeInfo. */
export function nodeInfo(ctx: NodeInfoDeps) {
  return {
    code: ctx.config.code,
    role: ctx.config.role,
    prefix: ctx.config.code,
    name: ctx.config.name ?? ctx.config.code,
    parent: parentPrefix(ctx.config.code),
    parentUrl: ctx.config.parentUrl ?? null,
    lifecycle: ctx.state.lifecycle,
    health: ctx.state.health,
    protocol: PROTOCOL_VERSION,
    startedAt: formatTime(ctx.state.startedAt),
    now: formatTime(ctx.deps.clock.now()),
    ...(ctx.identity.certificate ? { certificate: ctx.identity.certificate, chain: ctx.identity.chain.slice(1) } : {}),
    publicKey: ctx.identity.publicKeyPem,
    ...(ctx.tls.endpoint() ? { tlsEndpoint: ctx.tls.endpoint()! } : {}),
    // What this node does beyond 1.0, in `ext`, which every 1.x schema accepts (docs/profiles.md §5).
    ext: { capabilities: [...CAPABILITIES] },
  };
}

/** What `metaRoutes` uses of the node. */
type MetaRoutesDeps = RouteDeps &
  Pick<NodeContext, 'tls'> & {
    /** The OpenAPI document (built from the route tables, this one included). */
    readonly openApi: () => Record<string, unknown>;
  };

const route = defineRoute<MetaRoutesDeps>();

/** The meta area: /healthz, /metrics, node info, this document, the event log and the audit head. */
export const META_ROUTES: RouteTable<MetaRoutesDeps> = [
  route({
    operationId: 'health',
    method: 'get',
    path: ROUTES.health,
    tag: 'meta',
    summary: 'Liveness and readiness',
    auth: 'none',
    responses: {
      200: { description: 'The node answers (status `down` when its health is down)', schema: HealthAnswer },
    },
    handle: ({ env }) => [
      200,
      { status: env.state.health === 'down' ? 'down' : 'ok', lifecycle: env.state.lifecycle, health: env.state.health },
    ],
  }),
  route({
    operationId: 'metrics',
    method: 'get',
    path: ROUTES.metrics,
    tag: 'meta',
    summary: 'Prometheus metrics (text exposition format)',
    auth: 'none',
    responses: { 200: { description: 'The metrics', schema: { mediaType: 'text/plain' } } },
    handle: async ({ env, res }) => {
      res.type(env.metrics.registry.contentType).send(await env.metrics.exposition());
      return null;
    },
  }),
  route({
    operationId: 'nodeInfo',
    method: 'get',
    path: ROUTES.node,
    tag: 'meta',
    summary: 'Who this node is',
    auth: 'none',
    responses: { 200: { description: 'This node', schema: NodeInfo } },
    handle: ({ env }) => [200, nodeInfo(env)],
  }),
  route({
    operationId: 'openapi',
    method: 'get',
    path: ROUTES.openapi,
    tag: 'meta',
    summary: 'This document',
    auth: 'none',
    responses: { 200: { description: 'The OpenAPI 3.1 document', schema: z.looseObject({ openapi: z.string() }) } },
    handle: ({ env }) => [200, env.openApi()],
  }),
  route({
    operationId: 'listEvents',
    method: 'get',
    path: ROUTES.events,
    tag: 'events',
    summary: 'The event log, paged in the order this node stored it',
    description:
      'Filter by `since` (an RFC 3339 time) and `type` (an event type, or a family such as `cluster.*`). `next` is ' +
      'the cursor of the following page: pass it back as `cursor` with the same filters.',
    auth: 'none',
    query: EventsQuery,
    responses: { 200: { description: 'A page of events', schema: EventPage } },
    handle: async ({ env, query: q }) => {
      const family = q.type?.endsWith('.*') ? q.type.slice(0, -1) : null;
      const rows = await env.db.events.find({
        ...(q.since ? { since: q.since } : {}),
        ...(family ? { family } : q.type ? { type: q.type } : {}),
        ...(q.cursor ? { after: Number(q.cursor) } : {}),
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit).map((r) => eventOf(r, env.config.code));
      return [200, { items, next: rows.length > q.limit ? String(rows[q.limit - 1]?.seq) : null }];
    },
  }),
  route({
    operationId: 'auditHead',
    method: 'get',
    path: '/cpn/v1/audit/head',
    tag: 'meta',
    summary: 'The signed tree head of the audit log',
    auth: 'none',
    query: z.strictObject({}),
    responses: { 200: { description: 'The current signed tree head', schema: SignedTreeHead } },
    handle: ({ env }) => [200, env.audit.head()],
  }),
  route({
    operationId: 'auditInclusionProof',
    method: 'get',
    path: '/cpn/v1/audit/proofs/inclusion',
    tag: 'meta',
    summary:
      'An inclusion proof of one audit entry in the tree of treeSize entries (verify it as docs/vectors/audit.json)',
    description:
      'The entry itself is not shown (it names principals): whoever holds an entry checks its leaf hash against ' +
      '`leafHash`, then the proof against the root of a signed tree head. `treeSize` defaults to the current size.',
    auth: 'none',
    query: z.strictObject({ index: count, treeSize: count.optional() }),
    responses: { 200: { description: 'The proof', schema: InclusionProof } },
    handle: ({ env, query: q }) => {
      const log = env.audit.log;
      const treeSize = q.treeSize ?? log.size;
      if (treeSize < 1 || treeSize > log.size)
        fail('SCHEMA_VIOLATION', `treeSize must be 1 to ${log.size} (the log's size)`, 'treeSize');
      if (q.index >= treeSize) fail('SCHEMA_VIOLATION', `index must be below treeSize ${treeSize}`, 'index');
      return [
        200,
        {
          index: q.index,
          treeSize,
          leafHash: b64(log.leafHash(q.index)),
          proof: log.inclusionProof(q.index, treeSize).map(b64),
          root: b64(log.root(treeSize)),
        },
      ];
    },
  }),
  route({
    operationId: 'auditConsistencyProof',
    method: 'get',
    path: '/cpn/v1/audit/proofs/consistency',
    tag: 'meta',
    summary: 'A consistency proof: the tree of first entries is a prefix of the tree of second entries',
    auth: 'none',
    query: z.strictObject({ first: count, second: count.optional() }),
    responses: { 200: { description: 'The proof', schema: ConsistencyProof } },
    handle: ({ env, query: q }) => {
      const log = env.audit.log;
      const second = q.second ?? log.size;
      if (second < 1 || second > log.size)
        fail('SCHEMA_VIOLATION', `second must be 1 to ${log.size} (the log's size)`, 'second');
      if (q.first < 1 || q.first > second) fail('SCHEMA_VIOLATION', `first must be 1 to ${second}`, 'first');
      return [
        200,
        {
          first: q.first,
          second,
          firstRoot: b64(log.root(q.first)),
          secondRoot: b64(log.root(second)),
          proof: log.consistencyProof(q.first, second).map(b64),
        },
      ];
    },
  }),
];

/** Mounts the meta area. */
export function metaRoutes(ctx: Omit<MetaRoutesDeps, 'openApi'>, openApi: () => Record<string, unknown>): Router {
  return mountTable({ ...ctx, openApi }, META_ROUTES);
}
