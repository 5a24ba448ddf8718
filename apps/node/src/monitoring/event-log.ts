import type { Router } from 'express';
import { isWithin } from '@cpnet/identifier';
import { BatchAnswer, EventBatch, EventsExportQuery, ROUTES, type MonitorEvent } from '@cpnet/protocol';
import { eventOf, type EventStore } from '../store/events.ts';
import { fail } from '../http/http-error.ts';
import type { RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import { peerRow } from '../http/principal.ts';

/** Event types a node forwards to its parent, so the national node's log and stream cover the whole hierarchy. */
export const FORWARDED_EVENT_TYPES = [
  'node.lifecycle',
  'node.health',
  'link.health',
  'job.flows',
  // Only the placement on a cluster (the event shipper drops the others): one per job, with the owner's explanation
  // (the cluster chosen, the clusters not taken and why), what a reviewer asks of a job on the national screen. The
  // other job events stay at the nodes (job.flows sums them).
  'job.schedule',
  'provider.registered',
  'provider.lifecycle',
  'cluster.registered',
  'cluster.lifecycle',
  'cluster.health',
  'identifier.revoked',
  'application.decided',
  'joint-debug.result',
  'acceptance.flag',
  'acceptance.decided',
  'acceptance.supervision',
  'security.alert',
  'security.emergency',
] as const;

/** Stores events in one transaction, ignoring any id already held (a redelivered batch); returns the new ones. */
async function storeEvents(
  db: { write<T>(fn: () => Promise<T>): Promise<T>; readonly events: EventStore },
  events: readonly MonitorEvent[],
): Promise<MonitorEvent[]> {
  return db.write(async () => {
    const fresh: MonitorEvent[] = [];
    for (const e of events) {
      const added = await db.events.add({
        id: e.id,
        type: e.type,
        at: e.at,
        subject: e.subject ?? null,
        severity: e.severity,
        data: JSON.stringify(e.data),
        node: e.node,
      });
      if (added) fresh.push(e);
    }
    return fresh;
  });
}

const route = defineRoute<RouteDeps>();

/** `POST /cpn/v1/events` (a child forwards its subtree's events) and `GET /cpn/v1/events/export` (JSON Lines). */
export const EVENT_ROUTES: RouteTable<RouteDeps> = [
  route({
    operationId: 'receiveEvents',
    method: 'post',
    path: ROUTES.events,
    tag: 'events',
    summary: "Node to node: a child forwards its subtree's events (deduplicated by event id)",
    auth: 'required',
    body: EventBatch,
    responses: { 200: { description: 'How many were new and how many already held', schema: BatchAnswer } },
    errors: { 403: 'the caller is not an active child, or an event is from outside its subtree' },
    access: { rule: "an active child node, for its subtree's events" },
    audit: 'report',
    audited: ({ body }) => ({ resource: `events:${body.events.length}` }),
    handle: async ({ env, caller, body: batch }) => {
      const p = caller!.principal;
      const peer = p.kind === 'node' ? await peerRow(env, p.id) : undefined;
      if (peer?.relation !== 'child' || p.status !== 'active')
        fail('FORBIDDEN', `${p.id} is not an active child of ${env.config.code}`);
      for (const [i, e] of batch.events.entries()) {
        if (!isWithin(e.node, p.id))
          fail('FORBIDDEN', `${p.id} may forward only events of its subtree, not of ${e.node}`, `events.${i}.node`);
      }
      const fresh = await storeEvents(env.db, batch.events);
      // Streamed as the node's own are (only to connected watchers, one by one or in batches as each asked).
      for (const e of fresh) env.events.publish(e);
      return [200, { accepted: fresh.length, duplicates: batch.events.length - fresh.length }];
    },
  }),
  route({
    operationId: 'exportEvents',
    method: 'get',
    path: `${ROUTES.events}/export`,
    tag: 'events',
    summary: 'The event log as JSON Lines, for archiving',
    description: 'Every event matching `since`, `until` and `type` (a type or a family such as `job.*`), one per line.',
    auth: 'none',
    query: EventsExportQuery,
    responses: {
      200: {
        description: 'One MonitorEvent per line',
        schema: { mediaType: 'application/x-ndjson', description: 'JSON Lines of MonitorEvent' },
      },
    },
    handle: async ({ env, res, query: q }) => {
      const family = q.type?.endsWith('.*') ? q.type.slice(0, -1) : null;
      res.type('application/x-ndjson');
      res.setHeader('content-disposition', `attachment; filename="${env.config.code}-events.jsonl"`);
      let cursor = 0;
      for (;;) {
        const rows = await env.db.events.find({
          after: cursor,
          ...(q.since ? { since: q.since } : {}),
          ...(q.until ? { until: q.until } : {}),
          ...(family ? { family } : q.type ? { type: q.type } : {}),
          limit: 1000,
        });
        if (rows.length === 0) break;
        cursor = rows[rows.length - 1]!.seq;
        res.write(rows.map((r) => `${JSON.stringify(eventOf(r, env.config.code))}\n`).join(''));
      }
      res.end();
      return null;
    },
  }),
];

/** Mounts the event-log routes. */
export function eventLogRoutes(ctx: RouteDeps): Router {
  return mountTable(ctx, EVENT_ROUTES);
}
