import { readFileSync } from 'node:fs';
import { verifyChain, verifyDelegation } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { certificateKey } from '../identity.ts';
import type { GrantBody } from './grant.ts';

/** A grant that verified: the full chain (own certificate first, root last) and the root it ends in. */
export interface VerifiedGrant {
  readonly chain: string[];
  readonly root: string;
}

/**
 * Verifies a grant or a renewal from the parent: the chain up to the trust anchor at the node's time, naming this
 * node's code, and the delegation of that code to this node's key signed by the parent. Throws with the reason.
 */
export async function verifyGrant(
  ctx: Pick<NodeContext, 'config' | 'deps' | 'identity'>,
  grant: GrantBody,
): Promise<VerifiedGrant> {
  const chain = [grant.certificate, ...grant.chain];
  const root = ctx.config.trustAnchor ? readFileSync(ctx.config.trustAnchor, 'utf8') : chain[chain.length - 1]!;
  const v = await verifyChain(chain, { root, clock: ctx.deps.clock });
  if (!v.ok) throw new Error(`the granted certificate does not verify: ${v.error.reason}`);
  if (v.value.name !== ctx.config.code)
    throw new Error(`the certificate names ${v.value.name}, not ${ctx.config.code}`);
  const d = await verifyDelegation(grant.delegation, {
    parentPublicKey: certificateKey(chain[1]!),
    childPublicKey: ctx.identity.keys.publicKey,
    clock: ctx.deps.clock,
    configuredCode: ctx.config.code,
  });
  if (!d.ok) throw new Error(`the delegation is refused: ${d.error.reason}`);
  return { chain, root };
}
