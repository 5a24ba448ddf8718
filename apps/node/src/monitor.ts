import type { Server } from 'socket.io';
import { NAMESPACES, PROTOCOL_VERSION, SOCKET_EVENTS } from '@cpnet/protocol';
import { verifyApiToken, verifyHandshakeToken } from '@cpnet/security';
import type { NodeContext } from './context.ts';
import { knownSigner } from './http/principal.ts';
import { nodeInfo } from './routes/meta.ts';

function claimedIssuer(token: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : null;
  } catch {
    return null;
  }
}

async function admit(ctx: NodeContext, token: string): Promise<string | null> {
  const iss = claimedIssuer(token);
  if (iss === null) return 'the token is not a JWT';
  if (iss === ctx.config.code) {
    // A person's API token issued by this node (a viewer, an operator) also opens the stream.
    const person = await verifyApiToken(token, { publicKey: ctx.identity.keys.publicKey, issuer: ctx.config.code, clock: ctx.deps.clock, accountStatus: (s) => ctx.accounts.get(s)?.status ?? null });
    if (person.ok) return null;
  }
  const signer = await knownSigner(ctx, iss);
  if (!signer) return `unknown issuer ${iss}`;
  if (signer.principal.status !== 'active') return `${iss} is ${signer.lifecycle}`;
  const v = await verifyHandshakeToken(token, { publicKey: signer.key, audience: ctx.config.code, namespace: NAMESPACES.monitor, clock: ctx.deps.clock, nonceStore: ctx.nonceStore });
  return v.ok ? null : v.error;
}

/** The /monitor namespace: admitted by a handshake token (a node's) or an API token (a person's); sends a snapshot then live events. */
export function attachMonitor(io: Server, ctx: NodeContext): void {
  const ns = io.of(NAMESPACES.monitor);
  ns.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    if (typeof token !== 'string') return next(new Error('UNAUTHENTICATED: a handshake token is required in auth.token'));
    admit(ctx, token).then((problem) => next(problem ? new Error(`UNAUTHENTICATED: ${problem}`) : undefined), (e: Error) => next(new Error(`UNAUTHENTICATED: ${e.message}`)));
  });
  ns.on('connection', (socket) => {
    socket.emit(SOCKET_EVENTS.snapshot, { protocol: PROTOCOL_VERSION, node: nodeInfo(ctx) });
  });
  ctx.events.attach(io);
}
