import type { Server } from 'socket.io';
import { NAMESPACES, PROTOCOL_VERSION, SOCKET_EVENTS } from '@cpnet/protocol';
import { API_TOKEN_TYP, verifyApiToken, verifyHandshakeToken, type PersonRole } from '@cpnet/security';
import type { MonitorHistory, TopologySnapshot } from '@cpnet/protocol';
import type { NodeContext } from './context.ts';
import { knownSigner } from './http/principal.ts';
import { MONITOR_ROOMS } from './events.ts';
import { nodeInfo } from './routes/meta.ts';
import { claimedIssuer, claimedType } from './http/token-issuer.ts';

async function admit(
  ctx: Pick<NodeContext, 'accounts' | 'config' | 'db' | 'deps' | 'identity' | 'nonceStore' | 'policy' | 'state'>,
  token: string,
): Promise<string | null> {
  const iss = claimedIssuer(token);
  if (iss === null) return 'the token is not a JWT';
  if (iss === ctx.config.code) {
    // A person's API token issued by this node (a viewer, an operator) also opens the stream.
    const person = await verifyApiToken(token, {
      publicKey: ctx.identity.keys.publicKey,
      issuer: ctx.config.code,
      clock: ctx.deps.clock,
      accountStatus: (s) => ctx.accounts.get(s)?.status ?? null,
    });
    if (person.ok) {
      // Only people the policy lets read the node's metrics (viewers, operators) may watch the stream.
      const d = ctx.policy.decide({
        principal: {
          kind: 'person',
          id: person.value.sub,
          prefix: ctx.config.code,
          status: 'active',
          role: person.value.role as PersonRole,
        },
        action: 'read',
        resource: { type: 'metrics', prefix: ctx.config.code },
      });
      return d.allowed
        ? null
        : `FORBIDDEN: ${person.value.sub} (${person.value.role}) may not watch ${ctx.config.code}: ${d.reason}`;
    }
    // A person's API token (not a node's handshake token) that failed: say why plainly (expired after its hour of
    // node time, account suspended), not its type.
    if (claimedType(token) === API_TOKEN_TYP) return `the viewer token was refused: ${person.error}`;
  }
  const signer = await knownSigner(ctx, iss);
  if (!signer) return `unknown issuer ${iss}`;
  if (signer.principal.status !== 'active') return `${iss} is ${signer.lifecycle}`;
  const v = await verifyHandshakeToken(token, {
    publicKey: signer.key,
    audience: ctx.config.code,
    namespace: NAMESPACES.monitor,
    clock: ctx.deps.clock,
    // A session opens on this handshake (not a database write): its nonce is durable before it is accepted.
    nonceStore: ctx.nonceStore.committed,
  });
  return v.ok ? null : v.error;
}

/** What `attachMonitor` uses of the node. */
type AttachMonitorDeps = Pick<
  NodeContext,
  'accounts' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'nonceStore' | 'policy' | 'state' | 'tls'
>;

/**
 * The /monitor namespace: admitted by a handshake token (a node's) or an API token of a person the policy lets read
 * metrics; sends a TopologySnapshot (with `protocol`), then the recent history (unless the handshake's `auth` says
 * `history: false`), then live events: each as an `event` message, or, when the handshake's `auth` says `batch: true`,
 * those of one turn of the event loop together in an `events` message (one frame and one socket write for many).
 */
export function attachMonitor(
  io: Server,
  ctx: AttachMonitorDeps,
  sources: {
    snapshot?: () => Promise<TopologySnapshot>;
    history?: () => Promise<Omit<MonitorHistory, 'protocol'>>;
  } = {},
): void {
  const { snapshot, history } = sources;
  const ns = io.of(NAMESPACES.monitor);
  ns.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    if (typeof token !== 'string')
      return next(new Error('UNAUTHENTICATED: a handshake token is required in auth.token'));
    admit(ctx, token).then(
      (problem) => next(problem ? new Error(`UNAUTHENTICATED: ${problem}`) : undefined),
      (e: Error) => next(new Error(`UNAUTHENTICATED: ${e.message}`)),
    );
  });
  ns.on('connection', (socket) => {
    const auth = socket.handshake.auth as { history?: unknown; batch?: unknown };
    const wantsHistory = auth.history !== false;
    void socket.join(auth.batch === true ? MONITOR_ROOMS.batched : MONITOR_ROOMS.single);
    if (!snapshot) {
      socket.emit(SOCKET_EVENTS.snapshot, { protocol: PROTOCOL_VERSION, node: nodeInfo(ctx) });
      return;
    }
    // The TopologySnapshot with the protocol version beside it, as on every socket event; then the recent history.
    snapshot()
      .then(
        (s) => socket.emit(SOCKET_EVENTS.snapshot, { ...s, protocol: PROTOCOL_VERSION }),
        (e: unknown) => {
          ctx.deps.logger.warn({ err: e }, 'snapshot failed');
          socket.emit(SOCKET_EVENTS.snapshot, { protocol: PROTOCOL_VERSION, node: nodeInfo(ctx) });
        },
      )
      .then(() => (wantsHistory && socket.connected ? history?.() : undefined))
      .then(
        (h) => {
          if (h) socket.emit(SOCKET_EVENTS.history, { ...h, protocol: PROTOCOL_VERSION });
        },
        (e: unknown) => ctx.deps.logger.warn({ err: e }, 'monitor history failed'),
      );
  });
  ctx.events.attach(io);
}
