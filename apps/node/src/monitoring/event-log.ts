import { Router } from 'express';
import { isWithin } from '@cpnet/identifier';
import {
  EventBatch,
  EventsExportQuery,
  NAMESPACES,
  PROTOCOL_VERSION,
  ROUTES,
  SOCKET_EVENTS,
  type MonitorEvent,
} from '@cpnet/protocol';
import type { Server } from 'socket.io';
import type { NodeContext } from '../context.ts';
import { eventOf, type EventStore } from '../store/events.ts';
import { fail } from '../http/http-error.ts';
import { parseWith } from '../http/body.ts';
import { audited, writeRoute } from '../http/write-route.ts';
import { peerRow } from '../http/principal.ts';

/** Event types a node forwards to its parent, so the national node's log and stream cover the whole hierarchy. */
export const FORWARDED_EVENT_TYPES = [
  'node.lifecycle',
  'node.health',
  'link.health',
  'job.flows',
  'provider.registered',
  'provider.lifecycle',
  'cluster.registered',
  'cluster.lifecycle',
  'cluster.health',
  'identifier.revoked',
  'application.decided',
  'joint-debug.result',
  'security.alert',
  'security.emergency',
] as const;

/** Stores events in one transaction, ignoring any id already held (a redelivered batch); returns the new ones. */
async function storeEvents(
  db: { write<T>(fn: () => T): Promise<T>; readonly events: EventStore },
  events: readonly MonitorEvent[],
): Promise<MonitorEvent[]> {
  return db.write(() =>
    events.filter((e) =>
      db.events.add({
        id: e.id,
        type: e.type,
        at: e.at,
        subject: e.subject ?? null,
        severity: e.severity,
        data: JSON.stringify(e.data),
        node: e.node,
      }),
    ),
  );
}

/** What `eventLogRoutes` uses of the node. */
type EventLogRoutesDeps = Pick<
  NodeContext,
  'accounts' | 'audit' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'nonceStore' | 'state'
>;

/** `POST /cpn/v1/events` (a child forwards its subtree's events) and `GET /cpn/v1/events/export` (JSON Lines). */
export function eventLogRoutes(ctx: EventLogRoutesDeps, io: () => Server | null): Router {
  const router = Router();
  router.post(
    ROUTES.events,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const batch = parseWith(EventBatch, body);
      const peer = caller.principal.kind === 'node' ? peerRow(ctx, caller.principal.id) : undefined;
      if (peer?.relation !== 'child' || caller.principal.status !== 'active')
        fail('FORBIDDEN', `${caller.principal.id} is not an active child of ${ctx.config.code}`);
      for (const [i, e] of batch.events.entries()) {
        if (!isWithin(e.node, caller.principal.id))
          fail(
            'FORBIDDEN',
            `${caller.principal.id} may forward only events of its subtree, not of ${e.node}`,
            `events.${i}.node`,
          );
      }
      const fresh = await storeEvents(ctx.db, batch.events);
      for (const e of fresh)
        io()
          ?.of(NAMESPACES.monitor)
          .emit(SOCKET_EVENTS.event, { ...e, protocol: PROTOCOL_VERSION });
      await audited(ctx, { who: caller.who, action: 'report', resource: `events:${batch.events.length}`, requestId });
      return [200, { accepted: fresh.length, duplicates: batch.events.length - fresh.length }];
    }),
  );
  router.get(`${ROUTES.events}/export`, async (req, res) => {
    const q = parseWith(EventsExportQuery, req.query);
    const family = q.type?.endsWith('.*') ? q.type.slice(0, -1) : null;
    res.type('application/x-ndjson');
    res.setHeader('content-disposition', `attachment; filename="${ctx.config.code}-events.jsonl"`);
    let cursor = 0;
    for (;;) {
      const rows = await ctx.db.events.find({
        after: cursor,
        ...(q.since ? { since: q.since } : {}),
        ...(q.until ? { until: q.until } : {}),
        ...(family ? { family } : q.type ? { type: q.type } : {}),
        limit: 1000,
      });
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.seq;
      res.write(rows.map((r) => `${JSON.stringify(eventOf(r, ctx.config.code))}\n`).join(''));
    }
    res.end();
  });
  return router;
}
