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
import type { NodeDeps } from './deps.ts';
import type { NodeStores } from './store/stores.ts';

/** Records events in the event log and streams them on /monitor. */
export interface EventBus {
  emit(
    type: EventType,
    detail?: { subject?: string; severity?: MonitorEvent['severity']; data?: Record<string, unknown> },
  ): MonitorEvent;
  attach(io: Server): void;
}

/** Creates the node's event bus. */
export function createEventBus(
  db: Pick<NodeStores, 'write' | 'events'>,
  ctx: { deps: NodeDeps; code: string },
): EventBus {
  let io: Server | null = null;
  return {
    emit(type, detail = {}) {
      const event: MonitorEvent = {
        id: b64url(ctx.deps.randomBytes(12)),
        type,
        at: formatTime(ctx.deps.clock.now()),
        node: ctx.code,
        subject: detail.subject,
        severity: detail.severity ?? 'info',
        data: detail.data ?? {},
      };
      // The row joins the next group commit (microseconds, not a Prisma query).
      const stored = db.write(() =>
        db.events.add({
          id: event.id,
          type,
          at: event.at,
          subject: event.subject ?? null,
          severity: event.severity,
          data: JSON.stringify(event.data),
          node: null,
        }),
      );
      void stored.catch((e: unknown) => ctx.deps.logger.warn({ err: e }, 'event not stored'));
      io?.of(NAMESPACES.monitor).emit(SOCKET_EVENTS.event, { ...event, protocol: PROTOCOL_VERSION });
      return event;
    },
    attach(server) {
      io = server;
    },
  };
}
