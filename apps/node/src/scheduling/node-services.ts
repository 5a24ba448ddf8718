import type { Router } from 'express';
import { formatIdentifier } from '@cpnet/identifier';
import { RegisterCluster, SCHEDULING_ROUTES } from '@cpnet/protocol';
import type { RouteDeps } from '../http/write-route.ts';
import type { NodeContext } from '../context.ts';
import { repeat, wallClock } from '../deps.ts';
import { allocateSerial } from '../identifiers/registry.ts';
import type { ResourceServices } from '../aggregation/resources.ts';
import type { ClusterChange } from '../aggregation/service.ts';
import type { ClusterState } from '../aggregation/types.ts';
import type { ClusterFacts } from './mapping.ts';
import { sendsOneSummary } from '../links/one-summary.ts';
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

/** What `createSchedulingServices` uses of the node. */
type CreateSchedulingServicesDeps = RouteDeps & Pick<NodeContext, 'clientFor' | 'outbox' | 'serials' | 'settings'>;

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
    // The figures go up in the aggregation's subtree summary (the one summary upward) when the parent takes it.
    peers: nodePeers(ctx, {
      oneSummary: {
        takes: () => sendsOneSummary(ctx),
        summary: (figures) => resources.aggregation.summary(figures),
      },
    }),
    emit: (type, detail) => {
      ctx.events.emit(type, detail);
      if (type.startsWith('job.')) flows.count(detail.data);
    },
    newJobId: () => newJobId(ctx),
    log: { warn: (o, m) => ctx.deps.logger.warn(o, m), info: (o, m) => ctx.deps.logger.info(o, m) },
    options: {
      childDownAfterMs: cfg.childDownAfterMs,
      tickMs: cfg.tickMs,
      summaryMs: cfg.summaryMs,
      retryMs: cfg.retryMs,
      ackTimeoutMs: cfg.ackTimeoutMs,
      quotas: cfg.quotas,
      defaultQuota: cfg.defaultQuota,
      maxQueueMs: cfg.maxQueueMs,
      failback: cfg.failback,
      fairness: cfg.fairness,
    },
  });

  // One summary upward: the aggregation carries this subtree's figures in `ext.scheduling`, hands a child's figures
  // (its heartbeat) to the service, and answers a child's summary with the hierarchy's ceiling.
  resources.aggregation.scheduling = {
    figures: () => service.schedulingFigures(),
    onFigures: (child, figures) => service.onFigures(child, figures),
    ceiling: () => service.hierarchyCeiling(),
  };

  // One cluster model: the scheduler's view is fed by the aggregation's change events, in order, and judges no
  // liveness of its own (the aggregation's health — reported, made worse by silence — is the one verdict).
  // Cluster facts the aggregation table does not hold in memory (arch, security level, carbon) come from the database
  // once per cluster.
  const extras = new Map<string, { arch: string; securityLevel: number; carbonIntensity: number }>();
  const known = new Set<string>();
  type Extras = { arch: string; securityLevel: number; carbonIntensity: number };
  async function extrasOf(id: string): Promise<Extras> {
    const held = extras.get(id);
    if (held) return held;
    const spec = ((await ctx.db.providers.clusterSpec(id)) ?? {}) as Partial<Extras>;
    const x = {
      arch: spec.arch ?? 'x86_64',
      securityLevel: spec.securityLevel ?? 3,
      carbonIntensity: spec.carbonIntensity ?? 500,
    };
    extras.set(id, x);
    return x;
  }
  function factsOf(st: ClusterState, x: Extras): ClusterFacts {
    const id = st.spec.id;
    // A suspended or revoked provider takes all its clusters out of selection, whatever their own lifecycle.
    const lifecycle =
      st.spec.lifecycle === 'active' && !resources.aggregation.providerActive(st.spec.provider)
        ? 'suspended'
        : st.spec.lifecycle;
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
    return {
      id,
      node: st.spec.node,
      provider: st.spec.provider,
      registration,
      lifecycle: lifecycle as ClusterFacts['lifecycle'],
      health: st.health,
    };
  }
  function apply(c: ClusterChange, x: Extras | undefined): void {
    const id = c.cluster.spec.id;
    if (x) {
      service.upsertCluster(factsOf(c.cluster, x));
      known.add(id);
    }
    if (c.kind === 'report') service.onReport([c.report], c.at);
    else if (c.kind === 'health' && c.to !== c.from)
      // Not awaited: the view marks the cluster down at once (later events see it); re-placement runs on its own.
      void service
        .clusterHealth(id, c.to, downReason(id, c))
        .catch((err: unknown) => ctx.deps.logger.warn({ err, cluster: id }, 'cluster health change failed'));
  }
  // Events arrive synchronously and are applied at once, in order; only the first sight of a cluster reads the
  // database (its arch, security level, carbon), and while such a read is pending later changes queue behind it.
  let feeding: Promise<void> = Promise.resolve();
  let pending = 0;
  const warn = (err: unknown, c: ClusterChange) =>
    ctx.deps.logger.warn({ err, cluster: c.cluster.spec.id }, 'cluster change not applied');
  const feed = (c: ClusterChange) => {
    const id = c.cluster.spec.id;
    const needsFacts = c.kind === 'registered' || c.kind === 'lifecycle' || !known.has(id);
    const held = extras.get(id);
    if (pending === 0 && (!needsFacts || held)) {
      try {
        apply(c, needsFacts ? held : undefined);
      } catch (err) {
        warn(err, c);
      }
      return;
    }
    pending += 1;
    feeding = feeding
      .then(async () => apply(c, needsFacts ? await extrasOf(id) : undefined))
      .catch((err: unknown) => warn(err, c))
      .finally(() => {
        pending -= 1;
      });
  };
  /** Resolves when every change announced so far is in the view (a route waits for it; nothing is polled). */
  const settled = (): Promise<void> => feeding;

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
    routes: () => [schedulingRoutes(ctx, { service, settled })],
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
      // Jobs first, so that loading a cluster puts back the jobs it ran; then every cluster as the table holds it.
      await service.start();
      stops.push(resources.aggregation.onChange(feed));
      for (const st of resources.aggregation.table.values()) {
        feed({ kind: 'registered', cluster: st });
        if (st.report)
          feed({ kind: 'report', cluster: st, report: st.report, at: st.lastReportAt ?? ctx.deps.clock.now() });
        // Judged down before the restart: its jobs move now (the sweep only announces changes).
        if (st.health === 'down' && st.reports > 0)
          feed({
            kind: 'health',
            cluster: st,
            from: 'healthy',
            to: 'down',
            cause: 'silence',
            reason: 'down when the node started',
          });
      }
      await settled();
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

/** Why a cluster's jobs move: the judge's cause, in the words the job history has always used for silence. */
function downReason(id: string, c: { to: string; cause: 'report' | 'silence'; reason: string }): string {
  if (c.to !== 'down') return c.reason;
  return c.cause === 'silence'
    ? `cluster ${id} stopped reporting (down by the aggregation's silence rule)`
    : `cluster ${id} is down: ${c.reason}`;
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
