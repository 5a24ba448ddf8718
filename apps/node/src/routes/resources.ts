import { Router } from 'express';
import { z } from 'zod';
import { MarketQuery, RegisterCluster, RegisterProvider, ROUTES, SummaryBatch } from '@cpnet/protocol';
import type { Principal } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import type { Aggregation } from '../aggregation/service.ts';
import { registerCluster, registerProvider } from '../aggregation/registration.ts';
import type { ProviderKeys } from '../aggregation/provider-keys.ts';
import { importPublicKey } from '../identity.ts';
import { fail } from '../http/http-error.ts';
import { parseWith } from '../http/body.ts';
import { audited, authorize, writeRoute, type RouteDeps } from '../http/write-route.ts';
import type { Caller } from '../http/authenticate.ts';
import { peerRow } from '../http/principal.ts';

/** `GET /cpn/v1/clusters?provider=`: one provider's clusters, or every cluster. */
const ClustersQuery = z.strictObject({ provider: z.string().max(64).optional() });

/** A provider signing with its own key acts as a provider principal in this node's namespace. */
function providerPrincipal(ctx: Pick<NodeContext, 'config'>, keys: ProviderKeys, caller: Caller): Principal | null {
  const p = keys.get(caller.who);
  if (!p) return null;
  const status = p.lifecycle === 'active' ? 'active' : p.lifecycle === 'suspended' ? 'suspended' : 'revoked';
  return { kind: 'provider', id: caller.who, prefix: ctx.config.code, status, owner: caller.who };
}

/** What `resourceRoutes` uses of the node. */
type ResourceRoutesDeps = RouteDeps & Pick<NodeContext, 'outbox' | 'serials'>;

/** Providers, clusters, summaries from children and the market view (算力资源汇聚). */
export function resourceRoutes(
  ctx: ResourceRoutesDeps,
  deps: { aggregation: Aggregation; providerKeys: ProviderKeys },
): Router {
  const router = Router();
  const { aggregation, providerKeys } = deps;

  // A provider registers itself, signing with the key in the body and its credit code as keyid (it has no
  // identifier yet), or a node registers it on its behalf.
  router.post(
    ROUTES.providers,
    writeRoute(
      ctx,
      async (_req, { caller, body, requestId, idempotency }) => {
        const input = parseWith(RegisterProvider, body);
        if (caller.who !== input.creditCode) {
          await authorize(ctx, {
            request: {
              principal: caller.principal,
              action: 'create',
              resource: { type: 'provider', prefix: ctx.config.code },
            },
            requestId,
          });
        }
        if (ctx.state.lifecycle === 'suspended' || ctx.state.lifecycle === 'revoked')
          fail('FORBIDDEN', `${ctx.config.code} is ${ctx.state.lifecycle}; it registers nothing`);
        const r = await registerProvider(ctx, {
          body: input,
          idempotency,
          audit: { who: caller.who, action: 'create', requestId },
        });
        if (r.created) {
          providerKeys.put({ id: r.value.id, publicKey: input.publicKey, lifecycle: 'active' });
          ctx.events.emit('provider.registered', {
            subject: r.value.id,
            data: { name: r.value.name, creditCode: r.value.creditCode, province: r.value.province },
          });
          ctx.metrics.registrations.inc();
          ctx.outbox.kick();
        }
        return [r.status, { ...r.value, health: aggregation.providerHealth(r.value.id) }];
      },
      {
        selfKey: (body) => (keyid) => {
          const b = body as { creditCode?: unknown; publicKey?: unknown } | undefined;
          if (!b || typeof b.publicKey !== 'string' || b.creditCode !== keyid) return null;
          try {
            return importPublicKey(b.publicKey);
          } catch {
            return null;
          }
        },
      },
    ),
  );

  router.post(
    ROUTES.clusters,
    writeRoute(
      ctx,
      async (_req, { caller, body, requestId, idempotency }) => {
        const input = parseWith(RegisterCluster, body);
        const principal = providerPrincipal(ctx, providerKeys, caller) ?? caller.principal;
        await authorize(ctx, {
          request: {
            principal,
            action: 'create',
            resource: { type: 'cluster', prefix: ctx.config.code, owner: input.provider },
          },
          requestId,
        });
        if (ctx.state.lifecycle === 'suspended' || ctx.state.lifecycle === 'revoked')
          fail('FORBIDDEN', `${ctx.config.code} is ${ctx.state.lifecycle}; it registers nothing`);
        const r = await registerCluster(ctx, {
          body: input,
          idempotency,
          audit: { who: caller.who, action: 'create', requestId },
        });
        if (r.spec) {
          aggregation.added(r.spec);
          ctx.metrics.registrations.inc();
          ctx.outbox.kick();
        }
        const state = aggregation.table.get(r.value.id);
        return [r.status, { ...r.value, ...(state ? { lifecycle: state.spec.lifecycle, health: state.health } : {}) }];
      },
      { signerKey: (keyid) => providerKeys.key(keyid) },
    ),
  );

  router.get(ROUTES.clusters, (req, res) => {
    const q = parseWith(ClustersQuery, req.query);
    const items = [...aggregation.table.values()]
      .filter((s) => q.provider === undefined || s.spec.provider === q.provider)
      .map((s) => ({ ...s.spec, health: s.health, reports: s.reports, lastReport: s.report }));
    res.json({ items });
  });

  router.get(ROUTES.providers, async (_req, res) => {
    const rows = await ctx.db.providers.all();
    res.json({
      items: rows.map((p) => ({
        id: p.id,
        name: p.name,
        creditCode: p.creditCode,
        province: p.province,
        city: p.city,
        node: ctx.config.code,
        lifecycle: p.lifecycle,
        health: aggregation.providerHealth(p.id),
        registeredAt: p.registeredAt,
      })),
    });
  });

  // A child's summaries, each deduplicated by its idempotency key; only a child may speak for its own subtree.
  router.post(
    ROUTES.summaries,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const batch = parseWith(SummaryBatch, body);
      const peer = caller.principal.kind === 'node' ? peerRow(ctx, caller.principal.id) : undefined;
      if (peer?.relation !== 'child') fail('FORBIDDEN', `${caller.principal.id} is not a child of ${ctx.config.code}`);
      if (caller.principal.status !== 'active') fail('FORBIDDEN', `${caller.principal.id} is ${peer.lifecycle}`);
      for (const [i, item] of batch.items.entries()) {
        if (item.summary.node !== caller.principal.id)
          fail(
            'FORBIDDEN',
            `${caller.principal.id} may send only its own summary, not ${item.summary.node}'s`,
            `items.${i}.summary.node`,
          );
      }
      const r = await aggregation.receiveSummaries(
        batch.items.map((i) => ({ key: `${caller.who}|summary|${i.key}`, summary: i.summary })),
      );
      if (r.accepted > 0)
        ctx.events.emit('summary.received', {
          subject: caller.principal.id,
          data: { accepted: r.accepted, duplicates: r.duplicates },
        });
      await audited(ctx, { who: caller.who, action: 'report', resource: `summary:${caller.principal.id}`, requestId });
      return [200, r];
    }),
  );

  router.get(ROUTES.market, (req, res) => {
    const q = parseWith(MarketQuery, req.query);
    res.json(aggregation.market(q));
  });

  router.get(`${ROUTES.summaries}/self`, (_req, res) => {
    res.json(aggregation.summary());
  });
  return router;
}
