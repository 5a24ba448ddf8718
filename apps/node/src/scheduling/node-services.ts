import type { Router } from 'express';
import { formatIdentifier } from '@cpnet/identifier';
import { RegisterCluster, SCHEDULING_ROUTES } from '@cpnet/protocol';
import type { RouteDeps } from '../http/write-route.ts';
import type { NodeContext } from '../context.ts';
import { repeat, wallClock } from '../deps.ts';
import { allocateSerial } from '../identifiers/registry.ts';
import type { ResourceServices } from '../aggregation/resources.ts';
import type { ClusterFacts } from './mapping.ts';
import { nodePeers } from './peers.ts';
import { createFlowCounters } from '../monitoring/flows.ts';
import type { GatewayPort } from './ports.ts';
import { schedulingRoutes } from './routes.ts';
import { SchedulingService } from './service.ts';

/** Scheduling at a node, joined to resource aggregation (clusters, reports, health) and the /gateway hub. */
export interface SchedulingServices {
  readonly service: SchedulingService;
  routes(): Router[];
  /** Hooks into the gateway hub (call after `resources.attach`). */
  attach(): void;
  start(): Promise<void>;
  stop(): void;
}

interface Seen {
  lifecycle: string;
  reports: number;
  health: string;
}

/** What `createSchedulingServices` uses of the node. */
type CreateSchedulingServicesDeps = RouteDeps & Pick<NodeContext, 'clientFor' | 'outbox' | 'serials'>;

/** Builds the scheduling services of a node. */
export async function createSchedulingServices(
  ctx: CreateSchedulingServicesDeps,
  resources: ResourceServices,
): Promise<SchedulingServices> {
  const cfg = ctx.config.scheduling;
  const gateways: GatewayPort = {
    dispatch(msg) {
      const hub = resources.gateway;
      const c = resources.aggregation.table.get(msg.cluster);
      if (!hub || !c)
        return Promise.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `no gateway for ${msg.cluster}` } });
      return hub.dispatch(
        c.spec.provider,
        {
          job: msg.job,
          cluster: msg.cluster,
          attempt: msg.attempt,
          template: msg.template,
          replicas: msg.replicas,
          ...(msg.traceparent ? { traceparent: msg.traceparent } : {}),
        },
        cfg.ackTimeoutMs,
      );
    },
    cancel(cluster, msg) {
      const hub = resources.gateway;
      const c = resources.aggregation.table.get(cluster);
      if (!hub || !c)
        return Promise.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `no gateway for ${cluster}` } });
      return hub.cancel(c.spec.provider, { job: msg.job, reason: msg.reason }, cfg.ackTimeoutMs);
    },
  };
  const flows = createFlowCounters(ctx.deps.clock);
  const service = new SchedulingService({
    code: ctx.config.code,
    parent: ctx.config.role === 'national' ? null : parentOf(ctx.config.code),
    clock: ctx.deps.clock,
    wall: wallClock(ctx.deps),
    store: ctx.db.jobs,
    gateways,
    peers: nodePeers(ctx),
    emit: (type, detail) => {
      ctx.events.emit(type, detail);
      if (type.startsWith('job.')) flows.count(detail.data);
    },
    newJobId: () => newJobId(ctx),
    log: { warn: (o, m) => ctx.deps.logger.warn(o, m), info: (o, m) => ctx.deps.logger.info(o, m) },
    options: {
      // The same silence rule as resource aggregation's health sweep; the service's own clock also covers a restart
      // (a cluster that never reports again after the node came back).
      downAfterMs: ctx.config.aggregation.downAfterMs,
      childDownAfterMs: cfg.childDownAfterMs,
      tickMs: cfg.tickMs,
      summaryMs: cfg.summaryMs,
      retryMs: cfg.retryMs,
      ackTimeoutMs: cfg.ackTimeoutMs,
      quotas: cfg.quotas,
      defaultQuota: cfg.defaultQuota,
      maxQueueMs: cfg.maxQueueMs,
      failback: cfg.failback,
    },
  });

  // Cluster facts the aggregation table does not hold in memory (arch, security level, carbon) come from the database once.
  const extras = new Map<string, { arch: string; securityLevel: number; carbonIntensity: number }>();
  const seen = new Map<string, Seen>();
  let syncing: Promise<void> | null = null;
  async function syncOnce(): Promise<void> {
    for (const st of resources.aggregation.table.values()) {
      const id = st.spec.id;
      const was = seen.get(id);
      // A suspended or revoked provider takes all its clusters out of selection, whatever their own lifecycle.
      const lifecycle =
        st.spec.lifecycle === 'active' && !resources.aggregation.providerActive(st.spec.provider)
          ? 'suspended'
          : st.spec.lifecycle;
      if (!was || was.lifecycle !== lifecycle) {
        let x = extras.get(id);
        if (!x) {
          const spec = ((await ctx.db.providers.clusterSpec(id)) ?? {}) as {
            arch?: string;
            securityLevel?: number;
            carbonIntensity?: number;
          };
          x = {
            arch: spec.arch ?? 'x86_64',
            securityLevel: spec.securityLevel ?? 3,
            carbonIntensity: spec.carbonIntensity ?? 500,
          };
          extras.set(id, x);
        }
        const registration = RegisterCluster.parse({
          provider: st.spec.provider,
          name: st.spec.name,
          province: st.spec.province,
          city: st.spec.city,
          industry: st.spec.industry,
          resourceClass: st.spec.resourceClass,
          arch: x.arch,
          securityLevel: x.securityLevel,
          capacity: st.spec.capacity,
          price: st.spec.price,
          pue: st.spec.pue,
          greenShare: st.spec.greenShare,
          carbonIntensity: x.carbonIntensity,
        });
        const facts: ClusterFacts = {
          id,
          node: st.spec.node,
          provider: st.spec.provider,
          registration,
          lifecycle: lifecycle as ClusterFacts['lifecycle'],
          health: 'healthy',
        };
        service.upsertCluster(facts);
      }
      const now: Seen = { lifecycle, reports: st.reports, health: st.health };
      if (st.report && (!was || was.reports !== st.reports))
        service.onReport([st.report], st.lastReportAt ?? ctx.deps.clock.now());
      if (
        was &&
        was.health !== 'down' &&
        st.health === 'down' &&
        st.reports > 0 &&
        service.view.healthOf(id) !== 'down'
      ) {
        await service.clusterDown(id, `cluster ${id} stopped reporting (aggregation marked it down)`);
      }
      seen.set(id, now);
    }
  }
  const sync = (): Promise<void> =>
    (syncing ??= syncOnce().finally(() => {
      syncing = null;
    }));

  const stops: (() => void)[] = [];
  let lastMetering = '';
  async function pushMetering(): Promise<void> {
    if (!ctx.config.parentUrl) return;
    const s = await service.meteringSummary();
    const key = JSON.stringify([s.byTenant, s.byProvider]);
    if (key === lastMetering || Object.keys(s.byTenant).length === 0) return;
    lastMetering = key;
    await ctx.outbox.enqueue({ endpoint: ctx.config.parentUrl, path: SCHEDULING_ROUTES.metering, body: s });
    ctx.outbox.kick();
  }
  return {
    service,
    routes: () => [schedulingRoutes(ctx, { service, sync })],
    attach() {
      resources.onJobUpdate = async (u) => {
        const r = await service.onJobUpdate(u);
        if (typeof r === 'object')
          return { ok: false, error: { code: 'RULE_VIOLATION', message: r.refused, field: 'at' } };
        return { ok: true };
      };
      resources.snapshotSources.jobs = () => service.snapshot();
    },
    async start() {
      await sync();
      await service.start();
      stops.push(repeat(ctx.deps, { ms: cfg.tickMs, what: 'cluster sync' }, sync));
      stops.push(repeat(ctx.deps, { ms: cfg.meteringMs, what: 'metering push' }, pushMetering));
      stops.push(
        repeat(ctx.deps, { ms: ctx.config.monitoring.flowsMs, what: 'job flow counters' }, async () => {
          const data = flows.drain();
          if (data) ctx.events.emit('job.flows', { subject: ctx.config.code, data });
        }),
      );
    },
    stop() {
      for (const s of stops.splice(0)) s();
      service.stop();
    },
  };
}

function parentOf(code: string): string | null {
  const p = code.split('.');
  return p.length > 1 ? p.slice(0, -1).join('.') : null;
}

async function newJobId(ctx: Pick<NodeContext, 'config' | 'db' | 'deps' | 'serials'>): Promise<string> {
  // The unique (prefix, serial) row guards against reuse; the last serial is kept for a restart.
  const serial = await ctx.db.write(() => allocateSerial(ctx, { prefix: ctx.config.code, kind: 'JB' }));
  const id = formatIdentifier({ prefix: ctx.config.code, kind: 'JB', serial });
  if (!id.ok) throw new Error(id.error.message);
  return id.value;
}
