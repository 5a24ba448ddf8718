import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type NodeClient } from '@cpnet/client';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';
import { clusterBody, registerProvider } from './providers.ts';
import { startSimGateway, type SimGateway } from './sim-gateway.ts';

// Fair admission (issue 27) at a real node: HTTP on loopback, its database, a gateway on the real /gateway socket.
// A region with one 12-core cluster; tenants `fa` (weight 2) and `fb` (weight 1) flood it.

type Job = { id: string; tenant?: string; state: string; history: { state: string; detail?: string }[] };

let national: TestNode;
let region: TestNode;
let gw: SimGateway;
let fa: NodeClient;
let fb: NodeClient;

async function tenant(node: TestNode, account: string): Promise<NodeClient> {
  const c = await node.self.createAccount({ id: account, name: account, role: 'tenant', password: 'tenant-pass-1' });
  if (!c.ok) throw new Error(c.error.message);
  const t = await node.anon.token({ account, password: 'tenant-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return createClient({ baseUrl: node.url, token: t.value.token });
}

beforeAll(async () => {
  const timings = { tickMs: 100, summaryMs: 100, retryMs: 400, meteringMs: 200 };
  const agg = { degradedAfterMs: 600, downAfterMs: 1200, sweepMs: 50, summaryMs: 100, eventShipMs: 100 };
  national = await startTestNode({
    role: 'national',
    code: 'CPN',
    autoReview: true,
    aggregation: agg,
    scheduling: timings,
  });
  const dir = tempDir();
  region = await startTestNode({
    role: 'regional',
    code: 'CPN.35',
    parentUrl: national.url,
    dataDir: dir,
    autoReview: true,
    aggregation: agg,
    scheduling: { ...timings, fairness: { weights: { fa: 2, fb: 1 } } },
    applicationFile: applicationFile(dir, {
      region: '35',
      name: '35 区域节点',
      site: { province: '35', city: 'x', address: 'y' },
    }),
  });
  await eventually(async () => (await lifecycleOf(region)) === 'online', 20_000);
  const p = await registerProvider(region.url, 35);
  const body = clusterBody(p.id, {
    name: 'small',
    province: '35',
    capacity: { cpuCores: 12, memoryGib: 96, storageGib: 1000, bandwidthGbps: 10, accelerators: [] },
    price: { perCoreHourYuan: 0.1, perCardHourYuan: 0 },
  });
  const r = await p.client.request<{ id: string }>({ method: 'POST', path: '/cpn/v1/clusters', body });
  if (!r.ok) throw new Error(`cluster registration failed: ${r.status} ${r.error.message}`);
  gw = await startSimGateway({
    url: region.url,
    node: 'CPN.35',
    provider: p,
    clusters: [{ id: r.value.id, body: body as never }],
    everyMs: 100,
  });
  fa = await tenant(region, 'fa');
  fb = await tenant(region, 'fb');
}, 120_000);

afterAll(async () => {
  gw?.stop();
  for (const n of [region, national]) await n?.stop().catch(() => undefined);
  cleanup();
});

// One core each, kept in Fujian (nowhere else in reach could take them).
const job = {
  demand: { cpuCores: 1, memoryGib: 4 },
  durationHours: 1,
  constraints: { residency: { provinces: ['35'] } },
};
const submit = async (c: NodeClient): Promise<Job> => {
  const r = await c.request<Job>({ method: 'POST', path: '/cpn/v1/jobs', body: { template: job } });
  if (!r.ok) throw new Error(`${r.status} ${r.error.message}`);
  return r.value;
};
const get = async (c: NodeClient, id: string): Promise<Job> => {
  const r = await c.request<Job>({ method: 'GET', path: `/cpn/v1/jobs/${encodeURIComponent(id)}` });
  if (!r.ok) throw new Error(`${r.status} ${r.error.message}`);
  return r.value;
};

describe('fair admission at a real node', () => {
  // Once flaky (4 of 4 quiet runs failed): the node took a gateway report stamped at its durable write as counting
  // every job placed before then, and let a job's aged priority preempt work of its own base priority. Both fixed
  // (cluster-view.ts's one account, `preemptBelow`); the gateway may finish jobs and report in any order.
  it('tenants weighted 2:1 flooding a 12-core node: freed capacity goes 8 to 4; a waiting job names its share', async () => {
    // The cluster reports before work arrives.
    await eventually(async () => {
      const r = await region.self.request<{ candidates: unknown[] }>({
        method: 'POST',
        path: '/cpn/v1/selections',
        body: { template: job },
      });
      return r.ok && r.value.candidates.length > 0;
    }, 15_000);
    const a: Job[] = [];
    for (let i = 0; i < 12; i++) a.push(await submit(fa));
    expect(a.every((j) => j.state === 'dispatched')).toBe(true);
    // The node is full: both tenants' floods queue behind each other.
    const waiting: { c: NodeClient; j: Job }[] = [];
    for (let i = 0; i < 12; i++) waiting.push({ c: fa, j: await submit(fa) }, { c: fb, j: await submit(fb) });
    expect(waiting.every((w) => w.j.state === 'queued')).toBe(true);
    // fb's first job is the head (fb holds nothing); its second waits behind it, by its tenant's share.
    const head = await get(fb, waiting[1]!.j.id);
    expect(head.history.at(-1)!.detail).toMatch(
      /fair admission: next in line .* shares of this node's capacity: fb 0 %/,
    );
    const b = await get(fb, waiting[3]!.j.id);
    expect(b.history.at(-1)!.detail).toMatch(/fair admission: tenant fb holds 0 % of this node's capacity at weight 1/);
    // Every running job ends; the freed 12 cores go by weighted DRF.
    for (const id of [...gw.running.keys()]) await gw.finish(id);
    const admitted = async () => {
      const out = { fa: 0, fb: 0 };
      for (const w of waiting) {
        const s = (await get(w.c, w.j.id)).state;
        if (s === 'dispatched' || s === 'running') out[w.c === fa ? 'fa' : 'fb']++;
      }
      return out;
    };
    // Wall time: 1–2 s seen on the loaded machine, up to 6.4 s beside two CPU hogs at load 24; bound 30 s. At least
    // 12, then exactly 8 + 4: a 13th admission fails here, naming the counts, rather than as a timeout.
    const count = async () => {
      const a = await admitted();
      return a.fa + a.fb >= 12;
    };
    expect(await eventually(count, 30_000)).toBe(true);
    expect(await admitted()).toEqual({ fa: 8, fb: 4 });
    const still = waiting.find((w) => w.c === fb && gw.running.has(w.j.id) === false)!;
    // A waiting job's note gives the shares after its round's admissions (the round admitting the 12 writes them
    // after placing them, a moment after the count above). Wait for it (bound 30 s of wall time), then check it.
    const note = async () => (await get(fb, still.j.id)).history.at(-1)!.detail ?? '';
    await eventually(async () => (await note()).includes('fa 67 %'), 30_000);
    expect(await note()).toMatch(/shares: .*fa 67 % at weight 2/);
  });

  it('typed extensions: a bad ext.data is a 400 naming template.ext.data.…, before any job is made', async () => {
    for (const [data, field] of [
      [{ inputGib: -1, province: '31' }, 'template.ext.data.inputGib'],
      [{ inputGB: 10, province: '31' }, 'template.ext.data.inputGB'],
    ] as const) {
      const r = await fa.request<Job>({
        method: 'POST',
        path: '/cpn/v1/jobs',
        body: { template: { ...job, ext: { data } } },
      });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.status).toBe(400);
      expect(!r.ok && r.error.field).toBe(field);
    }
    const sel = await fa.request({
      method: 'POST',
      path: '/cpn/v1/selections',
      body: { template: { ...job, ext: { locality: { spread: [{ by: 'province', min: 3, max: 2 }] } } } },
    });
    expect(!sel.ok && sel.error.field).toBe('template.ext.locality.spread[0].min');
  });
});
