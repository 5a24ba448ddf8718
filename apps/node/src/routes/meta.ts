import { Router } from 'express';
import { z } from 'zod';
import { EventsQuery, formatTime, PROTOCOL_VERSION, ROUTES } from '@cpnet/protocol';
import { parentPrefix } from '@cpnet/identifier';
import type { NodeContext } from '../context.ts';
import { openApiDocument } from '../openapi.ts';
import { parseWith } from '../http/body.ts';
import { eventOf } from '../store/events.ts';

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
  };
}

/** What `metaRoutes` uses of the node. */
type MetaRoutesDeps = Pick<NodeContext, 'audit' | 'config' | 'db' | 'deps' | 'identity' | 'metrics' | 'state' | 'tls'>;

/** /healthz, /metrics, node info, OpenAPI, the event log and the audit head. */
export function metaRoutes(ctx: MetaRoutesDeps): Router {
  const router = Router();
  const doc = openApiDocument();
  router.get(ROUTES.health, (_req, res) => {
    res.json({
      status: ctx.state.health === 'down' ? 'down' : 'ok',
      lifecycle: ctx.state.lifecycle,
      health: ctx.state.health,
    });
  });
  router.get(ROUTES.metrics, async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  router.get(ROUTES.node, (_req, res) => {
    res.json(nodeInfo(ctx));
  });
  router.get(ROUTES.openapi, (_req, res) => {
    res.json(doc);
  });
  router.get(ROUTES.events, async (req, res) => {
    const q = parseWith(EventsQuery, req.query);
    const family = q.type?.endsWith('.*') ? q.type.slice(0, -1) : null;
    const rows = await ctx.db.events.find({
      ...(q.since ? { since: q.since } : {}),
      ...(family ? { family } : q.type ? { type: q.type } : {}),
      ...(q.cursor ? { after: Number(q.cursor) } : {}),
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map((r) => eventOf(r, ctx.config.code));
    res.json({ items, next: rows.length > q.limit ? String(rows[q.limit - 1]?.seq) : null });
  });
  router.get('/cpn/v1/audit/head', (req, res) => {
    parseWith(z.strictObject({}), req.query);
    res.json(ctx.audit.head());
  });
  return router;
}
