import { creditCodeCheck } from '@cpnet/identifier';
import { createClient, createGatewayConnection, type GatewayConnection, type NodeClient } from '@cpnet/client';
import { ed25519Profile, generateKeyPair, type KeyPair } from '@cpnet/security';
import { ROUTES, type Control, type Dispatch } from '@cpnet/protocol';
import type { Clock } from '@cpnet/kernel';

// The virtual provider of the node-function checks: the same registration and gateway behaviour as the tests' fake
// provider (tests/src/providers.ts, tests/src/sim-gateway.ts), on the runner's clock and without the test helpers,
// since `cpnet check` is installed without the monorepo.

/** A cluster of the virtual provider: its identifier and the body it was registered with. */
export interface VirtualCluster {
  readonly id: string;
  readonly name: string;
  readonly body: ReturnType<typeof clusterBody>;
}

/** A dispatch the gateway accepted. */
interface Held {
  readonly job: string;
  readonly cluster: string;
  readonly attempt: number;
  readonly cores: number;
}

/** The virtual provider: registered at the target, its clusters, and its gateway connected to the target. */
export interface VirtualProvider {
  readonly id: string;
  readonly creditCode: string;
  readonly keys: KeyPair;
  /** Signs as the provider (keyid = its PV identifier). */
  readonly client: NodeClient;
  readonly clusters: readonly VirtualCluster[];
  readonly gateway: GatewayConnection;
  /** Dispatches received, in order. */
  readonly dispatched: Held[];
  /** Control orders (emergency) received, in order. */
  readonly controls: Control[];
  /** Reports every cluster not silenced now: K1 as registered, K2 less the jobs it holds. */
  report(): Promise<unknown>;
  /** Stops reporting a cluster: it goes dark. */
  silence(cluster: string): void;
  /** Sends a job's update as the provider's gateway. */
  update(job: string, state: 'running' | 'finished'): Promise<unknown>;
  close(): void;
}

/** A valid 统一社会信用代码 (GB 32100, check character computed) from 8 digits of a run. */
export function creditCode(serial: string): string {
  const body = `915101007${serial.replace(/\D/g, '0').padStart(8, '0').slice(-8)}`;
  return body + creditCodeCheck(body);
}

/** A cluster registration body: Sichuan, class 403, x86_64 unless `arch` says otherwise. */
export function clusterBody(provider: string, over: { name: string; arch: 'x86_64' | 'aarch64'; cores: number }) {
  return {
    provider,
    name: over.name,
    province: '51',
    city: '宜宾',
    industry: 'C151',
    resourceClass: '403',
    arch: over.arch,
    securityLevel: 3,
    capacity: { cpuCores: over.cores, memoryGib: 4096, storageGib: 100_000, bandwidthGbps: 100, accelerators: [] },
    price: { perCoreHourYuan: 0.12, perCardHourYuan: 0, perGibHourYuan: 0 },
    pue: 1.25,
    greenShare: 0.7,
    carbonIntensity: 400,
  };
}

/** Failed setup step of the virtual provider, with the answer that refused it. */
export class ProviderSetupError extends Error {
  constructor(
    message: string,
    readonly evidence: unknown,
  ) {
    super(message);
  }
}

/**
 * Registers a provider with its own key and a valid credit code at the target, registers three clusters (two x86_64,
 * so that a failed one's jobs have somewhere to go, and an aarch64 one, so that a selection has something to exclude),
 * and connects their gateway.
 */
export async function startVirtualProvider(o: {
  endpoint: string;
  node: string;
  clock: Clock;
  serial: string;
  timeoutMs: number;
}): Promise<VirtualProvider> {
  const keys = generateKeyPair();
  const code = creditCode(o.serial);
  const self = createClient({
    baseUrl: o.endpoint,
    timeoutMs: o.timeoutMs,
    signer: { keyid: code, privateKey: keys.privateKey },
  });
  const body = {
    name: `联调虚拟算力提供方 ${o.serial}`,
    creditCode: code,
    province: '51',
    city: '成都',
    publicKey: ed25519Profile.exportPublicKey(keys.publicKey),
  };
  const p = await self.request<{ id: string }>({ method: 'POST', path: ROUTES.providers, body });
  if (!p.ok)
    throw new ProviderSetupError(`the provider registration was refused: ${p.status} ${p.error.message}`, {
      request: { method: 'POST', url: `${o.endpoint}${ROUTES.providers}`, body },
      response: { status: p.status, body: { error: p.error } },
      expected: '201 with the provider identifier (PV)',
    });
  const id = p.value.id;
  const client = createClient({
    baseUrl: o.endpoint,
    timeoutMs: o.timeoutMs,
    signer: { keyid: id, privateKey: keys.privateKey },
  });
  const clusters: VirtualCluster[] = [];
  for (const [name, arch] of [
    ['联调集群 x86 甲', 'x86_64'],
    ['联调集群 x86 乙', 'x86_64'],
    ['联调集群 arm', 'aarch64'],
  ] as const) {
    const b = clusterBody(id, { name, arch, cores: 512 });
    const r = await client.request<{ id: string }>({ method: 'POST', path: ROUTES.clusters, body: b });
    if (!r.ok)
      throw new ProviderSetupError(`the cluster registration was refused: ${r.status} ${r.error.message}`, {
        request: { method: 'POST', url: `${o.endpoint}${ROUTES.clusters}`, body: b },
        response: { status: r.status, body: { error: r.error } },
        expected: '201 with the cluster identifier (CL)',
      });
    clusters.push({ id: r.value.id, name, body: b });
  }
  const dispatched: Held[] = [];
  const controls: Control[] = [];
  const silent = new Set<string>();
  const finished = new Set<string>();
  const gateway = createGatewayConnection({
    baseUrl: o.endpoint,
    node: o.node,
    signer: { keyid: id, privateKey: keys.privateKey },
    clock: o.clock,
    backoff: { initialMs: 100, maxMs: 1000 },
    handlers: {
      dispatch(order: Dispatch) {
        dispatched.push({
          job: order.job,
          cluster: order.cluster,
          attempt: order.attempt,
          cores: order.template.demand.cpuCores * order.replicas,
        });
        return { ok: true };
      },
      cancel: () => ({ ok: true }),
      control(order: Control) {
        controls.push(order);
        return { ok: true };
      },
    },
  });
  const held = (job: string) => [...dispatched].reverse().find((d) => d.job === job);
  // What a cluster runs: the latest attempt of each job not finished.
  const running = () => [...new Map(dispatched.map((d) => [d.job, d])).values()].filter((d) => !finished.has(d.job));
  const report = () => {
    const entries = clusters
      .filter((c) => !silent.has(c.id))
      .map((c) => {
        const k1 = c.body.capacity;
        const mine = running().filter((d) => d.cluster === c.id);
        const used = mine.reduce((a, d) => a + d.cores, 0);
        return {
          cluster: c.id,
          k1,
          k2: { ...k1, cpuCores: Math.max(0, k1.cpuCores - used) },
          price: c.body.price,
          pue: 1.25,
          greenShare: 0.7,
          metrics: {
            cpuUtil: used / k1.cpuCores,
            memoryUtil: 0.1,
            acceleratorUtil: 0,
            latencyMs: 4,
            health: 'healthy' as const,
            runningJobs: mine.length,
          },
        };
      });
    return entries.length > 0 ? gateway.report(entries) : Promise.resolve(null);
  };
  await gateway.connect();
  // Node time: the provider keeps reporting like a real gateway (every second), so its clusters stay healthy.
  const stop = o.clock.setInterval(() => void report().catch(() => undefined), 1000);
  return {
    id,
    creditCode: code,
    keys,
    client,
    clusters,
    gateway,
    dispatched,
    controls,
    report,
    silence: (c) => void silent.add(c),
    update: (job, state) => {
      const d = held(job);
      if (!d) throw new Error(`the virtual gateway holds no dispatch of ${job}`);
      if (state === 'finished') finished.add(job);
      return gateway.jobUpdate({ job, cluster: d.cluster, attempt: d.attempt, state });
    },
    close: () => {
      stop();
      gateway.close();
    },
  };
}
