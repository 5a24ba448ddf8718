import { MonitorEvent, NAMESPACES, SOCKET_EVENTS, TopologySnapshot } from '@cpnet/protocol';
import { applyEvent, emptyState, stateFromSnapshot } from './apply.ts';
import type { TimedEvent, ViewState } from './types.ts';

/** The part of a socket.io client socket the adapter uses (a fake in tests). */
export interface SocketLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  disconnect(): unknown;
}

/** The handshake's auth: fixed, or asked for at every (re)connection (socket.io-client calls a function each time). */
type Auth = { token?: string } | ((cb: (auth: { token?: string }) => void) => void);

/** Opens a socket: socket.io-client's `io` in the browser, a fake in tests. */
type Connect = (url: string, options: { auth: Auth; transports: string[] }) => SocketLike;

/** A viewer token, or where to get a fresh one: tokens expire (in the node's time), the page may stay open for days. */
export type TokenSource = string | (() => Promise<string | undefined>);

/** The handshake auth for a token source: a function source is asked again at every reconnection. */
function authOf(token: TokenSource | undefined): Auth {
  if (typeof token !== 'function') return token ? { token } : {};
  return (cb) => {
    token().then(
      (t) => cb(t ? { token: t } : {}),
      () => cb({}),
    );
  };
}

/** What the live source reports. */
interface LiveHandlers {
  onState(state: ViewState): void;
  onEvent?(event: TimedEvent): void;
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
  options: { url: string; token?: TokenSource; connect: Connect; now: () => number; maxEvents?: number },
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
    auth: authOf(options.token),
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
