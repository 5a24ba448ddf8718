import {
  MonitorEvent,
  MonitorHistory,
  NAMESPACES,
  SOCKET_EVENTS,
  TopologySnapshot,
  type FailoverEpisode,
} from '@cpnet/protocol';
import { applyEvent, emptyState, stateFromSnapshot } from './apply.ts';
import type { TimedEvent, ViewState } from './types.ts';

/** The part of a socket.io client socket the adapter uses (a fake in tests). */
export interface SocketLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  disconnect(): unknown;
}

/** Opens a socket: socket.io-client's `io` in the browser, a fake in tests. */
type Connect = (url: string, options: { auth: { token?: string }; transports: string[] }) => SocketLike;

/** What the live source reports. */
interface LiveHandlers {
  onState(state: ViewState): void;
  onEvent?(event: TimedEvent): void;
  /**
   * The history a node sends after the snapshot: the last `windowMs` of virtual time of events (already in `events`,
   * with negative times, not applied: the snapshot holds their effect) and the failover episodes still open.
   */
  onHistory?(history: { since: string; windowMs: number; truncated: boolean; episodes: FailoverEpisode[] }): void;
  onStatus?(status: 'connecting' | 'connected' | 'disconnected' | 'error', detail?: string): void;
}

/** A live view of a node's `/monitor` stream. */
interface LiveSource {
  readonly events: TimedEvent[];
  state(): ViewState;
  close(): void;
}

// Payloads may be the bare message or wrapped with the protocol version ({ protocol, event } / { protocol, snapshot }).
function unwrap(payload: unknown, key: string): unknown {
  if (payload && typeof payload === 'object' && key in payload) return (payload as Record<string, unknown>)[key];
  return payload;
}

/**
 * Connects to `<url>/monitor` with a viewer token: the snapshot sent on connect replaces the state, each event is
 * validated and applied. Virtual time is wall-clock ms since the first snapshot (passed in as `now`).
 */
export function connectLive(
  options: { url: string; token?: string; connect: Connect; now: () => number; maxEvents?: number },
  handlers: LiveHandlers,
): LiveSource {
  const base = options.url.replace(/\/+$/, '');
  const events: TimedEvent[] = [];
  const maxEvents = options.maxEvents ?? 50_000;
  let state = emptyState();
  let origin: number | null = null;
  const elapsed = () => (origin === null ? 0 : options.now() - origin);
  handlers.onStatus?.('connecting');
  const socket = options.connect(`${base}${NAMESPACES.monitor}`, {
    auth: options.token ? { token: options.token } : {},
    transports: ['websocket', 'polling'],
  });
  socket.on('connect', () => handlers.onStatus?.('connected'));
  socket.on('disconnect', (reason) => handlers.onStatus?.('disconnected', String(reason)));
  socket.on('connect_error', (e) => handlers.onStatus?.('error', e instanceof Error ? e.message : String(e)));
  socket.on(SOCKET_EVENTS.snapshot, (payload) => {
    const parsed = TopologySnapshot.safeParse(unwrap(unwrap(payload, 'snapshot'), 'state'));
    if (!parsed.success)
      return handlers.onStatus?.('error', `invalid snapshot: ${parsed.error.issues[0]?.message ?? ''}`);
    origin ??= options.now();
    state = stateFromSnapshot(parsed.data, elapsed());
    handlers.onState(state);
  });
  socket.on(SOCKET_EVENTS.history, (payload) => {
    const parsed = MonitorHistory.safeParse(payload);
    if (!parsed.success)
      return handlers.onStatus?.('error', `invalid history: ${parsed.error.issues[0]?.message ?? ''}`);
    const h = parsed.data;
    const until = Date.parse(h.until);
    // Times relative to the snapshot (virtual ms before it are negative); older than anything live, so first.
    const past: TimedEvent[] = h.events.map((event) => ({ t: Date.parse(event.at) - until, event }));
    const known = new Set(events.map((e) => e.event.id));
    events.unshift(...past.filter((e) => !known.has(e.event.id)));
    if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
    handlers.onHistory?.({ since: h.since, windowMs: h.windowMs, truncated: h.truncated, episodes: h.episodes });
    handlers.onState(state);
  });
  socket.on(SOCKET_EVENTS.event, (payload) => {
    const parsed = MonitorEvent.safeParse(unwrap(payload, 'event'));
    if (!parsed.success) return handlers.onStatus?.('error', `invalid event: ${parsed.error.issues[0]?.message ?? ''}`);
    origin ??= options.now();
    const timed: TimedEvent = { t: elapsed(), event: parsed.data as MonitorEvent };
    events.push(timed);
    if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
    applyEvent(state, timed.event, timed.t);
    handlers.onEvent?.(timed);
    handlers.onState(state);
  });
  return { events, state: () => state, close: () => void socket.disconnect() };
}
