import { createRng, deriveSeed } from '@cpnet/kernel';
import {
  createClient,
  createGatewayConnection,
  type ClientResult,
  type GatewayConnection,
  type NodeClient,
} from '@cpnet/client';
import { ed25519Profile, generateKeyPair } from '@cpnet/security';
import { createFakeCluster, type FakeCluster } from '../providers/fake-cluster.ts';
import type { PlannedCluster, PlannedProvider } from '../topology/expand.ts';
import { now, type RunContext } from './context.ts';

type ReportEntry = Parameters<GatewayConnection['report']>[0][number];
import { systemClock } from '@cpnet/kernel/system';

/** A provider of the simulation: registered at its node, with a gateway multiplexing all its clusters. */
export interface SimProvider {
  readonly planned: PlannedProvider;
  readonly id: string;
  /** Fake clusters by their identifier. */
  readonly clusters: Map<string, FakeCluster>;
  /** Cluster identifiers by the plan's key (p0c1 …), for fault targets. */
  readonly idOfKey: Map<string, string>;
  /** Province of each cluster identifier. */
  readonly provinceOf: Map<string, string>;
  conn: GatewayConnection;
  /** Stops the gateway connection (a gateway outage); `reconnect` brings it back. */
  disconnect(): void;
  reconnect(): Promise<void>;
  stop(): void;
}

/** The registration body of a planned cluster, as its provider sends it. */
export function clusterBody(provider: string, c: PlannedCluster, industry: string | null) {
  return {
    provider,
    name: c.name,
    province: c.province,
    city: c.city,
    industry,
    resourceClass: c.resourceClass,
    arch: c.arch,
    securityLevel: c.securityLevel,
    capacity: {
      cpuCores: c.cpuCores,
      memoryGib: c.memoryGib,
      storageGib: c.cpuCores * 100,
      bandwidthGbps: 100,
      accelerators: c.accelerators.map((a) => ({
        model: a.model,
        kind: 'GPU',
        count: a.count,
        memoryGib: 64,
        fp16Tflops: a.fp16Tflops,
        fp32Tflops: a.fp32Tflops,
      })),
    },
    price: { perCoreHourYuan: c.pricePerCoreHourYuan, perCardHourYuan: c.pricePerCardHourYuan, perGibHourYuan: 0 },
    pue: c.pue,
    greenShare: c.greenShare,
    carbonIntensity: Math.round(600 * (1 - c.greenShare)),
  };
}

/** Cluster registrations a provider has in flight at once. */
const REGISTRATIONS_IN_FLIGHT = 8;

/** Answers worth asking again: no answer (timeout, reset), timed-out or expired signature, busy, or a server fault. */
const TRANSIENT = (status: number) =>
  status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;

/**
 * A registration as a careful supplier sends it to a busy node: with an `Idempotency-Key`, so that asking again after
 * a timeout cannot register twice (the node answers a repeat with the first answer), up to 5 tries with backoff.
 */
async function registerOnce<T>(
  client: NodeClient,
  o: { path: string; key: string; body: unknown },
): Promise<ClientResult<T>> {
  for (let attempt = 1; ; attempt++) {
    const r = await client.request<T>({
      method: 'POST',
      path: o.path,
      body: o.body,
      headers: { 'idempotency-key': o.key },
    });
    if (r.ok || !TRANSIENT(r.status) || attempt === 5) return r;
    await systemClock.sleep(250 * 2 ** attempt); // wall time: retries a real request
  }
}

/**
 * Registers a planned provider and its clusters at its node, eight registrations in flight at a time (signed with the
 * provider's own key, as a real supplier would), then connects its gateway: one socket.io connection reporting K1/K2
 * for every cluster each `reportEveryMs` of virtual time, taking dispatches and cancellations, and streaming job
 * updates from the fake clusters.
 */
export async function startProvider(
  ctx: RunContext,
  planned: PlannedProvider,
  options: { reportEveryMs: number },
): Promise<SimProvider> {
  const url = ctx.net.urlOf(planned.node);
  const keys = generateKeyPair();
  const self = createClient({
    baseUrl: url,
    signer: { keyid: planned.creditCode, privateKey: keys.privateKey },
    clock: ctx.clock,
    timeoutMs: 15_000,
  });
  const reg = await registerOnce<{ id: string }>(self, {
    path: '/cpn/v1/providers',
    key: `provider-${planned.creditCode}`,
    body: {
      name: planned.name,
      creditCode: planned.creditCode,
      province: planned.province,
      city: planned.city,
      publicKey: ed25519Profile.exportPublicKey(keys.publicKey),
    },
  });
  if (!reg.ok)
    throw new Error(
      `provider ${planned.name} was not registered at ${planned.node}: ${reg.status} ${reg.error.message}`,
    );
  const id = reg.value.id;
  const client = createClient({
    baseUrl: url,
    signer: { keyid: id, privateKey: keys.privateKey },
    clock: ctx.clock,
    timeoutMs: 15_000,
  });
  const industry = planned.node.split('.')[2] ?? null;
  const clusters = new Map<string, FakeCluster>();
  const idOfKey = new Map<string, string>();
  const provinceOf = new Map<string, string>();
  let conn: GatewayConnection | null = null;
  // A few registrations in flight at once, as a provider's tooling would send them: the node commits them together.
  const ids = new Array<string>(planned.clusters.length);
  let next = 0;
  const worker = async () => {
    // After a refusal the others stop taking more (the provider's start fails with the first refusal).
    while (next < planned.clusters.length) {
      const i = next++;
      const c = planned.clusters[i]!;
      const r = await registerOnce<{ id: string }>(client, {
        path: '/cpn/v1/clusters',
        key: `cluster-${planned.creditCode}-${c.key}`,
        body: clusterBody(id, c, industry),
      });
      if (!r.ok) {
        next = planned.clusters.length;
        throw new Error(`cluster ${c.name} of ${planned.name} was not registered: ${r.status} ${r.error.message}`);
      }
      ids[i] = r.value.id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTRATIONS_IN_FLIGHT, planned.clusters.length) }, worker));
  for (const [i, c] of planned.clusters.entries()) {
    const clusterId = ids[i]!;
    idOfKey.set(c.key, clusterId);
    provinceOf.set(clusterId, c.province);
    clusters.set(
      clusterId,
      createFakeCluster({
        id: clusterId,
        plan: c,
        clock: ctx.clock,
        // Its own sequence from the run's seed: what other parts draw, and when, does not change its failures.
        random: createRng(deriveSeed(ctx.seed, `cluster:${c.key}`)).next,
        onUpdate: (u) => {
          if (!conn) return;
          // In flight until the node acknowledged it: the clock waits for a job's end to be heard.
          void ctx.clock.governor.load
            .track(
              conn.jobUpdate({
                job: u.job,
                cluster: clusterId,
                attempt: u.attempt,
                state: u.state,
                ...(u.detail ? { detail: u.detail } : {}),
                ...(u.progress !== undefined ? { progress: u.progress } : {}),
              }),
            )
            .catch(() => undefined);
        },
      }),
    );
  }
  const connect = async () => {
    conn = createGatewayConnection({
      baseUrl: url,
      node: planned.node,
      signer: { keyid: id, privateKey: keys.privateKey },
      clock: ctx.clock,
      backoff: { initialMs: 100, maxMs: 2000 },
      handlers: {
        dispatch(order) {
          const cluster = clusters.get(order.cluster);
          if (!cluster)
            return {
              ok: false,
              error: { code: 'NOT_FOUND', message: `this gateway serves no cluster ${order.cluster}` },
            };
          const r = cluster.start({
            job: order.job,
            attempt: order.attempt,
            demand: order.template.demand,
            replicas: order.replicas,
            durationHours: order.template.durationHours,
          });
          if (r.accepted) ctx.dispatches.push({ job: order.job, cluster: order.cluster, at: now(ctx) });
          return r.accepted ? { ok: true } : { ok: false, error: { code: 'CONFLICT', message: r.reason } };
        },
        cancel(order) {
          for (const c of clusters.values()) c.cancel(order.job);
          return { ok: true };
        },
        control() {
          return { ok: true };
        },
      },
    });
    await conn.connect();
  };
  await connect();
  let stopped = false;
  let online = true;
  /** Each cluster's last entry with its identifier: the same object while the cluster's own entry is. */
  const named = new Map<string, { readonly from: object; readonly entry: ReportEntry }>();
  const loop = () => {
    if (stopped) return;
    const entries = [...clusters.entries()].flatMap(([cid, c]) => {
      const r = c.report();
      if (!r) return [];
      const held = named.get(cid);
      if (held?.from === r) return [held.entry];
      const entry = { cluster: cid, ...r };
      named.set(cid, { from: r, entry });
      return [entry];
    });
    // A report on its way counts as work in flight: the clock does not run ahead of it.
    if (online && entries.length > 0 && conn)
      void ctx.clock.governor.load.track(conn.report(entries)).catch(() => undefined);
    ctx.clock.after(options.reportEveryMs, loop);
  };
  loop();
  return {
    planned,
    id,
    clusters,
    idOfKey,
    provinceOf,
    get conn() {
      return conn!;
    },
    set conn(c) {
      conn = c;
    },
    disconnect() {
      online = false;
      conn?.close();
      conn = null;
    },
    async reconnect() {
      online = true;
      await connect();
    },
    stop() {
      stopped = true;
      conn?.close();
      for (const c of clusters.values()) c.stop();
    },
  };
}
