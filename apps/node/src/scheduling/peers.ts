import { PlacementAnswer, SCHEDULING_ROUTES, SelectionAnswer, validate } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import type { PeerPort } from './ports.ts';

/** The peer port of a node: signed HTTP to its parent and children; relays and metering through the durable outbox. */
export function nodePeers(ctx: NodeContext): PeerPort {
  const endpoints = new Map<string, string>();
  async function endpointOf(prefix: string): Promise<string | null> {
    const known = endpoints.get(prefix);
    if (known) return known;
    const peer = await ctx.prisma.peer.findUnique({ where: { prefix } });
    const url = peer?.endpoint ?? (peer?.relation === 'parent' || prefix === parentCode() ? ctx.config.parentUrl ?? null : null);
    if (url) endpoints.set(prefix, url);
    return url;
  }
  const parentCode = () => {
    const p = ctx.config.code.split('.');
    return p.length > 1 ? p.slice(0, -1).join('.') : null;
  };
  const post = async (to: string, path: string, body: unknown) => {
    const url = await endpointOf(to);
    if (!url) return { ok: false as const, error: `no endpoint known for ${to}` };
    const r = await ctx.clientFor(url).request({ method: 'POST', path, body });
    return r.ok ? { ok: true as const, value: r.value } : { ok: false as const, error: `${r.status}: ${r.error.message}` };
  };
  const durable = async (to: string, path: string, body: unknown) => {
    const url = await endpointOf(to);
    if (!url) { ctx.deps.logger.warn({ to, path }, 'no endpoint for a scheduling delivery; dropped'); return; }
    await ctx.outbox.enqueue({ endpoint: url, path, body });
    ctx.outbox.kick();
  };
  return {
    async place(to, body) {
      const r = await post(to, SCHEDULING_ROUTES.placements, body);
      if (!r.ok) return { ok: false, refusals: [{ node: to, reason: `unreachable: ${r.error}` }], summary: `${to} could not be asked: ${r.error}` };
      const v = validate(PlacementAnswer, r.value);
      return v.ok ? v.value : { ok: false, refusals: [{ node: to, reason: 'malformed answer' }], summary: `${to} answered something else` };
    },
    async select(to, body) {
      const r = await post(to, SCHEDULING_ROUTES.selections, body);
      if (!r.ok) return null;
      const v = validate(SelectionAnswer, r.value);
      return v.ok ? v.value : null;
    },
    // Queued as a batch of one: the outbox merges the relays waiting for the same hop into one request.
    relay: (to, body) => durable(to, SCHEDULING_ROUTES.jobUpdates, { relays: [body] }),
    cancel: (to, body) => durable(to, SCHEDULING_ROUTES.cancels, body),
    async summary(body) {
      const parent = parentCode();
      if (!parent || !ctx.config.parentUrl) return;
      endpoints.set(parent, ctx.config.parentUrl);
      await post(parent, SCHEDULING_ROUTES.summaries, body);
    },
    async metering(body) {
      const parent = parentCode();
      if (!parent || !ctx.config.parentUrl) return;
      endpoints.set(parent, ctx.config.parentUrl);
      await durable(parent, SCHEDULING_ROUTES.metering, body);
    },
  };
}
