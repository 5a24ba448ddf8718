import { parentPrefix } from '@cpnet/identifier';
import { Grant, ROUTES, validate } from '@cpnet/protocol';
import { renewalDue } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { verifyGrant } from './verify-grant.ts';

/** Node time between checks of the chain's validity: a renewal is due for a third of a life, so this is plenty. */
const CHECK_EVERY_MS = 6 * 3_600_000;

/** What certificate renewal uses of the node. */
type RenewalDeps = Pick<NodeContext, 'clientFor' | 'config' | 'db' | 'deps' | 'identity' | 'settings'>;

/** What one check did. */
export type RenewalOutcome = 'no-certificate' | 'not-due' | 'renewed' | { refused: string };

/**
 * Renews this node's certificate and delegation with its parent when some certificate of its chain below the root
 * has lived two thirds of its life: asks `POST /cpn/v1/node/certificate` (signed), verifies the answer as a grant
 * (chain to the trust anchor, delegation to this key) and keeps it. A refusal is logged and tried at the next check.
 */
export async function renewIfDue(ctx: RenewalDeps): Promise<RenewalOutcome> {
  if (!ctx.identity.certificate || !ctx.config.parentUrl) return 'no-certificate';
  if (!renewalDue(ctx.identity.chain.slice(0, -1), ctx.deps.clock.now())) return 'not-due';
  const r = await ctx
    .clientFor(ctx.config.parentUrl)
    .request({ method: 'POST', path: ROUTES.certificateRenewal, body: { reason: 'two thirds of a life passed' } });
  if (!r.ok) return refused(ctx, `${r.status} ${r.error.message}`);
  const grant = validate(Grant, r.value);
  if (!grant.ok) return refused(ctx, `the answer is not a grant: ${grant.error.error.message}`);
  let verified;
  try {
    verified = await verifyGrant(ctx, grant.value);
  } catch (e) {
    return refused(ctx, (e as Error).message);
  }
  Object.assign(ctx.identity, {
    certificate: grant.value.certificate,
    chain: verified.chain,
    delegation: grant.value.delegation,
  });
  await ctx.settings.set('certificate', grant.value.certificate);
  await ctx.settings.setJson('chain', verified.chain);
  await ctx.settings.set('delegation', grant.value.delegation);
  // The parent's certificate may have been renewed too: keep the one its chain now carries.
  const parent = parentPrefix(ctx.config.code)!;
  const peer = await ctx.db.peers.byPrefix(parent);
  if (peer) {
    const { relation, role, endpoint, publicKey, lifecycle, health } = peer;
    await ctx.db.peers.put(parent, {
      relation,
      role,
      endpoint,
      publicKey,
      lifecycle,
      health,
      certificate: verified.chain[1]!,
    });
  }
  ctx.deps.logger.info({ parent }, 'certificate renewed');
  return 'renewed';
}

function refused(ctx: Pick<NodeContext, 'deps'>, reason: string): RenewalOutcome {
  ctx.deps.logger.warn({ reason }, 'certificate renewal refused; trying again at the next check');
  return { refused: reason };
}

/** Checks the chain every 6 h of node time (and once at start); returns the function that stops it. */
export function startCertificateRenewal(ctx: RenewalDeps): () => void {
  let stopped = false;
  let cancel: () => void = () => undefined;
  const tick = () => {
    void renewIfDue(ctx)
      .catch((e: unknown) => ctx.deps.logger.warn({ err: e }, 'certificate renewal failed; trying again'))
      .finally(() => {
        if (!stopped) cancel = ctx.deps.clock.setTimeout(tick, CHECK_EVERY_MS);
      });
  };
  tick();
  return () => {
    stopped = true;
    cancel();
  };
}
