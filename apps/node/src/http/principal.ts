import type { Principal, PublicKeyHandle } from '@cpnet/security';
import type { NodeLifecycle } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { importPublicKey } from '../identity.ts';

/** How a node's lifecycle maps to the policy's principal status. */
function principalStatus(lifecycle: string): Principal['status'] {
  if (lifecycle === 'suspended') return 'suspended';
  if (lifecycle === 'revoked' || lifecycle === 'rejected') return 'revoked';
  return 'active';
}

/** What `peerRow` uses of the node. */
type PeerRowDeps = Pick<NodeContext, 'db'>;

/**
 * This node's record of a peer (its parent or a child): relation and lifecycle, read through the hot-path SQL
 * (checked on every node-to-node request: a Prisma query would cost about a millisecond).
 */
export function peerRow(
  ctx: PeerRowDeps,
  prefix: string,
): Promise<{ relation: string; lifecycle: string } | undefined> {
  return ctx.db.peers.link(prefix);
}

/** A known signer: its key and the principal it acts as. */
export interface KnownSigner {
  readonly key: PublicKeyHandle;
  readonly principal: Principal;
  readonly lifecycle: NodeLifecycle | string;
}

const keys = new Map<string, PublicKeyHandle>();

/** Imports a PEM key once (parsing costs more than the signature check). Keys are few: parents, children, ancestors. */
function cachedKey(pem: string): PublicKeyHandle {
  let k = keys.get(pem);
  if (!k) {
    if (keys.size > 10_000) keys.clear();
    k = importPublicKey(pem);
    keys.set(pem, k);
  }
  return k;
}

/** What `knownSigner` uses of the node. */
type KnownSignerDeps = Pick<NodeContext, 'config' | 'db' | 'identity' | 'state'>;

/** Looks up a keyid: this node itself, or a peer (parent, child, ancestor, descendant) it knows. */
export async function knownSigner(ctx: KnownSignerDeps, keyid: string): Promise<KnownSigner | null> {
  if (keyid === ctx.config.code) {
    const lifecycle = ctx.state.lifecycle;
    return {
      key: ctx.identity.keys.publicKey,
      lifecycle,
      principal: { kind: 'node', id: keyid, prefix: keyid, status: principalStatus(lifecycle) },
    };
  }
  // A hot-path read (prepared SQL, not Prisma): this runs on every signed request.
  const peer = await ctx.db.peers.link(keyid);
  if (!peer) return null;
  return {
    key: cachedKey(peer.publicKey),
    lifecycle: peer.lifecycle,
    principal: { kind: 'node', id: keyid, prefix: keyid, status: principalStatus(peer.lifecycle) },
  };
}
