import {
  MonitorEvent,
  MonitorHistory,
  NAMESPACES,
  SOCKET_EVENTS,
  TopologySnapshot,
  type FailoverEpisode,
} from '@cpnet/protocol';
import type { Clock } from '@cpnet/kernel';
import { applyEvent, emptyState, stateFromSnapshot } from './apply.ts';
import type { TimedEvent, ViewState } from './types.ts';

/** The part of a socket.io client socket the adapter uses (a fake in tests). */
export interface SocketLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  disconnect(): unknown;
  /** Connects again (after a refused handshake socket.io does not retry by itself). */
  connect?(): unknown;
}

/** The handshake's auth: fixed, or asked for at every (re)connection (socket.io-client calls a function each time). */
type HandshakeAuth = { token?: string; batch?: true };
type Auth = HandshakeAuth | ((cb: (auth: HandshakeAuth) => void) => void);

/** Opens a socket: socket.io-client's `io` in the browser, a fake in tests. */
type Connect = (url: string, options: { auth: Auth; transports: string[] }) => SocketLike;

/** A fresh viewer token from the server that serves the page (`POST /token`), or why there is none. */
export type Renew = () => Promise<{ token: string; renewInMs: number } | { error: string }>;

/** What the live source reports. */
interface LiveHandlers {
  onState(state: ViewState): void;
  onEvent?(event: TimedEvent): void;
  /**
   * The history a node sends after the snapshot: the last `windowMs` of virtual time of events (already in `events`,
   * with negative times, not applied: the snapshot holds their effect) and the failover episodes still open.
   */
  onHistory?(history: { since: string; windowMs: number; truncated: boolean; episodes: FailoverEpisode[] }): void;
  onStatus?(status: 'connecting' | 'connected' | 'disconnected' | 'error' | 'unauthorised', detail?: string): void;
}

/** A live view of a node's `/monitor` stream. */
interface LiveSource {
  readonly events: TimedEvent[];
  state(): ViewState;
  /**
   * Replaces the state with a fresh snapshot of the node (`GET /cpn/v1/monitor/subtree`): the stream sends one on
   * connect, and capacity, prices and utilisation change without events reaching the national node.
   */
  refresh(snapshot: unknown): boolean;
  close(): void;
}

// Payloads may be the bare message or wrapped with the protocol version ({ protocol, event } / { protocol, snapshot }).
function unwrap(payload: unknown, key: string): unknown {
  if (payload && typeof payload === 'object' && key in payload) return (payload as Record<string, unknown>)[key];
  return payload;
}

/** What `connectLive` is given. */
interface LiveOptions {
  url: string;
  /** The first viewer token. */
  token?: string;
  /** Renews the token (before it expires, and when a handshake is refused). */
  renew?: Renew;
  connect: Connect;
  now: () => number;
  /**
   * Virtual epoch ms that time 0 stands for (a simulation's start, `cpnet demo`); without it, the first snapshot's
   * time. Every event's `t` is its own time (`at`) minus this origin: one clock, the network's, virtual in a simulation.
   */
  origin?: number;
  /** The page's wall clock, for the renewal timer (the page's own in the browser, a fake in tests). */
  clock?: Pick<Clock, 'setTimeout'>;
  maxEvents?: number;
}

/**
 * Connects to `<url>/monitor` with a viewer token: the snapshot sent on connect replaces the state, each event is
 * validated and applied. Times are the network's (`at`, virtual in a simulation) minus `origin`; kept non-decreasing
 * in arrival order so that the event list stays sorted for the views' binary searches.
 */
export function connectLive(options: LiveOptions, handlers: LiveHandlers): LiveSource {
  let token = options.token;
  let cancelRenewal: (() => void) | undefined;
  let closed = false;
  // Renews before expiry (the server says when, in wall ms) and after a refused handshake; null when it could not.
  const renew = async (): Promise<string | null> => {
    if (!options.renew) return null;
    const r = await options.renew().catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
    if ('error' in r) return r.error;
    token = r.token;
    cancelRenewal?.();
    cancelRenewal = undefined;
    if (!closed && options.clock)
      cancelRenewal = options.clock.setTimeout(() => void renew(), Math.max(1000, r.renewInMs));
    return null;
  };
  let retried = false;
  const base = options.url.replace(/\/+$/, '');
  const events: TimedEvent[] = [];
  const maxEvents = options.maxEvents ?? 50_000;
  let state = emptyState();
  let origin: number | null = options.origin ?? null;
  let lastT = Number.NEGATIVE_INFINITY;
  const timeOf = (at: string): number => {
    const ms = Date.parse(at);
    origin ??= ms;
    lastT = Math.max(lastT, ms - origin);
    return lastT;
  };
  handlers.onStatus?.('connecting');
  const socket = options.connect(`${base}${NAMESPACES.monitor}`, {
    // `batch`: live events come as `events` messages, one per turn of the node's event loop (a busy national node
    // streams thousands a second); a node that does not know the field sends `event` messages, taken alike.
    auth: options.renew
      ? (cb) => cb(token ? { token, batch: true } : { batch: true })
      : token
        ? { token, batch: true }
        : { batch: true },
    transports: ['websocket', 'polling'],
  });
  if (options.renew) void renew();
  socket.on('connect', () => {
    retried = false;
    handlers.onStatus?.('connected');
  });
  socket.on('disconnect', (reason) => handlers.onStatus?.('disconnected', String(reason)));
  socket.on('connect_error', (e) => {
    const message = e instanceof Error ? e.message : String(e);
    if (!message.startsWith('UNAUTHENTICATED')) return handlers.onStatus?.('error', message);
    // Refused: an expired token is renewed once and tried again; otherwise the page says so plainly.
    if (options.renew && !retried) {
      retried = true;
      void renew().then((problem) => {
        if (problem) handlers.onStatus?.('unauthorised', `the viewer token could not be renewed: ${problem}`);
        else socket.connect?.();
      });
      return;
    }
    handlers.onStatus?.(
      'unauthorised',
      `the node refused the viewer token: ${message.replace(/^UNAUTHENTICATED:\s*/, '')}`,
    );
  });
  /**
   * The state of a snapshot, with the events already received that are newer than it applied on top: a snapshot is
   * the node's picture at its `at`, and one fetched just before an event can arrive after it (a node's kill, seen
   * by the stream, must not be undone by the picture taken a moment before it). What only the events carry (flow
   * sums, benign alerts) is the old state's, which counted those events already.
   */
  const adopt = (snapshot: TopologySnapshot): ViewState => {
    const next = stateFromSnapshot(snapshot, timeOf(snapshot.at));
    const at = Date.parse(snapshot.at);
    // Times are non-decreasing and never below an event's own time: once one is at or before the snapshot's, so
    // are all the earlier ones.
    let i = events.length;
    while (i > 0 && events[i - 1]!.t > at - origin!) i--;
    for (let j = i; j < events.length; j++) {
      const e = events[j]!;
      if (Date.parse(e.event.at) > at) applyEvent(next, e.event, e.t);
    }
    next.t = Math.max(next.t, lastT);
    next.flowCounts = state.flowCounts;
    next.benignAlerts = state.benignAlerts;
    return next;
  };
  socket.on(SOCKET_EVENTS.snapshot, (payload) => {
    const parsed = TopologySnapshot.safeParse(unwrap(unwrap(payload, 'snapshot'), 'state'));
    if (!parsed.success)
      return handlers.onStatus?.('error', `invalid snapshot: ${parsed.error.issues[0]?.message ?? ''}`);
    state = adopt(parsed.data);
    handlers.onState(state);
  });
  socket.on(SOCKET_EVENTS.history, (payload) => {
    const parsed = MonitorHistory.safeParse(payload);
    if (!parsed.success)
      return handlers.onStatus?.('error', `invalid history: ${parsed.error.issues[0]?.message ?? ''}`);
    const h = parsed.data;
    origin ??= Date.parse(h.until);
    const base = origin;
    // On the same clock as everything live (before the first snapshot: negative); older, so first.
    const past: TimedEvent[] = h.events
      .map((event) => ({ t: Date.parse(event.at) - base, event }))
      .sort((a, b) => a.t - b.t);
    const known = new Set(events.map((e) => e.event.id));
    events.unshift(...past.filter((e) => !known.has(e.event.id)));
    if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
    handlers.onHistory?.({ since: h.since, windowMs: h.windowMs, truncated: h.truncated, episodes: h.episodes });
    handlers.onState(state);
  });
  /** Validates and applies one live event; false (and an error status) when it is not a MonitorEvent. */
  const take = (payload: unknown): boolean => {
    const parsed = MonitorEvent.safeParse(unwrap(payload, 'event'));
    if (!parsed.success) {
      handlers.onStatus?.('error', `invalid event: ${parsed.error.issues[0]?.message ?? ''}`);
      return false;
    }
    const timed: TimedEvent = { t: timeOf(parsed.data.at), event: parsed.data as MonitorEvent };
    events.push(timed);
    if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
    applyEvent(state, timed.event, timed.t);
    handlers.onEvent?.(timed);
    return true;
  };
  socket.on(SOCKET_EVENTS.event, (payload) => {
    if (take(payload)) handlers.onState(state);
  });
  // A batch: each event as if it came alone, and the state handed on once.
  socket.on(SOCKET_EVENTS.events, (payload) => {
    const list = (payload as { events?: unknown } | null)?.events;
    if (!Array.isArray(list) || list.length === 0)
      return handlers.onStatus?.('error', 'invalid events: a batch without an `events` list');
    let applied = 0;
    for (const e of list) if (take(e)) applied++;
    if (applied > 0) handlers.onState(state);
  });
  return {
    events,
    state: () => state,
    refresh(payload: unknown): boolean {
      const parsed = TopologySnapshot.safeParse(payload);
      if (!parsed.success) {
        handlers.onStatus?.('error', `invalid snapshot: ${parsed.error.issues[0]?.message ?? ''}`);
        return false;
      }
      state = adopt(parsed.data);
      handlers.onState(state);
      return true;
    },
    close: () => {
      closed = true;
      cancelRenewal?.();
      socket.disconnect();
    },
  };
}
