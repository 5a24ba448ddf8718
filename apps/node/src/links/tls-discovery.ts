import type { NodeContext } from '../context.ts';
import { setChildTlsEndpoint } from '../onboarding/grant.ts';

/** How often the https endpoints of the peers are asked again (node ms: a peer that was down, or moved its TLS port). */
const TLS_DISCOVERY_MS = 30_000;

/** What `learnPeer` uses of the node. */
type LearnPeerDeps = Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'outbox' | 'tls'>;

/** Learns a peer's https endpoint; for a child, also records it in the child's ND record. Never throws. */
export async function learnPeer(
  ctx: LearnPeerDeps,
  peer: { prefix: string; endpoint: string; relation: string },
): Promise<void> {
  try {
    if (!(await ctx.tls.learn(peer.endpoint, peer.prefix))) return;
    const route = ctx.tls.route(peer.endpoint);
    if (peer.relation === 'child' && route)
      await setChildTlsEndpoint(ctx, { prefix: peer.prefix, tlsEndpoint: route.url });
  } catch (e) {
    ctx.deps.logger.debug({ peer: peer.prefix, err: (e as Error).message }, 'cannot learn the peer https endpoint');
  }
}

/** What `startTlsDiscovery` uses of the node. */
type StartTlsDiscoveryDeps = Pick<
  NodeContext,
  'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'outbox' | 'tls'
>;

/**
 * With TLS enabled: learns the https endpoint of every linked peer (parent, national node, children, descendants)
 * at start and every TLS_DISCOVERY_MS after, from their NodeInfo. Until a peer's endpoint is known it is reached over
 * plain HTTP. Returns the stop function.
 */
export function startTlsDiscovery(ctx: StartTlsDiscoveryDeps): () => void {
  if (!ctx.tls.enabled) return () => undefined;
  let running = false;
  const round = async () => {
    if (running || !ctx.identity.root) return;
    running = true;
    try {
      const peers = await ctx.db.peers.list({
        relations: ['parent', 'ancestor', 'child', 'descendant'],
        notLifecycle: 'revoked',
      });
      await Promise.all(peers.map((p) => learnPeer(ctx, p)));
    } catch (e) {
      ctx.deps.logger.debug({ err: (e as Error).message }, 'TLS discovery round failed');
    } finally {
      running = false;
    }
  };
  void round();
  return ctx.deps.clock.setInterval(() => void round(), TLS_DISCOVERY_MS);
}
