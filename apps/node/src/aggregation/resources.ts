import type { Router } from 'express';
import type { Server } from 'socket.io';
import type { RouteDeps } from '../http/write-route.ts';
import type { NodeContext } from '../context.ts';
import { repeat } from '../deps.ts';
import { attachNodeGateway } from '../gateway/node-gateway.ts';
import type { GatewayHub, GatewayServices } from '../gateway/namespace.ts';
import { createEventShipper } from '../monitoring/event-shipper.ts';
import { eventLogRoutes } from '../monitoring/event-log.ts';
import { sweepEvents } from '../monitoring/retention.ts';
import type { SnapshotSources } from '../monitoring/snapshot.ts';
import { resourceRoutes } from '../routes/resources.ts';
import { loadProviderKeys, type ProviderKeys } from './provider-keys.ts';
import { memberEmergency, type MemberOrders } from './emergency.ts';
import { clusterHealthCounts, createAggregation, type Aggregation } from './service.ts';

/** Resource aggregation and monitoring of a node (part 2): built with the context, mounted on the app and io. */
export interface ResourceServices {
  readonly aggregation: Aggregation;
  readonly providerKeys: ProviderKeys;
  /** Set once `attach` ran. */
  gateway: GatewayHub | null;
  /** Emergency orders on providers and clusters of this node (governance handles node targets). */
  readonly memberOrders: MemberOrders;
  /** Other services' parts of the /monitor snapshot (scheduling sets `jobs`). */
  readonly snapshotSources: SnapshotSources;
  /** Job updates from gateways go here (scheduling sets it); acknowledged by default. */
  onJobUpdate: GatewayServices['onJobUpdate'];
  /** The HTTP routes. */
  routes(): Router[];
  /** Mounts /gateway on io. */
  attach(io: Server): GatewayHub;
  /** Starts health sweeps, summaries upward, event shipping and retention. */
  start(): void;
  stop(): Promise<void>;
}

/** What `createResourceServices` uses of the node. */
type CreateResourceServicesDeps = RouteDeps & Pick<NodeContext, 'outbox' | 'serials' | 'settings'>;

/** Builds the resource services of a node from the database. */
export async function createResourceServices(ctx: CreateResourceServicesDeps): Promise<ResourceServices> {
  const aggregation = await createAggregation(ctx, ctx.config.aggregation);
  const providerKeys = await loadProviderKeys(ctx.db.providers);
  const shipper = createEventShipper(ctx);
  aggregation.providerActive = (id) => (providerKeys.get(id)?.lifecycle ?? 'active') === 'active';
  const timers: (() => void)[] = [];
  ctx.metrics.probes.outboxDepth = () => ctx.outbox.depth();
  ctx.metrics.probes.peersBackingOff = () => ctx.outbox.backingOff();
  ctx.metrics.probes.clusterHealth = () => clusterHealthCounts(aggregation);
  const every = (ms: number, fn: () => Promise<unknown>) => {
    timers.push(repeat(ctx.deps, { ms, what: 'background task' }, fn));
  };
  const services: ResourceServices = {
    aggregation,
    providerKeys,
    gateway: null,
    snapshotSources: {},
    onJobUpdate: undefined,
    memberOrders: (input) => memberEmergency(ctx, { ...input, aggregation, providerKeys, gateway: services.gateway }),
    routes: () => [resourceRoutes(ctx, { aggregation, providerKeys }), eventLogRoutes(ctx)],
    attach(io) {
      services.gateway = attachNodeGateway(io, ctx, {
        aggregation,
        providerKeys,
        onJobUpdate: (u, from) =>
          services.onJobUpdate ? services.onJobUpdate(u, from) : Promise.resolve({ ok: true as const }),
      });
      return services.gateway;
    },
    start() {
      aggregation.start();
      every(ctx.config.aggregation.eventShipMs, () => shipper.ship());
      every(ctx.config.retention.sweepMs, () => sweepEvents(ctx, ctx.config.retention.days));
      void sweepEvents(ctx, ctx.config.retention.days).catch(() => undefined);
    },
    async stop() {
      for (const stop of timers.splice(0)) stop();
      await aggregation.stop();
    },
  };
  return services;
}
