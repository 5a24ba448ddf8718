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

type EventDetail = { subject?: string; severity?: MonitorEvent['severity']; data?: Record<string, unknown> };

/**
 * The rooms of /monitor connections: those that take each live event as an `event` message, and those whose handshake
 * asked for batches (`auth.batch: true`, `events` messages). A connection joins one on connecting.
 */
export const MONITOR_ROOMS = { single: 'events:one-by-one', batched: 'events:batched' } as const;
/** At most this many events in one `events` message (a busy turn sends several). */
const BATCH_MAX = 500;

/** Records events in the event log and streams them on /monitor. */
export interface EventBus {
  /** Stores the event's row in the next group commit (not awaited) and streams it now. */
  emit(type: EventType, detail?: EventDetail): MonitorEvent;
  /**
   * Inside a unit of work: stores the event's row in that unit, so it commits with the unit's other writes (no commit
   * of its own, and never without them); the caller streams it with `publish` once the unit has committed.
   */
  stage(type: EventType, detail?: EventDetail): Promise<MonitorEvent>;
  /** Streams an event on /monitor: a staged one after its unit committed, or one forwarded by a child. */
  publish(event: MonitorEvent): void;
  attach(io: Server): void;
}

/**
 * An event's id: the event's time (ms, 6 bytes big-endian) and 6 random bytes, as 16 characters of base64url. Ids
 * made close in time share their first characters, so they land together in the event log's unique index and a group
 * commit dirties one or two of its pages, not one per event as random ids did (about one of the five pages a
 * registration wrote to the WAL, issue 26). 48 random bits tell apart the events of one millisecond.
 */
export function eventId(deps: Pick<NodeDeps, 'clock' | 'randomBytes'>): string {
  const id = new Uint8Array(12);
  const ms = Math.max(0, Math.trunc(deps.clock.now()));
  const high = Math.floor(ms / 2 ** 16);
  id[0] = (high >>> 24) & 255;
  id[1] = (high >>> 16) & 255;
  id[2] = (high >>> 8) & 255;
  id[3] = high & 255;
  id[4] = (ms >>> 8) & 255;
  id[5] = ms & 255;
  id.set(deps.randomBytes(6), 6);
  return b64url(id);
}

/** Creates the node's event bus. */
export function createEventBus(
  db: Pick<NodeStores, 'write' | 'events'>,
  ctx: { deps: NodeDeps; code: string },
): EventBus {
  let io: Server | null = null;
  const make = (type: EventType, detail: EventDetail): MonitorEvent => ({
    id: eventId(ctx.deps),
    type,
    at: formatTime(ctx.deps.clock.now()),
    node: ctx.code,
    subject: detail.subject,
    severity: detail.severity ?? 'info',
    data: detail.data ?? {},
  });
  const store = (event: MonitorEvent) =>
    db.events.add({
      id: event.id,
      type: event.type,
      at: event.at,
      subject: event.subject ?? null,
      severity: event.severity,
      data: JSON.stringify(event.data),
      node: null,
    });
  // Nobody watching (no viewer, no recorder, no ancestor's stream): nothing to encode. socket.io encodes a broadcast
  // before it looks for receivers, so an unwatched node paid a copy and a JSON encoding per event for nothing.
  // Connections that asked for batches (`MONITOR_ROOMS.batched`) get one `events` message per turn of the event loop.
  let pending: MonitorEvent[] = [];
  const flush = () => {
    const events = pending;
    pending = [];
    const monitor = io?.of(NAMESPACES.monitor);
    if (!monitor) return;
    for (let i = 0; i < events.length; i += BATCH_MAX)
      monitor
        .to(MONITOR_ROOMS.batched)
        .emit(SOCKET_EVENTS.events, { protocol: PROTOCOL_VERSION, events: events.slice(i, i + BATCH_MAX) });
  };
  const publish = (event: MonitorEvent) => {
    const monitor = io?.of(NAMESPACES.monitor);
    if (!monitor || monitor.sockets.size === 0) return;
    const rooms = monitor.adapter.rooms;
    if ((rooms.get(MONITOR_ROOMS.single)?.size ?? 0) > 0)
      monitor.to(MONITOR_ROOMS.single).emit(SOCKET_EVENTS.event, { ...event, protocol: PROTOCOL_VERSION });
    if ((rooms.get(MONITOR_ROOMS.batched)?.size ?? 0) > 0) {
      if (pending.length === 0) setImmediate(flush);
      pending.push(event);
    }
  };
  return {
    emit(type, detail = {}) {
      const event = make(type, detail);
      // The row joins the next group commit (microseconds, not a Prisma query).
      const stored = db.write(() => store(event));
      void stored.catch((e: unknown) => ctx.deps.logger.warn({ err: e }, 'event not stored'));
      publish(event);
      return event;
    },
    async stage(type, detail = {}) {
      const event = make(type, detail);
      await store(event);
      return event;
    },
    publish,
    attach(server) {
      io = server;
    },
  };
}
