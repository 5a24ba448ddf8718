import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHeaders, connectMonitor, createGatewayConnection, firstMessage } from '@cpnet/client';
import { TopologySnapshot } from '@cpnet/protocol';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';
import {
  gateway,
  registerClusters,
  registerProvider,
  reportEntry,
  clusterBody,
  type TestProvider,
} from './providers.ts';

let national: TestNode;
let regional: TestNode;
const gateways: { close(): void }[] = [];

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true });
  const dir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: dir,
    applicationFile: applicationFile(dir),
    autoReview: true,
    aggregation: {
      degradedAfterMs: 1500,
      downAfterMs: 3000,
      sweepMs: 50,
      summaryMs: 100,
      summaryMaxIntervalMs: 1000,
      eventShipMs: 100,
    },
  });
  await eventually(async () => (await lifecycleOf(regional)) === 'online', 20_000);
}, 60_000);

afterAll(async () => {
  for (const g of gateways) g.close();
  for (const n of [regional, national]) await n?.stop();
  cleanup();
});

async function token(n: TestNode, account: string, role: string): Promise<string> {
  const created = await n.self.createAccount({
    id: account,
    name: account,
    role: role as 'viewer',
    password: 'monitor-pass-1',
  });
  if (!created.ok) throw new Error(created.error.message);
  const t = await n.anon.token({ account, password: 'monitor-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return t.value.token;
}

describe('providers and clusters (算力资源汇聚)', () => {
  it('registers a provider signed with its own key and gives it a PV identifier; the same credit code again answers it', async () => {
    const p = await registerProvider(regional.url, 1);
    expect(p.id).toMatch(/^CPN\.51\/PV-/);
    const again = await registerProvider(regional.url, 1).catch((e: Error) => e);
    expect(again instanceof Error && again.message).toMatch(/409/);
    const bad = await regional.self.request({
      method: 'POST',
      path: '/cpn/v1/providers',
      body: { name: 'x', creditCode: '91510100MA6CXXXX1E', province: '51', city: '成都', publicKey: 'x' },
    });
    expect(bad.ok ? 0 : bad.status).toBe(400);
    const resolved = await national.anon.resolve(p.id);
    expect(resolved.ok || resolved.status).toBe(true);
  });

  it('registers clusters signed by their provider, refuses others, and answers a retried registration once', async () => {
    const p = await registerProvider(regional.url, 2);
    const q = await registerProvider(regional.url, 3);
    const unsigned = await regional.anon.request({ method: 'POST', path: '/cpn/v1/clusters', body: clusterBody(p.id) });
    expect(unsigned.ok ? 0 : unsigned.status).toBe(401);
    const foreign = await q.client.request({ method: 'POST', path: '/cpn/v1/clusters', body: clusterBody(p.id) });
    expect(foreign.ok ? 0 : foreign.status).toBe(403);
    const headers = { 'idempotency-key': 'reg-1' };
    const first = await p.client.request<{ id: string }>({
      method: 'POST',
      path: '/cpn/v1/clusters',
      body: clusterBody(p.id),
      headers,
    });
    const second = await p.client.request<{ id: string }>({
      method: 'POST',
      path: '/cpn/v1/clusters',
      body: clusterBody(p.id),
      headers,
    });
    expect(first.ok && first.status).toBe(201);
    expect(second.ok && second.value.id).toBe(first.ok && first.value.id);
    const list = await regional.anon.request<{ items: unknown[] }>({
      method: 'GET',
      path: `/cpn/v1/clusters?provider=${encodeURIComponent(p.id)}`,
    });
    expect(list.ok && list.value.items).toHaveLength(1);
    expect(first.ok && first.value.id).toMatch(/^CPN\.51\/CL-/);
  });
});

describe('the /gateway connection', () => {
  let p: TestProvider;
  let clusters: string[];

  it('carries reports for 100 clusters on one connection, each applied once', async () => {
    p = await registerProvider(regional.url, 10);
    clusters = await registerClusters(p, 100);
    const g = gateway(regional.url, 'CPN.51', p);
    gateways.push(g);
    const session = await g.connect();
    expect(session.clusters).toHaveLength(100);
    for (let round = 0; round < 3; round++) {
      const ack = await g.report(clusters.map((c) => reportEntry(c, 200 + round)));
      expect(ack).toEqual({ ok: true, accepted: 100 });
    }
    const list = await regional.anon.request<{
      items: { id: string; reports: number; health: string; lifecycle: string }[];
    }>({ method: 'GET', path: `/cpn/v1/clusters?provider=${encodeURIComponent(p.id)}` });
    const items = list.ok ? list.value.items : [];
    expect(items).toHaveLength(100);
    expect(items.every((c) => c.reports === 3 && c.health === 'healthy' && c.lifecycle === 'active')).toBe(true);
    const metrics = await (await fetch(`${regional.url}/metrics`)).text();
    expect(metrics).toMatch(/cpn_cluster_reports_total\{node="CPN.51"\} (\d+)/);
    expect(metrics).toMatch(/cpn_clusters\{health="healthy",node="CPN.51"\} \d+/);
    expect(metrics).toMatch(/cpn_outbox_depth\{node="CPN.51"\} \d+/);
    expect(metrics).toContain('cpn_signature_failures_total');
  });

  it('keeps quiet clusters live on reports that name them unchanged (report-unchanged), their full entry kept', async () => {
    const q = await registerProvider(regional.url, 12);
    const ids = await registerClusters(q, 20);
    const g = gateway(regional.url, 'CPN.51', q);
    gateways.push(g);
    const session = await g.connect();
    expect(session.ext?.['capabilities']).toContain('report-unchanged');
    const unchangedSoFar = async () =>
      Number(
        /cpn_cluster_reports_unchanged_total\{node="CPN.51"\} (\d+)/.exec(
          await (await fetch(`${regional.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const before = await unchangedSoFar();
    const entries = ids.map((c) => reportEntry(c, 321));
    expect(await g.report(entries)).toEqual({ ok: true, accepted: 20 });
    // Twice as long as silence takes to turn a cluster degraded (1.5 s, wall time here): only identifiers go.
    const rounds = 12;
    for (let i = 0; i < rounds; i += 1) {
      await new Promise((r) => setTimeout(r, 250));
      expect(await g.report(ids.map((c) => reportEntry(c, 321)))).toEqual({ ok: true, accepted: 20 });
    }
    expect((await unchangedSoFar()) - before).toBe(20 * rounds);
    const list = await regional.anon.request<{
      items: { id: string; reports: number; health: string; lastReport: { k2: { cpuCores: number } } }[];
    }>({ method: 'GET', path: `/cpn/v1/clusters?provider=${encodeURIComponent(q.id)}` });
    const items = list.ok ? list.value.items : [];
    expect(items).toHaveLength(20);
    expect(
      items.every((c) => c.reports === rounds + 1 && c.health === 'healthy' && c.lastReport.k2.cpuCores === 321),
    ).toBe(true);
    // One figure moves: that entry goes in full and the node holds it.
    expect((await g.report(ids.map((c, i) => reportEntry(c, i === 0 ? 300 : 321)))).ok).toBe(true);
    expect((await unchangedSoFar()) - before).toBe(20 * rounds + 19);
    const one = await regional.anon.request<{ items: { id: string; lastReport: { k2: { cpuCores: number } } }[] }>({
      method: 'GET',
      path: `/cpn/v1/clusters?provider=${encodeURIComponent(q.id)}`,
    });
    expect(one.ok && one.value.items.find((c) => c.id === ids[0])?.lastReport.k2.cpuCores).toBe(300);
  });

  it('turns a silent cluster degraded, then down, by the configured timeouts', async () => {
    const q = await registerProvider(regional.url, 11);
    const [cl] = await registerClusters(q, 1);
    const g = gateway(regional.url, 'CPN.51', q);
    gateways.push(g);
    await g.connect();
    expect((await g.report([reportEntry(cl!)])).ok).toBe(true);
    const healthOf = async () => {
      const r = await regional.anon.request<{ items: { id: string; health: string }[] }>({
        method: 'GET',
        path: `/cpn/v1/clusters?provider=${encodeURIComponent(q.id)}`,
      });
      return r.ok ? r.value.items[0]?.health : null;
    };
    expect(await healthOf()).toBe('healthy');
    await eventually(async () => (await healthOf()) === 'degraded', 5000);
    await eventually(async () => (await healthOf()) === 'down', 5000);
    // The event is stored in its own unit of work: on PostgreSQL it may commit just after the health is visible.
    const mine = await eventually(async () => {
      const events = await regional.anon.request<{ items: { subject: string; data: { from: string; to: string } }[] }>({
        method: 'GET',
        path: '/cpn/v1/events?type=cluster.health&limit=1000',
      });
      const m = events.ok
        ? events.value.items.filter((e) => e.subject === cl).map((e) => `${e.data.from}>${e.data.to}`)
        : [];
      return m.length >= 3 ? m : null;
    }, 5000);
    expect(mine).toEqual(['down>healthy', 'healthy>degraded', 'degraded>down']);
  });
});

describe('Prometheus metrics', () => {
  it('count signature failures and refused replays', async () => {
    const p = await registerProvider(regional.url, 30);
    const url = `${regional.url}/cpn/v1/clusters`;
    const text = JSON.stringify(clusterBody(p.id));
    const headers = buildHeaders(p.client.options, { method: 'POST', path: '/cpn/v1/clusters', url, text });
    const send = (h: Record<string, string>) => fetch(url, { method: 'POST', headers: h, body: text });
    expect((await send(headers)).status).toBe(201);
    expect((await send(headers)).status).toBe(401); // the same nonce again
    expect((await send({ ...headers, signature: headers.signature!.replace(/.:$/, 'A:') })).status).toBe(401);
    const metrics = await (await fetch(`${regional.url}/metrics`)).text();
    expect(Number(/cpn_replays_refused_total\{node="CPN.51"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(
      Number(/cpn_signature_failures_total\{code="signature",node="CPN.51"\} (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/cpn_http_request_duration_seconds_bucket/);
  });
});

describe('summaries upward and the market view', () => {
  it('publishes the regional subtree at the national node, filterable', async () => {
    const market = async (query: string) => {
      const r = await national.anon.request<{
        offers: { node: string; province: string; resourceClass: string; clusters: number }[];
        totals: { clusters: number };
      }>({ method: 'GET', path: `/cpn/v1/market${query}` });
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    const all = await eventually(async () => {
      const m = await market('');
      return m.totals.clusters >= 102 ? m : null;
    }, 10_000);
    expect(all.offers.some((o) => o.node === 'CPN.51' && o.province === '51' && o.resourceClass === '403')).toBe(true);
    expect((await market('?accelerator=910b&province=51')).totals.clusters).toBeGreaterThanOrEqual(102);
    expect((await market('?resourceClass=401')).offers).toEqual([]);
    expect((await market('?maxPricePerCoreHourYuan=0.05')).offers).toEqual([]);
    const bad = await national.anon.request({ method: 'GET', path: '/cpn/v1/market?province=99' });
    expect(bad.ok ? 0 : bad.status).toBe(400);
  });

  it('refuses a summary from a node that is not a child', async () => {
    const r = await national.self.request({
      method: 'POST',
      path: '/cpn/v1/summaries',
      body: {
        items: [
          {
            key: 'k',
            summary: {
              node: 'CPN',
              at: '2026-01-01T00:00:00.000Z',
              clusters: 0,
              healthy: 0,
              byClass: {},
              byProvince: {},
              byIndustry: {},
            },
          },
        ],
      },
    });
    expect(r.ok ? 0 : r.status).toBe(403);
  });

  it("forwards the subtree's events to the national log", async () => {
    await eventually(async () => {
      const r = await national.anon.request<{ items: { node: string; type: string }[] }>({
        method: 'GET',
        path: '/cpn/v1/events?type=cluster.registered&limit=1000',
      });
      return r.ok && r.value.items.filter((e) => e.node === 'CPN.51').length >= 102;
    }, 10_000);
  });
});

describe('monitoring (运行监测)', () => {
  it('sends an authorised viewer a snapshot, then live events; refuses a tenant', async () => {
    const viewer = connectMonitor(regional.url, await token(regional, 'watcher', 'viewer'));
    try {
      const snap = await firstMessage<Record<string, unknown>>(viewer, 'snapshot', 5000);
      const { protocol, ...state } = snap;
      expect(protocol).toBe('1.0');
      const parsed = TopologySnapshot.parse(state);
      expect(parsed.nodes.map((n) => n.code)).toEqual(expect.arrayContaining(['CPN.51', 'CPN']));
      expect(parsed.clusters.length).toBeGreaterThanOrEqual(100);
      const next = new Promise<{ type: string }>((resolve) =>
        viewer.on('event', (e: { type: string }) => {
          if (e.type === 'cluster.registered') resolve(e);
        }),
      );
      const p = await registerProvider(regional.url, 20);
      await registerClusters(p, 1);
      expect((await next).type).toBe('cluster.registered');
    } finally {
      viewer.close();
    }
    const tenant = connectMonitor(regional.url, await token(regional, 'renter', 'tenant'));
    await expect(firstMessage(tenant, 'snapshot', 3000)).rejects.toThrow(/may not watch/);
    tenant.close();
  });

  it('pages the stored event log by cursor and type family', async () => {
    const all = await regional.anon.request<{ items: { id: string }[]; next: string | null }>({
      method: 'GET',
      path: '/cpn/v1/events?type=cluster.*&limit=1000',
    });
    const ids = all.ok ? all.value.items.map((e) => e.id) : [];
    expect(ids.length).toBeGreaterThan(100);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/cpn/v1/events?type=cluster.*&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await regional.anon.request<{ items: { id: string; type: string }[]; next: string | null }>({
        method: 'GET',
        path: q,
      });
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.items.length).toBeLessThanOrEqual(7);
      expect(r.value.items.every((e) => e.type.startsWith('cluster.'))).toBe(true);
      paged.push(...r.value.items.map((e) => e.id));
      cursor = r.value.next;
    } while (cursor);
    expect(paged.slice(0, ids.length)).toEqual(ids);
    const future = await regional.anon.request<{ items: unknown[] }>({
      method: 'GET',
      path: '/cpn/v1/events?since=2999-01-01T00:00:00.000Z',
    });
    expect(future.ok && future.value.items).toEqual([]);
    const exported = await (await fetch(`${regional.url}/cpn/v1/events/export?type=cluster.registered`)).text();
    expect(
      exported
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type)
        .every((t) => t === 'cluster.registered'),
    ).toBe(true);
  });
});

describe('emergency orders (应急处置) on providers and clusters', () => {
  it(
    'suspends a cluster from the national node down, tells its gateway and takes it off the market; suspends a ' +
      'provider and closes its gateway',
    async () => {
      const p = await registerProvider(regional.url, 40);
      const [cl] = await registerClusters(p, 1, { resourceClass: '402' });
      const controls: string[] = [];
      const g = createGatewayConnection({
        baseUrl: regional.url,
        node: 'CPN.51',
        signer: { keyid: p.id, privateKey: p.keys.privateKey },
        backoff: { initialMs: 50, maxMs: 200 },
        handlers: {
          control: (o) => {
            controls.push(`${o.action}:${o.target}`);
            return { ok: true };
          },
        },
      });
      gateways.push(g);
      await g.connect();
      expect((await g.report([reportEntry(cl!)])).ok).toBe(true);
      const onMarket = async () => {
        const r = await regional.anon.request<{ totals: { clusters: number } }>({
          method: 'GET',
          path: '/cpn/v1/market?resourceClass=402',
        });
        return r.ok ? r.value.totals.clusters : -1;
      };
      expect(await onMarket()).toBe(1);
      const order = await national.self.emergency({ target: cl!, action: 'suspend', reason: '安全事件处置' });
      expect(order.ok).toBe(true);
      await eventually(async () => controls.includes(`suspend:${cl}`), 10_000);
      expect(await onMarket()).toBe(0);
      const byProvider = await regional.self.emergency({ target: p.id, action: 'suspend', reason: '违规' });
      expect(byProvider.ok && byProvider.value.lifecycle).toBe('suspended');
      await eventually(async () => controls.includes(`suspend:${p.id}`) && !g.connected, 10_000);
      const tenant = await p.client.request({ method: 'POST', path: '/cpn/v1/clusters', body: clusterBody(p.id) });
      expect(tenant.ok ? 0 : tenant.status).toBe(403);
    },
  );
});
