import type { z } from 'zod';
import type { Server } from 'socket.io';
import {
  formatTime,
  NAMESPACES,
  SOCKET_EVENTS,
  PROTOCOL_VERSION,
  type EventType,
  type MonitorEvent,
} from '@cpnet/protocol';
import { b64url } from '@cpnet/security';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { NodeDeps } from './deps.ts';
import type { SqlStore } from './store/sql.ts';

/** A monitoring event as stored and streamed. */
export type NodeEvent = z.output<typeof MonitorEvent>;

/** Records events in the event log and streams them on /monitor. */
export interface EventBus {
  emit(
    type: z.output<typeof EventType>,
    detail?: { subject?: string; severity?: NodeEvent['severity']; data?: Record<string, unknown> },
  ): NodeEvent;
  attach(io: Server): void;
}

/** Creates the node's event bus. */
export function createEventBus(prisma: PrismaClient, ctx: { deps: NodeDeps; code: string; sql?: SqlStore }): EventBus {
  let io: Server | null = null;
  return {
    emit(type, detail = {}) {
      const event: NodeEvent = {
        id: b64url(ctx.deps.randomBytes(12)),
        type,
        at: formatTime(ctx.deps.clock.now()),
        node: ctx.code,
        subject: detail.subject,
        severity: detail.severity ?? 'info',
        data: detail.data ?? {},
      };
      const data = JSON.stringify(event.data);
      // On the synchronous connection the row joins the next group commit instead of costing a Prisma query.
      const stored = ctx.sql
        ? ctx.sql.write(() =>
            ctx
              .sql!.stmt(
                'INSERT INTO "EventRecord" ("id", "type", "at", "subject", "severity", "data") VALUES (?, ?, ?, ?, ?, ?)',
              )
              .run(event.id, type, event.at, event.subject ?? null, event.severity, data),
          )
        : prisma.eventRecord.create({
            data: { id: event.id, type, at: event.at, subject: event.subject ?? null, severity: event.severity, data },
          });
      void stored.catch((e: unknown) => ctx.deps.logger.warn({ err: e }, 'event not stored'));
      io?.of(NAMESPACES.monitor).emit(SOCKET_EVENTS.event, { ...event, protocol: PROTOCOL_VERSION });
      return event;
    },
    attach(server) {
      io = server;
    },
  };
}
