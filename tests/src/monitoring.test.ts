import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { systemClock } from '@cpnet/kernel/system';
import { createClient, type NodeClient } from '@cpnet/client';
import { NAMESPACES, SOCKET_EVENTS, type TopologySnapshot } from '@cpnet/protocol';
import { issueHandshakeToken } from '@cpnet/security';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';
import { clusterBody, registerProvider } from './providers.ts';
import { startSimGateway, type SimCluster, type SimGateway } from './sim-gateway.ts';
import { contractValidator } from './contract.ts';

// Issue 19: what the nodes send upward for monitoring, against real nodes on loopback. Every event and snapshot a
// socket receives here is also validated against docs/asyncapi.json.

const SCHED = { tickMs: 100, summaryMs: 100, childDownAfterMs: 1500, retryMs: 400, ackTimeoutMs: 2000 };
const AGG = { degradedAfterMs: 600, downAfterMs: 1200, sweepMs: 50, summaryMs: 100, eventShipMs: 100 };
const MONITORING = { flowsMs: 500, linkPingMs: 200 };

const nodes: Record<string, TestNode> = {};
const gws: SimGateway[] = [];
const sockets: Socket[] = [];
const contract = contractValidator();

async function child(code: string, parent: TestNode, over: Record<string, unknown>): Promise<TestNode> {
  const dir = tempDir();
  const n = await startTestNode({
    role: code.split('.').length === 2 ? 'regional' : 'industry',
    code,
    parentUrl: parent.url,
    dataDir: dir,
    autoReview: true,
    aggregation: AGG,
    scheduling: SCHED,
    monitoring: MONITORING,
    applicationFile: applicationFile(dir, over),
  });
  await eventually(async () => (await lifecycleOf(n)) === 'online', 30_000);
  nodes[code] = n;
  return n;
}

async function supply(code: string, o: { n: number; province: string; names: string[] }): Promise<string[]> {
  const { n, province, names } = o;
  const node = nodes[code]!;
  const p = await registerProvider(node.url, n);
  const made: SimCluster[] = [];
  for (const name of names) {
    const body = clusterBody(p.id, { name, province, city: 'x', industry: code.split('.')[2] ?? 'C397' });
    const r = await p.client.request<{ id: string }>({ method: 'POST', path: '/cpn/v1/clusters', body });
    if (!r.ok) throw new Error(`cluster registration failed: ${r.status} ${r.error.message}`);
    made.push({ id: r.value.id, body: body as SimCluster['body'] });
  }
  gws.push(await startSimGateway({ url: node.url, node: code, provider: p, clusters: made, everyMs: 100 }));
  return made.map((m) => m.id);
}

/**
 * A /monitor connection as the node's own key would open it (what an ancestor or the recorder does); `history: false`
 * as a joint-debugging check opens it (the snapshot and live events, no history).
 */
async function watch(n: TestNode, o: { history?: boolean; batch?: boolean } = {}) {
  const code = n.node.context.config.code;
  const token = await issueHandshakeToken(
    { keyid: code, audience: code, namespace: NAMESPACES.monitor },
    { privateKey: n.node.context.identity.keys.privateKey, clock: systemClock },
  );
  const auth = {
    token,
    ...(o.history === false ? { history: false } : {}),
    ...(o.batch ? { batch: true } : {}),
  };
  const socket = io(`${n.url}${NAMESPACES.monitor}`, { auth, transports: ['websocket'], forceNew: true });
  sockets.push(socket);
  const events: { type: string; subject?: string; node: string; data: Record<string, unknown> }[] = [];
  let snapshot: TopologySnapshot | null = null;
  let history: { events: unknown[]; episodes: unknown[] } | null = null;
  socket.on(SOCKET_EVENTS.snapshot, (s: TopologySnapshot) => {
    contract.check('snapshot', s);
    snapshot = s;
  });
  socket.on(SOCKET_EVENTS.history, (h: { events: unknown[]; episodes: unknown[] }) => {
    contract.check('history', h);
    history = h;
  });
  socket.on(SOCKET_EVENTS.event, (e: (typeof events)[number]) => {
    contract.check('event', e);
    singles++;
    events.push(e);
  });
  socket.on(SOCKET_EVENTS.events, (b: { events: (typeof events)[number][] }) => {
    contract.check('events', b);
    batches++;
    events.push(...b.events);
  });
  let singles = 0;
  let batches = 0;
  return {
    events,
    /** How many `event` and `events` messages came. */
    messages: () => ({ singles, batches }),
    snapshot: () => eventually(async () => snapshot, 10_000),
    history: () => eventually(async () => history, 10_000),
    /** The history message if one came. */
    historySeen: () => history,
    close: () => socket.close(),
  };
}

let national: TestNode;
let tenant: NodeClient;
const clusters: Record<string, string[]> = {};

beforeAll(async () => {
  national = await startTestNode({
    role: 'national',
    code: 'CPN',
    autoReview: true,
    aggregation: AGG,
    scheduling: SCHED,
    monitoring: MONITORING,
  });
  nodes.CPN = national;
  const r51 = await child('CPN.51', national, {
    region: '51',
    name: '四川区域节点',
    site: { province: '51', city: 'x', address: 'y' },
  });
  await child('CPN.44', national, {
    region: '44',
    name: '广东区域节点',
    site: { province: '44', city: 'x', address: 'y' },
  });
  await child('CPN.51.C151', r51, { role: 'industry', industry: 'C151', name: '四川白酒行业节点' });
  clusters['CPN.51'] = await supply('CPN.51', { n: 61, province: '51', names: ['成都一号', '成都二号'] });
  clusters['CPN.44'] = await supply('CPN.44', { n: 62, province: '44', names: ['广州一号'] });
  clusters['CPN.51.C151'] = await supply('CPN.51.C151', { n: 63, province: '51', names: ['宜宾白酒算力'] });
  const ind = nodes['CPN.51.C151']!;
  const c = await ind.self.createAccount({ id: 'maotai', name: 'maotai', role: 'tenant', password: 'tenant-pass-1' });
  if (!c.ok) throw new Error(c.error.message);
  const t = await ind.anon.token({ account: 'maotai', password: 'tenant-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  tenant = createClient({ baseUrl: ind.url, token: t.value.token });
  // The national market has heard of every cluster before the tests look.
  await eventually(async () => {
    const m = await national.anon.request<{ totals: { clusters: number } }>({ method: 'GET', path: '/cpn/v1/market' });
    return m.ok && m.value.totals.clusters === 4;
  }, 20_000);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const g of gws) g.stop();
  for (const n of Object.values(nodes).reverse()) await n.stop().catch(() => undefined);
  cleanup();
});

describe('subtree snapshots', () => {
  it('lists at the national node every cluster the market API lists, and every node with its own name', async () => {
    // The snapshot merges each child's subtree answer, reused for 1 s of wall time: a cluster registered just before
    // may appear one answer later. Connect until every cluster the market lists is there (up to 15 s of wall time).
    const marketCount = async () => {
      const m = await national.anon.request<{ totals: { clusters: number } }>({
        method: 'GET',
        path: '/cpn/v1/market',
      });
      return m.ok ? m.value.totals.clusters : -1;
    };
    let w = await watch(national);
    let s = await w.snapshot();
    const listed = (x: typeof s) => x.clusters.filter((c) => c.lifecycle === 'active' || c.lifecycle === 'registered');
    for (let i = 0; i < 30 && listed(s).length !== (await marketCount()); i++) {
      w.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      w = await watch(national);
      s = await w.snapshot();
    }
    const market = await national.anon.request<{
      offers: { node: string; clusters: number }[];
      totals: { clusters: number };
    }>({
      method: 'GET',
      path: '/cpn/v1/market',
    });
    expect(market.ok).toBe(true);
    if (!market.ok) return;
    const active = s.clusters.filter((c) => c.lifecycle === 'active' || c.lifecycle === 'registered');
    expect(active).toHaveLength(market.value.totals.clusters);
    for (const o of market.value.offers)
      expect(active.filter((c) => c.node === o.node).length, `clusters of ${o.node}`).toBe(o.clusters);
    expect(new Set(active.map((c) => c.id))).toEqual(new Set(Object.values(clusters).flat()));
    const byCode = new Map(s.nodes.map((n) => [n.code, n]));
    expect([...byCode.keys()].sort()).toEqual(['CPN', 'CPN.44', 'CPN.51', 'CPN.51.C151']);
    expect(byCode.get('CPN.51.C151')).toMatchObject({
      name: '四川白酒行业节点',
      role: 'industry',
      lifecycle: 'online',
    });
    expect(byCode.get('CPN.44')).toMatchObject({ name: '广东区域节点', health: 'healthy' });
    expect(s.links.map((l) => `${l.from}>${l.to}`).sort()).toEqual(['CPN.44>CPN', 'CPN.51.C151>CPN.51', 'CPN.51>CPN']);
    expect(s.unreachable).toEqual([]);
    w.close();
  }, 30_000);
});

describe('clusters on demand', () => {
  it("lists one node's clusters for an ancestor; refuses the unsigned and the unknown plainly", async () => {
    const r = await national.self.request<{ node: string; items: { id: string }[] }>({
      method: 'GET',
      path: '/cpn/v1/monitor/clusters?node=CPN.51.C151',
      sign: true,
    });
    expect(r.ok && r.value.items.map((c) => c.id)).toEqual(clusters['CPN.51.C151']);
    const anon = await national.anon.request({ method: 'GET', path: '/cpn/v1/monitor/clusters?node=CPN.51' });
    expect(!anon.ok && anon.status).toBe(401);
    const bad = await national.self.request({ method: 'GET', path: '/cpn/v1/monitor/clusters?node=nope', sign: true });
    expect(!bad.ok && bad.status).toBe(400);
    // A child may not see its parent's subtree.
    const up = await nodes['CPN.44']!.self.request({ method: 'GET', path: '/cpn/v1/monitor/subtree', sign: true });
    expect(up.ok).toBe(true);
    const client44 = nodes['CPN.44']!.node.context.clientFor(national.url);
    const denied = await client44.request({ method: 'GET', path: '/cpn/v1/monitor/subtree', sign: true });
    expect(!denied.ok && denied.status).toBe(403);
  }, 20_000);
});

describe('events a view can use', () => {
  it('follows one job by its trace id from an industry node in Sichuan to its finish in Guangdong', async () => {
    const watched = ['CPN.51.C151', 'CPN.51', 'CPN', 'CPN.44'].map((c) => ({
      code: c,
      w: null as null | Awaited<ReturnType<typeof watch>>,
    }));
    for (const x of watched) x.w = await watch(nodes[x.code]!);
    for (const x of watched) await x.w!.snapshot();
    const r = await tenant.request<{ id: string; state: string; owner?: string }>({
      method: 'POST',
      path: '/cpn/v1/jobs',
      body: {
        template: {
          demand: { cpuCores: 16, memoryGib: 64 },
          durationHours: 2,
          constraints: { residency: { provinces: ['44'] } },
        },
      },
    });
    expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
    if (!r.ok) return;
    const id = r.value.id;
    const gz = gws.find((g) => g.running.has(id) || g.dispatched.some((d) => d.job === id));
    await eventually(async () => gws.find((g) => g.running.has(id)), 10_000);
    await gws.find((g) => g.running.has(id))!.finish(id);
    expect(gz).toBeDefined();
    const origin = watched[0]!.w!;
    await eventually(async () => origin.events.find((e) => e.subject === id && e.type === 'job.finish'), 10_000);
    const ofJob = (code: string) => watched.find((x) => x.code === code)!.w!.events.filter((e) => e.subject === id);
    const traceIds = new Set(
      watched.flatMap((x) => ofJob(x.code).map((e) => String(e.data.traceparent).split('-')[1])),
    );
    expect(traceIds.size, 'one trace id on every node').toBe(1);
    expect([...traceIds][0]).toMatch(/^[0-9a-f]{32}$/);
    // The provider's gateway got the same trace with the dispatch.
    const order = gws.flatMap((g) => g.dispatched).find((d) => d.job === id);
    expect(order?.traceparent?.split('-')[1]).toBe([...traceIds][0]);
    // The lifecycle reaches the origin: submitted there, dispatched, running and finished in Guangdong.
    expect(ofJob('CPN.51.C151').map((e) => e.type)).toEqual(
      expect.arrayContaining(['job.submit', 'job.escalate', 'job.dispatch', 'job.run', 'job.finish']),
    );
    const finish = ofJob('CPN.51.C151').find((e) => e.type === 'job.finish')!;
    expect(finish.data).toMatchObject({
      origin: 'CPN.51.C151',
      originProvince: '51',
      tenant: 'maotai@CPN.51.C151',
      province: '44',
      owner: 'CPN.44',
      state: 'finished',
      relayed: true,
    });
    const owner = ofJob('CPN.44');
    expect(owner.map((e) => e.type)).toEqual(expect.arrayContaining(['job.schedule', 'job.dispatch', 'job.finish']));
    const placed = owner.find((e) => e.type === 'job.schedule')!;
    expect(placed.data.explanation).toMatchObject({ chosen: clusters['CPN.44']![0] });
    // Escalated through the national node, which chose the Guangdong subtree and says why.
    const national = ofJob('CPN').find((e) => e.type === 'job.schedule');
    expect(national?.data.explanation).toMatchObject({ chosen: 'CPN.44' });
    // Ancestors get flow counters: Sichuan → Guangdong, finished, at the national node.
    const nat = watched.find((x) => x.code === 'CPN')!.w!;
    await eventually(
      async () =>
        nat.events.some(
          (e) =>
            e.type === 'job.flows' &&
            (e.data.flows as { from: string; to: string; state: string }[]).some(
              (f) => f.from === '51' && f.to === '44' && f.state === 'finished',
            ),
        ),
      10_000,
    );
    for (const x of watched) x.w!.close();
  }, 60_000);

  it('gives a late visitor the recent events (virtual time) with the snapshot', async () => {
    const w = await watch(nodes['CPN.51.C151']!);
    const h = (await w.history()) as { events: { type: string }[]; episodes: unknown[]; windowMs: number };
    expect(h.windowMs).toBe(900_000);
    expect(h.events.map((e) => e.type)).toEqual(expect.arrayContaining(['job.submit', 'job.finish']));
    w.close();
  }, 20_000);

  it('sends no history to a handshake that asks for none (a check), and the snapshot and live events as before', async () => {
    // Side by side at the same node: the default connection gets its history, the one asking for none does not.
    const n = nodes['CPN.51.C151']!;
    const full = await watch(n);
    const bare = await watch(n, { history: false });
    expect((await bare.snapshot()).nodes.length).toBeGreaterThan(0);
    expect(((await full.history()) as { events: unknown[] }).events.length).toBeGreaterThan(0);
    // Live events reach the bare connection (a job's, submitted now), and by then no history has come.
    const r = await tenant.request({
      method: 'POST',
      path: '/cpn/v1/jobs',
      body: { template: { demand: { cpuCores: 1, memoryGib: 4 }, durationHours: 0.01 } },
    });
    expect(r.ok).toBe(true);
    await eventually(async () => bare.events.some((e) => e.type === 'job.submit') || null, 10_000);
    expect(bare.historySeen()).toBeNull();
    full.close();
    bare.close();
  }, 20_000);

  it('sends live events in batches to a handshake that asks (a recorder), the same events in the same order', async () => {
    const n = nodes['CPN.51.C151']!;
    const single = await watch(n, { history: false });
    const batched = await watch(n, { history: false, batch: true });
    await single.snapshot();
    await batched.snapshot();
    const from = { single: single.events.length, batched: batched.events.length };
    for (let i = 0; i < 3; i++) {
      const r = await tenant.request({
        method: 'POST',
        path: '/cpn/v1/jobs',
        body: { template: { demand: { cpuCores: 1, memoryGib: 4 }, durationHours: 0.01 } },
      });
      expect(r.ok).toBe(true);
    }
    const submits = (w: typeof single, start: number) =>
      w.events.slice(start).filter((e) => e.type === 'job.submit').length >= 3 || null;
    await eventually(async () => submits(single, from.single), 10_000);
    await eventually(async () => submits(batched, from.batched), 10_000);
    // Whatever came to both, in one order (the stream goes on while this reads, and an event published just before
    // `from` was read may be counted before it on one connection and after it on the other).
    const ids = (w: typeof single, start: number) => w.events.slice(start).map((e) => (e as { id?: string }).id);
    const [a, b] = [ids(single, from.single), ids(batched, from.batched)];
    const both = a.filter((id) => b.includes(id));
    expect(both.length).toBeGreaterThanOrEqual(3);
    expect(b.filter((id) => both.includes(id))).toEqual(both);
    expect(batched.messages()).toMatchObject({ singles: 0 });
    expect(batched.messages().batches).toBeGreaterThan(0);
    expect(single.messages()).toMatchObject({ batches: 0 });
    single.close();
    batched.close();
  }, 20_000);

  it('raises a killed node as down at the national node, from the dropped link, with an open episode', async () => {
    const w = await watch(national);
    await w.snapshot();
    const started = Date.now();
    await nodes['CPN.44']!.stop();
    const down = await eventually(
      async () => w.events.find((e) => e.type === 'node.health' && e.subject === 'CPN.44' && e.data.health === 'down'),
      10_000,
    );
    const wallMs = Date.now() - started;
    // The dropped link usually tells first; on a loaded machine the silence watch can win the race (both are right).
    expect(down.data).toMatchObject({ cause: expect.stringMatching(/^(connection|silence)$/), was: 'healthy' });
    expect(w.events.some((e) => e.type === 'link.health' && e.subject === 'CPN.44' && e.data.health === 'down')).toBe(
      true,
    );
    console.log(`killed node → node.health down at the national monitor: ${wallMs} ms wall`);
    const late = await watch(national);
    const s = await late.snapshot();
    expect(s.nodes.find((n) => n.code === 'CPN.44')?.health).toBe('down');
    const h = (await late.history()) as { episodes: { kind: string; target: string }[] };
    expect(h.episodes).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'node', target: 'CPN.44' })]));
    w.close();
    late.close();
  }, 30_000);
});

describe('the contract', () => {
  it('every snapshot, history and event received above validates against docs/asyncapi.json', () => {
    expect(contract.failures).toEqual([]);
    expect(contract.seen['snapshot']).toBeGreaterThan(0);
    expect(contract.seen['history']).toBeGreaterThan(0);
    expect(contract.seen['events']).toBeGreaterThan(0);
    for (const t of [
      'event:job.submit',
      'event:job.finish',
      'event:node.health',
      'event:link.health',
      'event:job.flows',
    ])
      expect(contract.seen[t], t).toBeGreaterThan(0);
  });
});
