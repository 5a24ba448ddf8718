import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type NodeClient } from '@cpnet/client';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';
import { clusterBody, registerProvider } from './providers.ts';
import { startSimGateway, type SimCluster, type SimGateway } from './sim-gateway.ts';

// Scheduling across the hierarchy (issue 7): real nodes on loopback, providers' gateways over the real /gateway socket.

type Job = {
  id: string;
  tenant?: string;
  state: string;
  cluster: string | null;
  owner?: string | null;
  attempt?: number;
  history: { state: string; node: string; cluster?: string; detail?: string }[];
};

const SCHED = {
  tickMs: 100,
  summaryMs: 100,
  childDownAfterMs: 1500,
  retryMs: 400,
  ackTimeoutMs: 2000,
  meteringMs: 200,
  failback: { minHealthyMs: 800, minMoveIntervalMs: 0, minImprovement: 0.05 },
};
const AGG = {
  degradedAfterMs: 600,
  downAfterMs: 1200,
  sweepMs: 50,
  summaryMs: 100,
  summaryMaxIntervalMs: 1000,
  eventShipMs: 100,
};

let national: TestNode;
const nodes: Record<string, TestNode> = {};
const gws: Record<string, SimGateway> = {};
const clusters: Record<string, Record<string, string>> = {};
let acme: NodeClient;
let quotaTenant: NodeClient;
let batchTenant: NodeClient;

async function region(code: string, province: string, extra: Record<string, unknown> = {}): Promise<TestNode> {
  const dir = tempDir();
  const n = await startTestNode({
    role: 'regional',
    code,
    parentUrl: national.url,
    dataDir: dir,
    autoReview: true,
    aggregation: AGG,
    scheduling: { ...SCHED, ...extra },
    applicationFile: applicationFile(dir, {
      region: province,
      name: `${province} 区域节点`,
      site: { province, city: 'x', address: 'y' },
    }),
  });
  await eventually(async () => (await lifecycleOf(n)) === 'online', 20_000);
  return n;
}

async function supply(code: string, n: number, list: { name: string; body: Record<string, unknown> }[]): Promise<void> {
  const node = nodes[code]!;
  const p = await registerProvider(node.url, n);
  const made: SimCluster[] = [];
  clusters[code] = {};
  for (const c of list) {
    const body = clusterBody(p.id, { name: c.name, ...c.body });
    const r = await p.client.request<{ id: string }>({ method: 'POST', path: '/cpn/v1/clusters', body });
    if (!r.ok) throw new Error(`cluster registration failed: ${r.status} ${r.error.message}`);
    clusters[code][c.name] = r.value.id;
    made.push({ id: r.value.id, body: body as SimCluster['body'] });
  }
  gws[code] = await startSimGateway({ url: node.url, node: code, provider: p, clusters: made, everyMs: 100 });
}

async function tenant(node: TestNode, account: string): Promise<NodeClient> {
  const c = await node.self.createAccount({ id: account, name: account, role: 'tenant', password: 'tenant-pass-1' });
  if (!c.ok) throw new Error(c.error.message);
  const t = await node.anon.token({ account, password: 'tenant-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return createClient({ baseUrl: node.url, token: t.value.token });
}

const cpu = (over: Record<string, unknown> = {}) => ({
  demand: { cpuCores: 16, memoryGib: 64 },
  durationHours: 2,
  ...over,
});
const submit = (c: NodeClient, template: Record<string, unknown>) =>
  c.request<Job>({ method: 'POST', path: '/cpn/v1/jobs', body: { template } });
const getJob = async (c: NodeClient, id: string): Promise<Job> => {
  const r = await c.request<Job>({ method: 'GET', path: `/cpn/v1/jobs/${encodeURIComponent(id)}` });
  if (!r.ok) throw new Error(`${r.status} ${r.error.message}`);
  return r.value;
};
const placed = async (c: NodeClient, template: Record<string, unknown>): Promise<Job> => {
  const r = await submit(c, template);
  if (!r.ok) throw new Error(`${r.status} ${r.error.message}`);
  return r.value;
};

beforeAll(async () => {
  national = await startTestNode({
    role: 'national',
    code: 'CPN',
    autoReview: true,
    aggregation: AGG,
    scheduling: SCHED,
  });
  nodes.CPN = national;
  nodes['CPN.51'] = await region('CPN.51', '51', {
    quotas: { 'quota-t': { cpuCores: 32 }, 'batch-q': { cpuCores: 32 } },
  });
  // CPN.44's own `acme` may hold 1 core; CPN.51's `acme`, whose jobs CPN.44 runs, is another tenant.
  nodes['CPN.44'] = await region('CPN.44', '44', { quotas: { acme: { cpuCores: 1 } } });
  nodes['CPN.33'] = await region('CPN.33', '33', { maxQueueMs: 1500, defaultQuota: { cpuCores: 40 } });
  const cpu512 = { cpuCores: 512, memoryGib: 4096, storageGib: 100_000, bandwidthGbps: 100, accelerators: [] };
  await supply('CPN.51', 51, [
    { name: 'home', body: { province: '51', capacity: cpu512, price: { perCoreHourYuan: 0.1, perCardHourYuan: 0 } } },
    { name: 'spare', body: { province: '51', capacity: cpu512, price: { perCoreHourYuan: 0.2, perCardHourYuan: 0 } } },
    {
      name: 'mlu',
      body: {
        province: '51',
        capacity: {
          ...cpu512,
          cpuCores: 64,
          accelerators: [{ model: 'MLU370', kind: 'GPU', count: 8, memoryGib: 48, fp16Tflops: 96, fp32Tflops: 24 }],
        },
        price: { perCoreHourYuan: 0.3, perCardHourYuan: 6 },
      },
    },
  ]);
  await supply('CPN.44', 44, [
    { name: 'gz', body: { province: '44', capacity: cpu512, price: { perCoreHourYuan: 0.05, perCardHourYuan: 0 } } },
  ]);
  await supply('CPN.33', 33, [
    { name: 'hz', body: { province: '33', capacity: cpu512, price: { perCoreHourYuan: 0.08, perCardHourYuan: 0 } } },
  ]);
  acme = await tenant(nodes['CPN.51'], 'acme');
  quotaTenant = await tenant(nodes['CPN.51'], 'quota-t');
  batchTenant = await tenant(nodes['CPN.51'], 'batch-q');
  // The national node has heard from both provinces' subtrees before anything is escalated.
  await eventually(async () => {
    const a = await national.self.request<{ candidates: unknown[] }>({
      method: 'POST',
      path: '/cpn/v1/selections',
      body: { template: cpu({ constraints: { residency: { provinces: ['44'] } } }) },
    });
    const b = await national.self.request<{ candidates: unknown[] }>({
      method: 'POST',
      path: '/cpn/v1/selections',
      body: { template: cpu({ constraints: { residency: { provinces: ['33'] } } }) },
    });
    return a.ok && b.ok && a.value.candidates.length > 0 && b.value.candidates.length > 0;
  }, 15_000);
}, 120_000);

afterAll(async () => {
  for (const g of Object.values(gws)) g.stop();
  for (const n of Object.values(nodes).reverse()) await n.stop().catch(() => undefined);
  cleanup();
});

describe('selections (算力选择, dry run)', () => {
  it('ranks local candidates with scores and reserves nothing', async () => {
    const r = await acme.request<{
      answeredBy: string;
      escalated: boolean;
      candidates: { cluster: string; cats: number }[];
    }>({ method: 'POST', path: '/cpn/v1/selections', body: { template: cpu() } });
    expect(r.ok && r.value).toMatchObject({ answeredBy: 'CPN.51', escalated: false });
    expect(r.ok && r.value.candidates[0]!.cluster).toBe(clusters['CPN.51']!.home);
    expect(gws['CPN.51']!.dispatched).toHaveLength(0);
  });

  it('answers a template no cluster can satisfy with the constraint that excluded everything (not an error)', async () => {
    const r = await acme.request<{ candidates: unknown[]; excluded: { constraint: string }[]; summary: string }>({
      method: 'POST',
      path: '/cpn/v1/selections',
      body: { template: cpu({ demand: { cpuCores: 8, memoryGib: 1_000_000 } }) },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.candidates).toEqual([]);
    expect(r.value.summary).toMatch(/memory excluded 3 of 3 clusters; no cluster fits/);
    expect(r.value.excluded.every((e) => e.constraint === 'memory')).toBe(true);
  });

  it('goes up to the national node, which asks the owning subtree, when the local view cannot satisfy the template', async () => {
    const r = await acme.request<{
      answeredBy: string;
      escalated: boolean;
      candidates: { cluster: string; province: string }[];
    }>({
      method: 'POST',
      path: '/cpn/v1/selections',
      body: { template: cpu({ constraints: { residency: { provinces: ['33'] } } }) },
    });
    expect(r.ok && r.value).toMatchObject({ answeredBy: 'CPN.33', escalated: true });
    expect(r.ok && r.value.candidates[0]).toMatchObject({ cluster: clusters['CPN.33']!.hz, province: '33' });
  });
});

describe('jobs (互联调度)', () => {
  let local: Job;
  let far: Job;

  it('places a job locally: scheduled, confirmed by the gateway, dispatched, running — each with time and node', async () => {
    local = await placed(acme, cpu());
    expect(local).toMatchObject({ state: 'dispatched', cluster: clusters['CPN.51']!.home, owner: 'CPN.51' });
    expect(local.history.map((e) => e.state)).toEqual(['submitted', 'scheduled', 'confirmed', 'dispatched']);
    expect(gws['CPN.51']!.dispatched.some((d) => d.job === local.id)).toBe(true);
    await eventually(async () => (await getJob(acme, local.id)).state === 'running');
  });

  it('escalates to the national node and places the job in another province; history and events show the path', async () => {
    far = await placed(acme, cpu({ constraints: { residency: { provinces: ['44'] } } }));
    expect(far).toMatchObject({ state: 'dispatched', cluster: clusters['CPN.44']!.gz, owner: 'CPN.44' });
    expect(far.history.map((e) => `${e.state}@${e.node}`)).toEqual([
      'submitted@CPN.51',
      'escalated@CPN.51',
      'scheduled@CPN',
      'scheduled@CPN.44',
      'confirmed@CPN.44',
      'dispatched@CPN.44',
    ]);
    await eventually(async () => (await getJob(acme, far.id)).state === 'running');
    const events = async (n: TestNode) => {
      const r = await n.anon.request<{ items: { type: string; subject?: string; node?: string }[] }>({
        method: 'GET',
        path: '/cpn/v1/events?type=job.*&limit=1000',
      });
      return r.ok ? r.value.items.filter((e) => e.subject === far.id).map((e) => e.type) : [];
    };
    expect(await events(nodes['CPN.51']!)).toContain('job.escalate');
    expect(await events(national)).toContain('job.schedule');
    expect(await events(nodes['CPN.44']!)).toEqual(expect.arrayContaining(['job.schedule', 'job.dispatch']));
  });

  it('retries elsewhere when the owning subtree refuses to confirm (its gateway has no room after all)', async () => {
    gws['CPN.44']!.refuse = (o) => o.template.name === 'refuse-at-44';
    const j = await placed(
      acme,
      cpu({ name: 'refuse-at-44', constraints: { residency: { provinces: ['44', '33'] } } }),
    );
    expect(j.cluster).toBe(clusters['CPN.33']!.hz);
    const subtrees = j.history
      .filter((e) => e.state === 'scheduled' && e.node === 'CPN')
      .map((e) => e.detail?.split(' ')[1]);
    expect(subtrees).toEqual(['CPN.44', 'CPN.33']);
  });

  it("lists a tenant's jobs submitted here, a page at a time, and only its own", async () => {
    const list = async (c: NodeClient, query: string) =>
      c.request<{ items: Job[]; next: string | null }>({ method: 'GET', path: `/cpn/v1/jobs?${query}` });
    const all: Job[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await list(acme, `limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (!r.ok) throw new Error(`${r.status} ${r.error.message}`);
      all.push(...r.value.items);
      cursor = r.value.next;
      pages++;
    } while (cursor && pages < 100);
    expect(all.map((j) => j.id)).toEqual(expect.arrayContaining([local.id, far.id]));
    expect(pages).toBe(all.length);
    expect(all.every((j) => j.tenant === 'acme')).toBe(true);
    expect([...all.map((j) => j.id)].sort()).toEqual(all.map((j) => j.id));
    expect(all.find((j) => j.id === far.id)).toMatchObject({ owner: 'CPN.44', cluster: clusters['CPN.44']!.gz });
    const other = await list(acme, 'tenant=quota-t');
    expect(!other.ok && other.status).toBe(403);
    const bad = await list(acme, 'limit=5000');
    expect(!bad.ok && bad.status).toBe(400);
    const mine = await list(quotaTenant, 'limit=1000');
    expect(mine.ok && mine.value.items.some((j) => j.id === local.id)).toBe(false);
  });

  it("refuses a submission over the tenant's quota at the placing node", async () => {
    await placed(quotaTenant, cpu());
    await placed(quotaTenant, cpu());
    const r = await submit(quotaTenant, cpu());
    expect(r.ok ? 201 : r.status).toBe(422);
    expect(!r.ok && r.error).toMatchObject({ code: 'RULE_VIOLATION' });
    expect(!r.ok && r.error.message).toMatch(/quota: cpuCores 32 used \+ 16 requested > 32/);
  });

  it('takes a batch in one request: each job placed and audited as its own would be, the quota held across the batch', async () => {
    const auditSize = async () => {
      const r = await fetch(`${nodes['CPN.51']!.url}/cpn/v1/audit/head`, { headers: { 'cpn-protocol': '1.0' } });
      return ((await r.json()) as { treeSize: number }).treeSize;
    };
    const before = await auditSize();
    // 3 × 16 cores against a quota of 32: the third is refused alone, though all three were checked together.
    const r = await batchTenant.request<{
      items: { status: number; job?: Job; error?: { code: string; field: string } }[];
    }>({
      method: 'POST',
      path: '/cpn/v1/job-batches',
      body: { jobs: [cpu(), cpu({ name: 'second' }), cpu()].map((template) => ({ template })) },
    });
    expect(r.ok && r.status).toBe(200);
    const items = r.ok ? r.value.items : [];
    expect(items.map((i) => i.status)).toEqual([201, 201, 422]);
    expect(items[2]!.error).toMatchObject({ code: 'RULE_VIOLATION', field: 'jobs[2].template.demand' });
    for (const item of items.slice(0, 2)) {
      const j = await getJob(batchTenant, item.job!.id);
      expect(item.job!.state).toBe('dispatched');
      expect(j).toMatchObject({ tenant: 'batch-q', cluster: item.job!.cluster });
      expect(j.history[0]).toMatchObject({ state: 'submitted', node: 'CPN.51' });
    }
    expect(items[1]!.job!.id).not.toBe(items[0]!.job!.id);
    // One audit entry per job accepted, none for the refused one.
    expect(await auditSize()).toBe(before + 2);
    // And the quota now refuses a single submission too.
    const single = await submit(batchTenant, cpu());
    expect(single.ok ? 201 : single.status).toBe(422);
  });

  it('refuses a whole batch with a bad job (400 naming it) or over 100 jobs, submitting none; a retried key answers once', async () => {
    const listed = async () => {
      const r = await acme.request<{ items: Job[] }>({ method: 'GET', path: '/cpn/v1/jobs?limit=500' });
      return r.ok ? r.value.items.length : -1;
    };
    const before = await listed();
    const bad = await acme.request({
      method: 'POST',
      path: '/cpn/v1/job-batches',
      body: {
        jobs: [cpu(), cpu({ ext: { data: { inputGib: -1, province: '51' } } })].map((template) => ({ template })),
      },
    });
    expect(bad.ok ? 200 : bad.status).toBe(400);
    expect(!bad.ok && bad.error.field).toMatch(/^jobs\[1\]\.template\.ext\.data\.inputGib$/);
    const typo = await acme.request({
      method: 'POST',
      path: '/cpn/v1/job-batches',
      body: { jobs: [cpu(), cpu({ demand: { cpuCores: 'many', memoryGib: 1 } })].map((template) => ({ template })) },
    });
    expect(typo.ok ? 200 : typo.status).toBe(400);
    expect(!typo.ok && typo.error.field).toMatch(/jobs.*1.*template.*demand.*cpuCores/);
    const tooMany = await acme.request({
      method: 'POST',
      path: '/cpn/v1/job-batches',
      body: { jobs: Array.from({ length: 101 }, () => ({ template: cpu() })) },
    });
    expect(tooMany.ok ? 200 : tooMany.status).toBe(400);
    expect(await listed()).toBe(before);

    const body = {
      jobs: [{ template: cpu({ name: 'once-a' }) }, { template: cpu({ name: 'once-b' }) }],
      idempotencyKey: 'batch-key-0001',
    };
    const first = await acme.request<{ items: { status: number; job: Job }[] }>({
      method: 'POST',
      path: '/cpn/v1/job-batches',
      body,
    });
    const again = await acme.request<{ items: { status: number; job: Job }[] }>({
      method: 'POST',
      path: '/cpn/v1/job-batches',
      body,
    });
    expect(first.ok && first.value.items.map((i) => i.status)).toEqual([201, 201]);
    expect(again.ok && again.value.items.map((i) => i.job.id)).toEqual(
      first.ok && first.value.items.map((i) => i.job.id),
    );
    expect(await listed()).toBe(before + 2);
  });

  it('preempts lower-priority work for a higher-priority job; the victim is stopped and queued, never dropped', async () => {
    const mlu = (priority: number) =>
      cpu({ priority, demand: { cpuCores: 8, memoryGib: 32, accelerators: { model: 'MLU370', count: 8 } } });
    const low = await placed(acme, mlu(10));
    expect(low.cluster).toBe(clusters['CPN.51']!.mlu);
    await eventually(async () => (await getJob(acme, low.id)).state === 'running');
    const high = await placed(acme, mlu(900));
    expect(high).toMatchObject({ state: 'dispatched', cluster: clusters['CPN.51']!.mlu });
    // The cancel is emitted before the dispatch, but the test gateway records it in its own turn: wait for it.
    await eventually(async () => gws['CPN.51']!.cancels.some((c) => c.job === low.id && c.reason === 'preempted'));
    expect(gws['CPN.51']!.cancels).toContainEqual({ job: low.id, reason: 'preempted' });
    const v = await eventually(async () => {
      const x = await getJob(acme, low.id);
      return x.state === 'queued' ? x : null;
    });
    expect(v.history.map((e) => e.state)).toContain('preempted');
  });

  it('cancels (DELETE), down to the owner in another province; cancelling again changes nothing', async () => {
    const j = await placed(acme, cpu({ constraints: { residency: { provinces: ['44'] } } }));
    const d = await acme.request<Job>({ method: 'DELETE', path: `/cpn/v1/jobs/${encodeURIComponent(j.id)}` });
    expect(d.ok && d.value.state).toBe('cancelled');
    const again = await acme.request<Job>({ method: 'DELETE', path: `/cpn/v1/jobs/${encodeURIComponent(j.id)}` });
    expect(again.ok && again.value.history.filter((e) => e.state === 'cancelled')).toHaveLength(1);
    await eventually(async () => gws['CPN.44']!.cancels.some((c) => c.job === j.id && c.reason === 'cancelled'));
  });

  it('refuses at submission a job no cluster anywhere could ever hold, naming the largest cluster', async () => {
    const r = await submit(acme, cpu({ name: 'impossible', demand: { cpuCores: 100_000, memoryGib: 64 } }));
    expect(r.ok ? 201 : r.status).toBe(422);
    expect(r.ok ? '' : r.error.message).toMatch(/100000 CPU cores; the largest cluster in the hierarchy has 512/);
  });

  it('fails a job queued longer than scheduling.maxQueueMs, with the reasons; default quotas hold per tenant', async () => {
    const waiting = await tenant(nodes['CPN.33']!, 'waiting');
    const j = await placed(waiting, cpu({ name: 'nowhere', constraints: { residency: { provinces: ['65'] } } }));
    expect(j.state).toBe('queued');
    const failed = await eventually(async () => {
      const x = await getJob(waiting, j.id);
      return x.state === 'failed' ? x : null;
    });
    expect(failed.history.at(-1)!.detail).toMatch(/maxQueueMs/);
    // CPN.33's default quota is 40 cores per tenant: two 16-core jobs run, the third is refused.
    const busy = await tenant(nodes['CPN.33']!, 'busy');
    for (let i = 0; i < 2; i++) expect((await submit(busy, cpu({ name: `q${i}` }))).ok).toBe(true);
    const third = await submit(busy, cpu({ name: 'q2' }));
    expect(third.ok ? 201 : third.status).toBe(422);
  });

  it("tells tenants apart by node: CPN.44's own `acme` cannot read, cancel or see the metering of CPN.51's `acme`", async () => {
    const j = await placed(acme, cpu({ name: 'pair', constraints: { residency: { provinces: ['44'] } } }));
    await eventually(async () => (await getJob(acme, j.id)).owner === 'CPN.44');
    const other = await tenant(nodes['CPN.44']!, 'acme');
    const path = `/cpn/v1/jobs/${encodeURIComponent(j.id)}`;
    const read = await other.request({ method: 'GET', path });
    expect(read.ok ? 200 : read.status).toBe(403);
    const cancel = await other.request({ method: 'DELETE', path });
    expect(cancel.ok ? 200 : cancel.status).toBe(403);
    await gws['CPN.44']!.finish(j.id);
    await eventually(async () => (await getJob(acme, j.id)).state === 'finished');
    // The owner meters the run under the pair; CPN.44's `acme` sees none of it, CPN.51's `acme` sees it at home.
    const seen = await other.request<{ lines: { job: string }[]; totals: { byTenant: Record<string, unknown> } }>({
      method: 'GET',
      path: '/cpn/v1/metering',
    });
    expect(seen.ok && seen.value.lines.some((l) => l.job === j.id)).toBe(false);
    expect(seen.ok && Object.keys(seen.value.totals.byTenant)).toEqual([]);
    const home = await eventually(async () => {
      const r = await acme.request<{ lines: { job: string; tenant: string }[] }>({
        method: 'GET',
        path: '/cpn/v1/metering',
      });
      return r.ok ? r.value.lines.find((l) => l.job === j.id) : undefined;
    });
    expect(home.tenant).toBe('acme@CPN.51');
  });

  it('meters finished jobs (resource-hours × price) per tenant and provider, including the one run in another province', async () => {
    await gws['CPN.51']!.finish(local.id);
    await gws['CPN.44']!.finish(far.id);
    await eventually(async () => (await getJob(acme, far.id)).state === 'finished');
    const m = await eventually(async () => {
      const r = await acme.request<{
        lines: { job: string; coreHours: number; amountYuan: number; provider: string }[];
        totals: { byTenant: Record<string, { jobs: number }> };
      }>({ method: 'GET', path: '/cpn/v1/metering?tenant=acme' });
      return r.ok && r.value.lines.some((l) => l.job === far.id) && r.value.lines.some((l) => l.job === local.id)
        ? r.value
        : null;
    });
    expect(m.totals.byTenant['acme@CPN.51']!.jobs).toBeGreaterThanOrEqual(2);
    expect(m.lines.find((l) => l.job === far.id)!.provider).toMatch(/^CPN\.44\/PV-/);
    const other = await acme.request({ method: 'GET', path: '/cpn/v1/metering?tenant=someone-else' });
    expect(other.ok ? 200 : other.status).toBe(403);
    // Summarised upward: the national node holds each province's totals per tenant and provider.
    const up = await eventually(async () => {
      const r = await national.self.request<{
        children: {
          node: string;
          byTenant: Record<string, { amountYuan: number }>;
          byProvider: Record<string, unknown>;
        }[];
      }>({ method: 'GET', path: '/cpn/v1/metering', sign: true });
      const c44 = r.ok ? r.value.children.find((c) => c.node === 'CPN.44') : undefined;
      return c44?.byTenant['acme@CPN.51'] ? c44 : null;
    });
    expect(Object.keys(up.byProvider)[0]).toMatch(/^CPN\.44\/PV-/);
  });

  it('re-places the jobs of a cluster that stops reporting, and fails back when it returns (with hysteresis)', async () => {
    const j = await placed(acme, cpu({ name: 'failover' }));
    const home = clusters['CPN.51']!.home!;
    expect(j.cluster).toBe(home);
    gws['CPN.51']!.silence(home);
    const moved = await eventually(async () => {
      const x = await getJob(acme, j.id);
      return x.cluster && x.cluster !== home && x.state !== 'replaced' ? x : null;
    }, 10_000);
    expect(moved.history.map((e) => e.state)).toContain('replaced');
    gws['CPN.51']!.resume(home);
    const back = await eventually(async () => {
      const x = await getJob(acme, j.id);
      return x.cluster === home ? x : null;
    }, 10_000);
    expect(back.history.filter((e) => e.state === 'replaced').map((e) => e.detail)).toEqual([
      expect.stringMatching(/stopped reporting/),
      expect.stringMatching(/failback/),
    ]);
    expect(gws['CPN.51']!.running.get(j.id)?.cluster).toBe(home);
  });

  it('re-places the job of a cluster its gateway reports down while it keeps reporting', async () => {
    const j = await placed(acme, cpu({ name: 'reported-down' }));
    const home = clusters['CPN.51']!.home!;
    expect(j.cluster).toBe(home);
    gws['CPN.51']!.health(home, 'down');
    try {
      const moved = await eventually(async () => {
        const x = await getJob(acme, j.id);
        return x.cluster && x.cluster !== home && x.state !== 'replaced' ? x : null;
      }, 10_000);
      expect(moved.history.find((e) => e.state === 'replaced')?.detail).toMatch(/reports .* down/);
    } finally {
      gws['CPN.51']!.health(home, 'healthy');
    }
  });

  it('keeps job state across a restart of the node', async () => {
    const j = await placed(acme, cpu({ name: 'durable' }));
    const n = nodes['CPN.51']!;
    const port = Number(new URL(n.url).port);
    await n.stop();
    nodes['CPN.51'] = await startTestNode({
      role: 'regional',
      code: 'CPN.51',
      parentUrl: national.url,
      dataDir: n.dir,
      port,
      autoReview: true,
      aggregation: AGG,
      scheduling: SCHED,
    });
    const after = await getJob(acme, j.id);
    expect(after.history.map((e) => e.state)).toEqual(
      expect.arrayContaining(['submitted', 'scheduled', 'confirmed', 'dispatched']),
    );
    expect(['dispatched', 'running']).toContain(after.state);
    const done = await getJob(acme, local.id);
    expect(done.state).toBe('finished');
  });

  it('re-places through the parent when a whole node stops reporting', async () => {
    const j = await placed(acme, cpu({ name: 'node-down', constraints: { residency: { provinces: ['44', '33'] } } }));
    expect(j.owner).toBe('CPN.44');
    gws['CPN.44']!.stop();
    await nodes['CPN.44']!.stop();
    const moved = await eventually(async () => {
      const x = await getJob(acme, j.id);
      return x.owner === 'CPN.33' ? x : null;
    }, 15_000);
    expect(moved.cluster).toBe(clusters['CPN.33']!.hz);
    expect(
      moved.history.some(
        (e) => e.state === 'replaced' && e.node === 'CPN' && /CPN\.44 stopped reporting/.test(e.detail ?? ''),
      ),
    ).toBe(true);
  });
});
