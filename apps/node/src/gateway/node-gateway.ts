import type { Server } from 'socket.io';
import { NAMESPACES } from '@cpnet/protocol';
import { verifyHandshakeToken } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import type { Aggregation } from '../aggregation/service.ts';
import type { ProviderKeys } from '../aggregation/provider-keys.ts';
import { attachGateway, type GatewayHub, type GatewayServices } from './namespace.ts';
import { claimedIssuer } from '../http/token-issuer.ts';

/** What `attachNodeGateway` uses of the node. */
type AttachNodeGatewayDeps = Pick<NodeContext, 'config' | 'db' | 'deps' | 'nonceStore'>;

/** Mounts `/gateway` on a node: providers' gateways authenticate with their registered key. */
export function attachNodeGateway(
  io: Server,
  ctx: AttachNodeGatewayDeps,
  deps: { aggregation: Aggregation; providerKeys: ProviderKeys; onJobUpdate?: GatewayServices['onJobUpdate'] },
): GatewayHub {
  const { aggregation, providerKeys } = deps;
  return attachGateway(io, {
    clock: ctx.deps.clock,
    logger: ctx.deps.logger,
    node: ctx.config.code,
    ingest: aggregation.ingest,
    async authenticate(token) {
      const iss = claimedIssuer(token);
      if (iss === null) return { ok: false, error: 'the token is not a JWT' };
      const provider = providerKeys.get(iss);
      const key = providerKeys.key(iss);
      if (!provider || !key) return { ok: false, error: `${iss} is not a provider registered at ${ctx.config.code}` };
      if (provider.lifecycle !== 'active') return { ok: false, error: `${iss} is ${provider.lifecycle}` };
      const v = await verifyHandshakeToken(token, {
        publicKey: key,
        audience: ctx.config.code,
        namespace: NAMESPACES.gateway,
        clock: ctx.deps.clock,
        // A session opens on this handshake (not a database write): its nonce is durable before it is accepted.
        nonceStore: ctx.nonceStore.committed,
      });
      return v.ok ? { ok: true, value: { gateway: iss, provider: iss } } : { ok: false, error: v.error };
    },
    async lastSeq(gateway) {
      return ctx.db.providers.lastReportSeq(gateway);
    },
    clustersOf: (provider) => aggregation.table.ofProvider(provider),
    check: (entry, provider) => aggregation.table.check(entry, provider),
    held: (cluster) => aggregation.table.get(cluster)?.report ?? null,
    onJobUpdate: deps.onJobUpdate,
    onPresence(identity, connected) {
      ctx.deps.logger.info(
        { gateway: identity.gateway, connected },
        connected ? 'gateway connected' : 'gateway disconnected',
      );
    },
  });
}
