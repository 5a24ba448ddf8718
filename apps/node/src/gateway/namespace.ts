import type { Namespace, Server, Socket } from 'socket.io';
import type { z } from 'zod';
import {
  CapacityReport,
  formatTime,
  Identifier,
  REPORT_MAX_CLUSTERS,
  GATEWAY_EVENTS,
  GatewayAuth,
  JobUpdate,
  NAMESPACES,
  PROTOCOL_VERSION,
  validate,
  type Cancel,
  type Control,
  type Dispatch,
  type GatewayAck,
  type ClusterReport,
} from '@cpnet/protocol';
import { createSequenceValidator, type SequenceValidator } from '@cpnet/security';
import type { TimeSource } from '@cpnet/kernel';
import type { Logger } from 'pino';
import type { IngestQueue } from './ingest.ts';

type Order<S extends z.ZodType> = Omit<z.input<S>, 'protocol' | 'seq' | 'at'>;

/** Who a verified handshake token belongs to. */
export interface GatewayIdentity {
  /** The gateway identifier (cpnet: the provider's PV identifier; one gateway per provider). */
  readonly gateway: string;
  /** The provider whose clusters it reports. */
  readonly provider: string;
}

/** What the /gateway namespace needs from the node. */
export interface GatewayServices {
  readonly clock: TimeSource;
  readonly logger: Logger;
  readonly node: string;
  /** Verifies the handshake token (single use, this node, this namespace, an active provider). */
  authenticate(token: string): Promise<{ ok: true; value: GatewayIdentity } | { ok: false; error: string }>;
  /** The last report seq durably applied for a gateway (−1 when none). */
  lastSeq(gateway: string): Promise<number>;
  /** The clusters a provider has here (sent in the session message). */
  clustersOf(provider: string): string[];
  /** Why one report entry cannot be applied, or null. */
  check(entry: ClusterReport, provider: string): string | null;
  /** The entry last applied for a cluster (what `ext.unchanged` of a report repeats), or null. */
  held(cluster: string): ClusterReport | null;
  readonly ingest: IngestQueue;
  /** A gateway's job update (the scheduler hooks in here); the default acknowledges it. */
  onJobUpdate?(update: JobUpdate, from: GatewayIdentity): Promise<GatewayAck>;
  /** Called when a gateway connects or disconnects. */
  onPresence?(identity: GatewayIdentity, connected: boolean): void;
}

/** The node's side of the gateway connections: send orders to a provider's gateway. */
export interface GatewayHub {
  /** Whether the provider's gateway is connected now. */
  connected(provider: string): boolean;
  /** Sends an order to the provider's gateway and waits for its acknowledgement (UNAVAILABLE when not connected). */
  dispatch(provider: string, order: Order<typeof Dispatch>, timeoutMs?: number): Promise<GatewayAck>;
  cancel(provider: string, order: Order<typeof Cancel>, timeoutMs?: number): Promise<GatewayAck>;
  control(provider: string, order: Order<typeof Control>, timeoutMs?: number): Promise<GatewayAck>;
  /** Providers with a connected gateway. */
  providers(): string[];
  /** Closes the provider's gateway connection (a suspended or revoked provider); it cannot reconnect while so. */
  disconnect(provider: string): void;
}

interface Connection {
  readonly socket: Socket;
  readonly identity: GatewayIdentity;
  outSeq: number;
}

const refuse = (code: string, message: string, field?: string): GatewayAck => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});

/**
 * The `/gateway` namespace: a provider's gateway connects with a handshake token, receives a session message with
 * the last report seq the node applied, then sends batched reports (acknowledged after they are durably written) and
 * job updates, and receives dispatch / cancel / control orders, each numbered and acknowledged.
 */
export function attachGateway(io: Server, services: GatewayServices): GatewayHub {
  const ns: Namespace = io.of(NAMESPACES.gateway);
  const connections = new Map<string, Connection>();
  /** Incoming report seqs per gateway, started from the database at each connection. */
  const reportSeqs = new Map<string, SequenceValidator>();
  const updateSeqs = new Map<string, SequenceValidator>();

  ns.use((socket, next) => {
    const auth = GatewayAuth.safeParse(socket.handshake.auth);
    if (!auth.success) return next(new Error('UNAUTHENTICATED: auth must be { token, protocol }'));
    services.authenticate(auth.data.token).then(
      (r) => {
        if (!r.ok) return next(new Error(`UNAUTHENTICATED: ${r.error}`));
        (socket.data as { identity?: GatewayIdentity }).identity = r.value;
        next();
      },
      (e: Error) => next(new Error(`UNAUTHENTICATED: ${e.message}`)),
    );
  });

  ns.on('connection', (socket) => {
    const identity = (socket.data as { identity: GatewayIdentity }).identity;
    const previous = connections.get(identity.gateway);
    if (previous && previous.socket.id !== socket.id) previous.socket.disconnect(true); // the newest connection wins
    const conn: Connection = { socket, identity, outSeq: 0 };
    connections.set(identity.gateway, conn);
    services.onPresence?.(identity, true);
    let sessionSent = false;
    // Reports arriving before the session is sent are refused by seq; so the session goes first, after pending writes.
    void services.ingest
      .drain()
      .then(() => services.lastSeq(identity.gateway))
      .then(
        (last) => {
          // After the drain the stored seq is exact: a seq accepted in memory whose write failed is not in it.
          const start = last;
          reportSeqs.set(identity.gateway, createSequenceValidator(start));
          if (!updateSeqs.has(identity.gateway)) updateSeqs.set(identity.gateway, createSequenceValidator());
          sessionSent = true;
          socket.emit(GATEWAY_EVENTS.session, {
            protocol: PROTOCOL_VERSION,
            gateway: identity.gateway,
            node: services.node,
            lastReportSeq: start,
            clusters: services.clustersOf(identity.provider),
            at: formatTime(services.clock.now()),
            ext: { capabilities: ['report-unchanged'] },
          });
        },
        (e: Error) => {
          services.logger.error({ err: e, gateway: identity.gateway }, 'gateway session failed');
          socket.disconnect(true);
        },
      );

    socket.on(GATEWAY_EVENTS.report, (raw: unknown, reply?: (ack: GatewayAck) => void) => {
      const answer = (ack: GatewayAck) => {
        if (typeof reply === 'function') reply(ack);
      };
      if (!sessionSent) return answer(refuse('UNAVAILABLE', 'wait for the session message before reporting'));
      const v = validate(CapacityReport, raw);
      if (!v.ok) return answer(refuse(v.error.error.code, v.error.error.message, v.error.error.field));
      const report = v.value;
      if (report.gateway !== identity.gateway)
        return answer(refuse('FORBIDDEN', `this connection is ${identity.gateway}, not ${report.gateway}`, 'gateway'));
      const named = new Set<string>();
      for (const [i, entry] of report.clusters.entries()) {
        const problem = services.check(entry, identity.provider);
        if (problem) return answer(refuse('FORBIDDEN', problem, `clusters.${i}.cluster`));
        named.add(entry.cluster);
      }
      // Clusters whose last acknowledged entry still holds: applied as that entry sent again (report-unchanged).
      const entries = [...report.clusters];
      const unchanged = new Set<string>();
      const stale: string[] = [];
      const listed = report.ext?.['unchanged'];
      if (Array.isArray(listed)) {
        // CapacityReport checked that it is a list. An item that is a cluster of this provider as written is a
        // canonical identifier already (the table's key); only the others are parsed, for their canonical form or
        // their error — a quiet gateway's list costs a lookup per cluster.
        if (listed.length > REPORT_MAX_CLUSTERS)
          return answer(refuse('SCHEMA_VIOLATION', `at most ${REPORT_MAX_CLUSTERS} clusters`, 'ext.unchanged'));
        for (const [i, item] of (listed as unknown[]).entries()) {
          let cluster = typeof item === 'string' ? item : '';
          let problem = cluster ? services.check({ cluster } as ClusterReport, identity.provider) : 'not a string';
          if (problem) {
            const parsed = validate(Identifier, item);
            if (!parsed.ok)
              return answer(refuse(parsed.error.error.code, parsed.error.error.message, `ext.unchanged.${i}`));
            cluster = parsed.value;
            problem = services.check({ cluster } as ClusterReport, identity.provider);
            if (problem) return answer(refuse('FORBIDDEN', problem, `ext.unchanged.${i}`));
          }
          if (named.has(cluster) || unchanged.has(cluster))
            return answer(refuse('SCHEMA_VIOLATION', `${cluster} is named twice in this report`, `ext.unchanged.${i}`));
          const held = services.held(cluster);
          if (!held) stale.push(cluster);
          else {
            unchanged.add(cluster);
            entries.push(held);
          }
        }
      }
      const seq = reportSeqs.get(identity.gateway)!.accept(report.seq);
      if (!seq.ok) return answer(refuse('REPLAYED', seq.error, 'seq'));
      const receivedAt = services.clock.now();
      const ok: GatewayAck =
        stale.length > 0
          ? { ok: true, accepted: entries.length, ext: { stale } }
          : { ok: true, accepted: entries.length };
      const pendingReport = { gateway: identity.gateway, seq: report.seq, entries, unchanged, receivedAt };
      services.ingest.submit(pendingReport).then(
        () => answer(ok),
        (e: Error) => {
          // No answer: the gateway resends everything unacknowledged after it reconnects, above the stored seq.
          services.logger.error(
            { err: e, gateway: identity.gateway },
            'report not written; dropping the connection so the gateway resends',
          );
          socket.disconnect(true);
        },
      );
    });

    socket.on(GATEWAY_EVENTS.jobUpdate, (raw: unknown, reply?: (ack: GatewayAck) => void) => {
      const answer = (ack: GatewayAck) => {
        if (typeof reply === 'function') reply(ack);
      };
      const v = validate(JobUpdate, raw);
      if (!v.ok) return answer(refuse(v.error.error.code, v.error.error.message, v.error.error.field));
      const seq = updateSeqs.get(identity.gateway)?.accept(v.value.seq);
      if (!seq) return answer(refuse('UNAVAILABLE', 'wait for the session message'));
      if (!seq.ok) return answer(refuse('REPLAYED', seq.error, 'seq'));
      if (services.check({ cluster: v.value.cluster } as ClusterReport, identity.provider))
        return answer(refuse('FORBIDDEN', `${v.value.cluster} is not a cluster of ${identity.provider}`, 'cluster'));
      const handle = services.onJobUpdate ?? (() => Promise.resolve<GatewayAck>({ ok: true }));
      handle(v.value, identity).then(answer, (e: Error) => answer(refuse('INTERNAL', e.message)));
    });

    socket.on('disconnect', () => {
      if (connections.get(identity.gateway)?.socket.id === socket.id) {
        connections.delete(identity.gateway);
        services.onPresence?.(identity, false);
      }
    });
  });

  function send(event: string) {
    return (provider: string, order: Record<string, unknown>, timeoutMs = 5000): Promise<GatewayAck> => {
      const conn = [...connections.values()].find((c) => c.identity.provider === provider);
      if (!conn) return Promise.resolve(refuse('UNAVAILABLE', `the gateway of ${provider} is not connected`));
      const payload = {
        protocol: PROTOCOL_VERSION,
        seq: conn.outSeq++,
        at: formatTime(services.clock.now()),
        ...order,
      };
      return new Promise((resolve) => {
        conn.socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, ack: GatewayAck) => {
          resolve(
            err ? refuse('UNAVAILABLE', `no acknowledgement from the gateway of ${provider}: ${err.message}`) : ack,
          );
        });
      });
    };
  }

  return {
    connected: (provider) => [...connections.values()].some((c) => c.identity.provider === provider),
    dispatch: send(GATEWAY_EVENTS.dispatch),
    cancel: send(GATEWAY_EVENTS.cancel),
    control: send(GATEWAY_EVENTS.control),
    providers: () => [...connections.values()].map((c) => c.identity.provider),
    disconnect(provider) {
      for (const c of connections.values()) if (c.identity.provider === provider) c.socket.disconnect(true);
    },
  };
}
