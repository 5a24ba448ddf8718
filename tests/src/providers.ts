import { creditCodeCheck } from '@cpnet/identifier';
import { createClient, createGatewayConnection, type GatewayConnection, type NodeClient } from '@cpnet/client';
import { ed25519Profile, generateKeyPair, type KeyPair } from '@cpnet/security';

/** A valid 统一社会信用代码 numbered `n` (GB 32100 check character computed). */
function creditCode(n: number): string {
  const body = `915101007${String(n).padStart(8, '0')}`;
  return body + creditCodeCheck(body);
}

/** A provider registered at a node, with its key and a client signing as it. */
export interface TestProvider {
  readonly id: string;
  readonly keys: KeyPair;
  readonly client: NodeClient;
  readonly creditCode: string;
}

/** Registers a provider, signed with its own key (keyid = its credit code, as it has no identifier yet). */
export async function registerProvider(
  url: string,
  n: number,
  options: { idempotencyKey?: string } = {},
): Promise<TestProvider> {
  const keys = generateKeyPair();
  const code = creditCode(n);
  const self = createClient({ baseUrl: url, signer: { keyid: code, privateKey: keys.privateKey } });
  const r = await self.request<{ id: string }>({
    method: 'POST',
    path: '/cpn/v1/providers',
    body: {
      name: `算力提供方 ${n}`,
      creditCode: code,
      province: '51',
      city: '成都',
      publicKey: ed25519Profile.exportPublicKey(keys.publicKey),
    },
    ...(options.idempotencyKey ? { headers: { 'idempotency-key': options.idempotencyKey } } : {}),
  });
  if (!r.ok) throw new Error(`provider registration failed: ${r.status} ${r.error.message}`);
  return {
    id: r.value.id,
    keys,
    creditCode: code,
    client: createClient({ baseUrl: url, signer: { keyid: r.value.id, privateKey: keys.privateKey } }),
  };
}

/** A cluster registration body. */
export function clusterBody(provider: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provider,
    name: '宜宾智算集群',
    province: '51',
    city: '宜宾',
    industry: 'C151',
    resourceClass: '403',
    arch: 'x86_64',
    securityLevel: 3,
    capacity: {
      cpuCores: 512,
      memoryGib: 4096,
      storageGib: 100_000,
      bandwidthGbps: 100,
      accelerators: [{ model: 'Ascend 910B', kind: 'NPU', count: 64, memoryGib: 64, fp16Tflops: 320, fp32Tflops: 80 }],
    },
    price: { perCoreHourYuan: 0.12, perCardHourYuan: 9.5, perGibHourYuan: 0 },
    pue: 1.25,
    greenShare: 0.7,
    carbonIntensity: 400,
    ...over,
  };
}

/** Registers `count` clusters of a provider; returns their identifiers. */
export async function registerClusters(
  p: TestProvider,
  count: number,
  over: Record<string, unknown> = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await p.client.request<{ id: string }>({
      method: 'POST',
      path: '/cpn/v1/clusters',
      body: clusterBody(p.id, { name: `集群 ${i}`, ...over }),
    });
    if (!r.ok) throw new Error(`cluster registration failed: ${r.status} ${r.error.message}`);
    ids.push(r.value.id);
  }
  return ids;
}

/** One cluster's report entry: K1 as declared, K2 with `available` cores. */
export function reportEntry(cluster: string, available = 256, health: 'healthy' | 'degraded' | 'down' = 'healthy') {
  const body = clusterBody('x') as {
    capacity: {
      cpuCores: number;
      memoryGib: number;
      storageGib: number;
      bandwidthGbps: number;
      accelerators: unknown[];
    };
    price: unknown;
  };
  return {
    cluster,
    k1: body.capacity,
    k2: { ...body.capacity, cpuCores: available },
    price: body.price,
    pue: 1.25,
    greenShare: 0.7,
    metrics: { cpuUtil: 0.5, memoryUtil: 0.4, acceleratorUtil: 0.6, latencyMs: 4, health, runningJobs: 2 },
  } as never;
}

/** A gateway connection for a provider. */
export function gateway(url: string, node: string, p: TestProvider): GatewayConnection {
  return createGatewayConnection({
    baseUrl: url,
    node,
    signer: { keyid: p.id, privateKey: p.keys.privateKey },
    backoff: { initialMs: 50, maxMs: 500 },
  });
}
