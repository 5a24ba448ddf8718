// Scheduling figures of `npm run bench -- node`: submit → dispatched latency of local and escalated jobs on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient, createGatewayConnection, type GatewayConnection, type NodeClient } from '@cpnet/client';
import { creditCodeCheck } from '@cpnet/identifier';
import { createNode, type CpnNode, type NodeConfigInput } from '@cpnet/node';
import { cryptoRandomBytes, ed25519Profile, generateKeyPair } from '@cpnet/security';
import { BENCH_APPLICATION } from './application.ts';

type Figures = Record<string, number>;

const deps = () => ({
  clock: systemClock,
  logger: pino({ level: 'silent' }),
  randomBytes: cryptoRandomBytes,
});
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'cpnet-bench-sched-'));
  dirs.push(d);
  return d;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const APP = BENCH_APPLICATION;
const SCHED = { tickMs: 500, summaryMs: 1000 };

async function start(config: Omit<NodeConfigInput, 'dataDir' | 'port'>): Promise<{ node: CpnNode; url: string }> {
  const dataDir = tmp();
  let applicationFile: string | undefined;
  if (config.role === 'regional') {
    const region = config.code.split('.')[1]!;
    applicationFile = path.join(dataDir, 'application.json');
    writeFileSync(
      applicationFile,
      JSON.stringify({
        ...APP,
        role: 'regional',
        region,
        industry: null,
        name: `r${region}`,
        site: { province: region, city: 'c', address: 'a' },
      }),
    );
  }
  const node = await createNode(
    {
      port: 0,
      retry: { initialMs: 20, maxMs: 100 },
      pollMs: 50,
      scheduling: SCHED,
      ...config,
      dataDir,
      ...(applicationFile ? { applicationFile } : {}),
    },
    deps(),
  );
  const url = await node.listen();
  for (let i = 0; i < 600; i++) {
    const r = await createClient({ baseUrl: url }).node();
    if (r.ok && r.value.lifecycle === 'online') break;
    await sleep(50);
  }
  return { node, url };
}

/** A provider with one big cluster at `url`, and its gateway accepting every dispatch. */
async function supply(url: string, node: string, o: { n: number; province: string }): Promise<GatewayConnection> {
  const keys = generateKeyPair();
  const body = `915101007${String(o.n).padStart(8, '0')}`;
  const code = body + creditCodeCheck(body);
  const self = createClient({ baseUrl: url, signer: { keyid: code, privateKey: keys.privateKey } });
  const p = await self.request<{ id: string }>({
    method: 'POST',
    path: '/cpn/v1/providers',
    body: {
      name: `p${o.n}`,
      creditCode: code,
      province: o.province,
      city: 'c',
      publicKey: ed25519Profile.exportPublicKey(keys.publicKey),
    },
  });
  if (!p.ok) throw new Error(p.error.message);
  const client = createClient({ baseUrl: url, signer: { keyid: p.value.id, privateKey: keys.privateKey } });
  const capacity = {
    cpuCores: 1_000_000,
    memoryGib: 8_000_000,
    storageGib: 1_000_000,
    bandwidthGbps: 1000,
    accelerators: [],
  };
  const price = { perCoreHourYuan: 0.1, perCardHourYuan: 0, perGibHourYuan: 0 };
  const c = await client.request<{ id: string }>({
    method: 'POST',
    path: '/cpn/v1/clusters',
    body: {
      provider: p.value.id,
      name: 'big',
      province: o.province,
      city: 'c',
      industry: null,
      resourceClass: '401',
      arch: 'x86_64',
      securityLevel: 3,
      capacity,
      price,
      pue: 1.2,
      greenShare: 0.5,
      carbonIntensity: 500,
    },
  });
  if (!c.ok) throw new Error(c.error.message);
  const gw = createGatewayConnection({
    baseUrl: url,
    node,
    signer: { keyid: p.value.id, privateKey: keys.privateKey },
    handlers: { dispatch: () => ({ ok: true }), cancel: () => ({ ok: true }) },
  });
  await gw.connect();
  const report = () =>
    gw.report([
      {
        cluster: c.value.id,
        k1: capacity,
        k2: capacity,
        price,
        pue: 1.2,
        greenShare: 0.5,
        metrics: { cpuUtil: 0, memoryUtil: 0, acceleratorUtil: 0, latencyMs: 3, health: 'healthy', runningJobs: 0 },
      },
    ]);
  await report();
  const t = setInterval(() => void report().catch(() => undefined), 500);
  t.unref();
  return gw;
}

async function tenant(n: { node: CpnNode; url: string }): Promise<NodeClient> {
  const ctx = n.node.context;
  const self = createClient({
    baseUrl: n.url,
    signer: { keyid: ctx.config.code, privateKey: ctx.identity.keys.privateKey },
  });
  const made = await self.createAccount({ id: 'bench', name: 'bench', role: 'tenant', password: 'bench-pass-1' });
  if (!made.ok) throw new Error(made.error.message);
  const t = await self.token({ account: 'bench', password: 'bench-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return createClient({ baseUrl: n.url, token: t.value.token });
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

async function latencies(c: NodeClient, template: Record<string, unknown>, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const t0 = performance.now();
    const r = await c.request<{ state: string }>({ method: 'POST', path: '/cpn/v1/jobs', body: { template } });
    const ms = performance.now() - t0;
    if (!r.ok || r.value.state !== 'dispatched')
      throw new Error(`job not dispatched: ${r.ok ? r.value.state : r.error.message}`);
    if (i >= 20) out.push(ms); // the first 20 warm up connections and JIT
  }
  return out;
}

/** Submit → dispatched (the answer of POST /cpn/v1/jobs) for local jobs and for jobs escalated to another province. */
export async function schedulingFigures(count = Number(process.env.CPNET_BENCH_JOBS ?? 300)): Promise<Figures> {
  const started: { node: CpnNode }[] = [];
  const gws: GatewayConnection[] = [];
  try {
    const national = await start({ role: 'national', code: 'CPN', autoReview: true });
    started.push(national);
    const r51 = await start({ role: 'regional', code: 'CPN.51', parentUrl: national.url, autoReview: true });
    const r44 = await start({ role: 'regional', code: 'CPN.44', parentUrl: national.url, autoReview: true });
    started.push(r51, r44);
    gws.push(
      await supply(r51.url, 'CPN.51', { n: 1, province: '51' }),
      await supply(r44.url, 'CPN.44', { n: 2, province: '44' }),
    );
    const c = await tenant(r51);
    const job = (provinces: string[]) => ({
      demand: { cpuCores: 1, memoryGib: 1 },
      durationHours: 1,
      constraints: { residency: { provinces } },
    });
    for (let i = 0; i < 200; i++) {
      const r = await c.request<{ candidates: unknown[] }>({
        method: 'POST',
        path: '/cpn/v1/selections',
        body: { template: job(['44']) },
      });
      if (r.ok && r.value.candidates.length > 0) break;
      await sleep(50);
    }
    const local = await latencies(c, job(['51']), count);
    // Inside the node (placement, gateway round trip, durable save), without HTTP, token check and audit.
    const inside = r51.node.scheduling.service.snapshot();
    const escalated = await latencies(c, job(['44']), count);
    return {
      job_local_service_p50_ms: inside.p50Ms ?? 0,
      job_local_p50_ms: q(local, 0.5),
      job_local_p99_ms: q(local, 0.99),
      job_escalated_p50_ms: q(escalated, 0.5),
      job_escalated_p99_ms: q(escalated, 0.99),
      job_escalated_to_local_p50: q(escalated, 0.5) / q(local, 0.5),
    };
  } finally {
    for (const g of gws) g.close();
    for (const n of started.reverse()) await n.node.close().catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}
