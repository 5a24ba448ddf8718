import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { Clock, TimeSource } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import {
  Cancel,
  Control,
  Dispatch,
  GATEWAY_EVENTS,
  GatewaySession,
  NAMESPACES,
  PROTOCOL_VERSION,
  hasCapability,
  formatTime,
  type ClusterReport,
  type GatewayAck,
  type JobUpdate,
} from '@cpnet/protocol';
import { createSequenceValidator, issueHandshakeToken, type RandomBytes } from '@cpnet/security';
import type { Signer } from './signer.ts';

/** What a gateway does with the node's orders; each answer becomes the event's acknowledgement. */
export interface GatewayHandlers {
  dispatch?(order: Dispatch): GatewayAck | Promise<GatewayAck>;
  cancel?(order: Cancel): GatewayAck | Promise<GatewayAck>;
  control?(order: Control): GatewayAck | Promise<GatewayAck>;
}

/** How a gateway reaches its node. */
export interface GatewayOptions {
  /** The node's base URL, e.g. http://127.0.0.1:7001. */
  readonly baseUrl: string;
  /** The node's code (the handshake token's audience). */
  readonly node: string;
  /** The gateway's identity (its provider's PV identifier) and key. */
  readonly signer: Signer;
  /** The gateway's time (report and update `at`, handshake tokens): node time. Default the system clock. */
  readonly clock?: TimeSource;
  /** Wall time, for reconnecting (as socket.io's own reconnection does). Default the system clock. */
  readonly wall?: Clock;
  readonly randomBytes?: RandomBytes;
  readonly handlers?: GatewayHandlers;
  /** Reconnection backoff (wall ms): doubled from `initialMs` up to `maxMs`, with jitter. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

interface Pending {
  readonly id: number;
  /** Assigned at the first send, kept for every resend; null until then. */
  seq: number | null;
  readonly build: (seq: number, p: Pending) => Record<string, unknown>;
  payload: Record<string, unknown> | null;
  readonly event: string;
  /** Entries in the report, resolved as `accepted` when the node says it already applied the seq. */
  readonly size: number;
  attempt: number;
  resolve(ack: GatewayAck): void;
  /** Once built: what a report carries in full and names unchanged, to learn from its acknowledgement. */
  sent?: { readonly full: readonly ReportEntry[]; readonly seq: number };
}

type ReportEntry = z.input<typeof ClusterReport>;

/** What the gateway knows of one cluster's entries at the node. */
interface EntryState {
  /** The entry last sent in full and acknowledged (the node holds it), with its JSON and its report's seq. */
  base: { readonly entry: ReportEntry; readonly json: string; readonly seq: number } | null;
  /** Reports carrying this cluster in full that are not resolved yet: until then the node's entry is not known. */
  inFlight: number;
}

/** Freezes an entry the connection keeps as a base, so a caller that mutates it in place fails loudly. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** One socket.io connection for all of a provider's clusters: batched reports and job updates out, orders in. */
export interface GatewayConnection {
  /** Connects; resolves on the node's first session message (rejects if the node refuses the handshake). */
  connect(): Promise<GatewaySession>;
  /**
   * Reports for many clusters at once. The seq is assigned here; if the connection drops before the acknowledgement,
   * the report is sent again with the same seq after reconnecting, and resolved as applied when the node's session says
   * it already applied that seq — so each acknowledged report is applied exactly once.
   *
   * To a node that advertises `report-unchanged` in its session, an entry equal to the one last sent in full and
   * acknowledged goes as its identifier in `ext.unchanged` (the node applies it as that entry again); the first
   * report after each session, and any cluster with a full entry still unacknowledged, go in full. Entries are compared
   * by reference, then by value: an entry kept as the base is frozen, so pass a new object when a figure changes.
   */
  report(clusters: readonly ReportEntry[]): Promise<GatewayAck>;
  /** Sends a job update (same delivery rule as reports). */
  jobUpdate(update: Omit<z.input<typeof JobUpdate>, 'protocol' | 'seq' | 'at'> & { at?: string }): Promise<GatewayAck>;
  /** The last session the node sent. */
  readonly session: GatewaySession | null;
  readonly connected: boolean;
  /** Reports and updates sent but not acknowledged yet. */
  readonly pending: number;
  /** Called on every (re)connection with the node's session. */
  onSession(listener: (session: GatewaySession) => void): void;
  close(): void;
}

/** Creates a gateway connection (not connected until `connect()`). */
export function createGatewayConnection(options: GatewayOptions): GatewayConnection {
  const clock = options.clock ?? systemClock;
  const wall = options.wall ?? systemClock;
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 10_000 };
  const pending = new Map<number, Pending>();
  const listeners: ((s: GatewaySession) => void)[] = [];
  let nextSeq = 0;
  let updateSeq = 0;
  let session: GatewaySession | null = null;
  /** True once this connection's session arrived: seqs are numbered above what the node already applied. */
  let ready = false;
  let lastId = 0;
  let socket: Socket | null = null;
  let closed = false;
  let retryTimer: (() => void) | null = null;
  let delay = backoff.initialMs;
  let firstSession: { resolve(s: GatewaySession): void; reject(e: Error): void } | null = null;
  /** Per cluster: the base entry the node holds and full entries in flight (report-unchanged). */
  const entries = new Map<string, EntryState>();
  /** Whether the node of the current session takes `ext.unchanged`. */
  let deltas = false;
  const entryState = (cluster: string): EntryState => {
    let st = entries.get(cluster);
    if (!st) entries.set(cluster, (st = { base: null, inFlight: 0 }));
    return st;
  };

  /** Builds a report: every entry in full, or those the node holds already named in `ext.unchanged`. */
  function buildReport(p: Pending, clusters: readonly ReportEntry[], seq: number): Record<string, unknown> {
    const full: ReportEntry[] = [];
    const unchanged: string[] = [];
    for (const e of clusters) {
      const st = entryState(String(e.cluster));
      const base = st.base;
      if (deltas && base && st.inFlight === 0 && (base.entry === e || base.json === JSON.stringify(e)))
        unchanged.push(String(e.cluster));
      else {
        full.push(e);
        st.inFlight += 1;
      }
    }
    p.sent = { full, seq };
    const body: Record<string, unknown> = {
      protocol: PROTOCOL_VERSION,
      gateway: options.signer.keyid,
      seq,
      at: formatTime(clock.now()),
      clusters: full,
    };
    if (unchanged.length > 0) body['ext'] = { unchanged };
    return body;
  }

  /** Learns from a report's outcome: what it carried in full is the node's entry now, if it was applied. */
  function settled(p: Pending, ack: GatewayAck): void {
    if (!p.sent) return;
    const { full, seq } = p.sent;
    p.sent = undefined;
    for (const e of full) {
      const st = entryState(String(e.cluster));
      st.inFlight = Math.max(0, st.inFlight - 1);
      if (ack.ok && (st.base === null || st.base.seq < seq))
        st.base = { entry: deepFreeze(e), json: JSON.stringify(e), seq };
    }
    // Clusters the node holds no entry for (it lost or never had it): sent in full next time.
    const stale = ack.ok ? ack.ext?.['stale'] : undefined;
    if (Array.isArray(stale))
      for (const c of stale) {
        const st = typeof c === 'string' ? entries.get(c) : undefined;
        if (st) st.base = null;
      }
  }

  const token = () =>
    issueHandshakeToken(
      { keyid: options.signer.keyid, audience: options.node, namespace: NAMESPACES.gateway },
      { privateKey: options.signer.privateKey, clock, randomBytes: options.randomBytes },
    );

  function send(p: Pending): void {
    if (!socket?.connected || !ready) return;
    if (p.seq === null) {
      p.seq = p.event === GATEWAY_EVENTS.report ? nextSeq++ : updateSeq++;
      p.payload = p.build(p.seq, p);
    }
    const attempt = ++p.attempt;
    socket.emit(p.event, p.payload, (ack: GatewayAck) => {
      if (attempt !== p.attempt || !pending.has(p.id)) return; // an answer to an attempt made before a reconnect
      pending.delete(p.id);
      if (!ack.ok && ack.error.code === 'REPLAYED' && attempt > 1) {
        // A resend the node had already applied (seq at or below its last): the first attempt succeeded.
        finish(p, { ok: true, accepted: p.size });
        return;
      }
      finish(p, ack);
    });
  }

  function finish(p: Pending, ack: GatewayAck): void {
    settled(p, ack);
    p.resolve(ack);
  }

  function onSession(raw: unknown): void {
    const parsed = GatewaySession.safeParse(raw);
    if (!parsed.success) return;
    session = parsed.data;
    delay = backoff.initialMs;
    // Reports the node applied before the connection dropped are done; the rest go again, in order.
    for (const p of [...pending.values()]) {
      if (p.event === GATEWAY_EVENTS.report && p.seq !== null && p.seq <= session.lastReportSeq) {
        pending.delete(p.id);
        finish(p, { ok: true, accepted: p.size });
      }
    }
    // A new session may be another node, or one restored from a backup: the next reports go in full.
    for (const st of entries.values()) st.base = null;
    deltas = hasCapability(session, 'report-unchanged');
    nextSeq = Math.max(nextSeq, session.lastReportSeq + 1);
    ready = true;
    for (const p of [...pending.values()].sort((a, b) => a.id - b.id)) send(p);
    firstSession?.resolve(session);
    firstSession = null;
    for (const l of listeners) l(session);
  }

  function order<S extends z.ZodType>(
    schema: S,
    handler: ((o: z.output<S>) => GatewayAck | Promise<GatewayAck>) | undefined,
    validator: { accept(seq: number): { ok: boolean; error?: string } },
  ) {
    return (raw: unknown, reply?: (ack: GatewayAck) => void) => {
      const answer = (ack: GatewayAck) => {
        if (typeof reply === 'function') reply(ack);
      };
      const parsed = schema.safeParse(raw);
      if (!parsed.success)
        return answer({
          ok: false,
          error: { code: 'SCHEMA_VIOLATION', message: parsed.error.issues[0]?.message ?? 'invalid' },
        });
      const seq = (parsed.data as { seq: number }).seq;
      const v = validator.accept(seq);
      if (!v.ok) return answer({ ok: false, error: { code: 'REPLAYED', message: String(v.error) } });
      if (!handler) return answer({ ok: true });
      Promise.resolve(handler(parsed.data)).then(answer, (e: Error) =>
        answer({ ok: false, error: { code: 'INTERNAL', message: e.message } }),
      );
    };
  }

  function scheduleRetry(): void {
    if (closed || retryTimer) return;
    const wait = Math.round(delay * (0.5 + Math.random() / 2));
    delay = Math.min(delay * 2, backoff.maxMs);
    retryTimer = wall.setTimeout(() => {
      retryTimer = null;
      socket?.connect();
    }, wait);
  }

  function open(): void {
    const s = io(`${options.baseUrl}${NAMESPACES.gateway}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: backoff.initialMs,
      reconnectionDelayMax: backoff.maxMs,
      // A fresh single-use token for every attempt.
      auth: (cb) => {
        void token().then(
          (t) => cb({ token: t, protocol: PROTOCOL_VERSION }),
          () => cb({ token: '', protocol: PROTOCOL_VERSION }),
        );
      },
    });
    socket = s;
    s.on(GATEWAY_EVENTS.session, onSession);
    s.on('disconnect', (reason) => {
      ready = false;
      // socket.io reconnects by itself after transport failures, not when the node closed the connection.
      if (reason === 'io server disconnect') scheduleRetry();
    });
    s.on('connect', () => {
      ready = false;
      // Orders from the node are numbered per connection.
      const validator = createSequenceValidator();
      s.off(GATEWAY_EVENTS.dispatch).off(GATEWAY_EVENTS.cancel).off(GATEWAY_EVENTS.control);
      s.on(GATEWAY_EVENTS.dispatch, order(Dispatch, options.handlers?.dispatch, validator));
      s.on(GATEWAY_EVENTS.cancel, order(Cancel, options.handlers?.cancel, validator));
      s.on(GATEWAY_EVENTS.control, order(Control, options.handlers?.control, validator));
    });
    s.on('connect_error', (e: Error) => {
      // A refused handshake is not retried by socket.io itself; the node may be restarting, so retry with backoff.
      if (!s.active) {
        if (firstSession && /UNAUTHENTICATED|FORBIDDEN/.test(e.message)) {
          firstSession.reject(e);
          firstSession = null;
        }
        scheduleRetry();
      }
    });
  }

  function enqueue(
    event: string,
    build: (seq: number, p: Pending) => Record<string, unknown>,
    size: number,
  ): Promise<GatewayAck> {
    return new Promise((resolve) => {
      const p: Pending = { id: ++lastId, seq: null, event, build, payload: null, size, attempt: 0, resolve };
      pending.set(p.id, p);
      send(p);
    });
  }

  return {
    connect() {
      if (closed) return Promise.reject(new Error('the gateway connection is closed'));
      return new Promise((resolve, reject) => {
        if (session && socket?.connected) return resolve(session);
        firstSession = { resolve, reject };
        if (!socket) open();
      });
    },
    report(clusters) {
      return enqueue(GATEWAY_EVENTS.report, (seq, p) => buildReport(p, clusters, seq), clusters.length);
    },
    jobUpdate(update) {
      // Job updates have a seq space of their own (per direction and kind of message).
      return enqueue(
        GATEWAY_EVENTS.jobUpdate,
        (seq) => ({ protocol: PROTOCOL_VERSION, seq, at: formatTime(clock.now()), ...update }),
        1,
      );
    },
    get session() {
      return session;
    },
    get connected() {
      return socket?.connected ?? false;
    },
    get pending() {
      return pending.size;
    },
    onSession(listener) {
      listeners.push(listener);
    },
    close() {
      closed = true;
      retryTimer?.();
      socket?.close();
      for (const p of pending.values())
        finish(p, { ok: false, error: { code: 'UNAVAILABLE', message: 'the gateway connection was closed' } });
      pending.clear();
      firstSession?.reject(new Error('closed'));
      firstSession = null;
    },
  };
}
