import { createClient, type NodeClient } from '@cpnet/client';
import { formatTime, ROUTES } from '@cpnet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterBody, registerProvider } from './providers.ts';
import { startSimGateway } from './sim-gateway.ts';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

let national: TestNode;

/** A client of `target` that signs as the regional node. */
function asRegional(target: TestNode): NodeClient {
  const privateKey = regional.node.context.identity.keys.privateKey;
  return createClient({ baseUrl: target.url, signer: { keyid: 'CPN.51', privateKey } });
}

let regional: TestNode;

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true });
  const rdir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: rdir,
    applicationFile: applicationFile(rdir),
    autoReview: true,
    aggregation: { degradedAfterMs: 5000, downAfterMs: 10_000, sweepMs: 50, summaryMs: 100, eventShipMs: 100 },
    scheduling: { tickMs: 100, summaryMs: 100, retryMs: 400, meteringMs: 200 },
  });
  await eventually(async () => (await lifecycleOf(regional)) === 'online', 15_000);
}, 60_000);

afterAll(async () => {
  for (const n of [regional, national]) await n?.stop();
  cleanup();
});

describe('a record copied upward cannot claim a false owner', () => {
  it('refuses a copy owned by the parent or outside the sender, and the parent cannot edit it', async () => {
    const made = await regional.self.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] });
    if (!made.ok) throw new Error(made.error.message);
    const rec = made.value;
    for (const owner of ['CPN', 'CPN.44']) {
      const pushed = await asRegional(national).pushCopies({ records: [{ ...rec, owner, version: rec.version + 10 }] });
      expect(pushed.ok ? 200 : pushed.status).toBe(403);
      expect(pushed.ok ? undefined : pushed.error.field).toBe('records');
    }
    const edit = await national.self.update(rec.id, {
      version: rec.version + 10,
      values: [{ index: 1, type: 'T', data: 2 }],
    });
    expect(edit.ok).toBe(false);
    const held = await eventually(async () => {
      const r = await national.anon.list({ prefix: 'CPN.51' });
      return r.ok ? r.value.items.find((i) => i.id === rec.id) : null;
    });
    expect(held.owner).toBe('CPN.51');
  });
});

/** `depth` nested arrays and objects around a number, built without recursion. */
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

describe('deep values', () => {
  it('refuses values nested beyond 32 levels at registration and in copies: 400 naming the limit, never 500', async () => {
    for (const depth of [33, 4_000, 100_000]) {
      // As text: the client's JSON.stringify would overflow its own stack on the deepest.
      const data = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
      const body = `{"kind":"SV","values":[{"index":1,"type":"T","data":${data}}]}`;
      const r = await regional.self.request({ method: 'POST', path: ROUTES.identifiers, body });
      expect(r.ok ? 201 : r.status).toBe(400);
      expect(r.ok ? '' : `${r.error.field} ${r.error.message}`).toMatch(/values\.0\.data.*32 levels/);
    }
    const ok = await regional.self.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: nested(32) }] });
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    const deep = { ...ok.value, version: 2, values: [{ ...ok.value.values[0]!, data: nested(4_000) }] };
    const pushed = await asRegional(national).pushCopies({ records: [deep] });
    expect(pushed.ok ? 200 : pushed.status).toBe(400);
  });

  it('resolves a deep value stored before the limit existed, at the owner and at CPN (no stack overflow)', async () => {
    const made = await regional.self.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] });
    if (!made.ok) throw new Error(made.error.message);
    const deep = { ...made.value, values: [{ ...made.value.values[0]!, data: nested(4_000) }] };
    const [prefix, rest] = deep.id.split('/') as [string, string];
    for (const n of [regional, national]) {
      const db = n.node.context.db;
      await db.write(() => db.identifiers.put(deep, { prefix, serial: rest.slice(3) }));
      n.node.context.cache.forget(deep.id);
    }
    for (const n of [regional, national]) {
      const r = await n.anon.resolve(deep.id);
      expect(r.ok ? 200 : r.status).toBe(200);
    }
  });
});

describe("a provider's end-of-job time is not trusted for billing", () => {
  it('refuses and alerts an update dated ten years ahead; meters the time the node observed', async () => {
    const p = await registerProvider(regional.url, 71);
    const body = clusterBody(p.id, { name: 'metered', province: '51' });
    const c = await p.client.request<{ id: string }>({ method: 'POST', path: '/cpn/v1/clusters', body });
    if (!c.ok) throw new Error(c.error.message);
    const gw = await startSimGateway({
      url: regional.url,
      node: 'CPN.51',
      provider: p,
      clusters: [{ id: c.value.id, body: body as never }],
      everyMs: 100,
    });
    try {
      const made = await regional.self.createAccount({
        id: 'biller',
        name: 'b',
        role: 'tenant',
        password: 'tenant-pass-1',
      });
      if (!made.ok) throw new Error(made.error.message);
      const t = await regional.anon.token({ account: 'biller', password: 'tenant-pass-1' });
      if (!t.ok) throw new Error(t.error.message);
      const tenant = createClient({ baseUrl: regional.url, token: t.value.token });
      const template = { demand: { cpuCores: 8, memoryGib: 16 }, durationHours: 1 };
      const job = await eventually(async () => {
        const r = await tenant.request<{ id: string; state: string }>({
          method: 'POST',
          path: '/cpn/v1/jobs',
          body: { template },
        });
        return r.ok && r.value.state === 'dispatched' ? r.value : null;
      });
      const run = gw.running.get(job.id)!;
      gw.running.delete(job.id);
      const tenYears = formatTime(Date.now() + 10 * 365 * 24 * 3_600_000);
      const update = { job: job.id, cluster: run.cluster, attempt: run.attempt, state: 'finished' as const };
      const refused = await gw.conn.jobUpdate({ ...update, at: tenYears });
      expect(refused.ok).toBe(false);
      expect(refused.ok ? '' : refused.error.message).toMatch(/clock skew/);
      const alerts = await eventually(async () => {
        const r = await regional.anon.request<{ items: { type: string; subject?: string }[] }>({
          method: 'GET',
          path: '/cpn/v1/events?type=security.alert',
        });
        return r.ok && r.value.items.find((e) => e.subject === job.id);
      });
      expect(alerts).toBeTruthy();
      expect((await gw.conn.jobUpdate(update)).ok).toBe(true);
      const metering = await eventually(async () => {
        const r = await tenant.request<{ lines: { job: string; coreHours: number }[] }>({
          method: 'GET',
          path: '/cpn/v1/metering?tenant=biller',
        });
        return r.ok && r.value.lines.find((l) => l.job === job.id);
      });
      expect(metering.coreHours).toBeLessThan(1);
    } finally {
      gw.stop();
    }
  });
});

describe('quantities have realistic maxima', () => {
  it('refuses a cluster with 1.7e308 cores with 400 naming the field; the summary upward stays finite', async () => {
    const p = await registerProvider(regional.url, 72);
    const huge = clusterBody(p.id, { name: 'huge' });
    (huge.capacity as { cpuCores: number }).cpuCores = 1.7e308;
    const r = await p.client.request({ method: 'POST', path: '/cpn/v1/clusters', body: huge });
    expect(r.ok ? 201 : r.status).toBe(400);
    expect(r.ok ? '' : r.error.field).toBe('capacity.cpuCores');
    expect(r.ok ? '' : r.error.message).toMatch(/10000000/);
    const price = clusterBody(p.id, { name: 'pricey', price: { perCoreHourYuan: 1e300 } });
    const r2 = await p.client.request({ method: 'POST', path: '/cpn/v1/clusters', body: price });
    expect(r2.ok ? '' : r2.error.field).toBe('price.perCoreHourYuan');
    const self = await regional.anon.request<{ byClass: Record<string, { k1: { cpuCores: number } }> }>({
      method: 'GET',
      path: '/cpn/v1/summaries/self',
    });
    expect(self.ok && Object.values(self.value.byClass).every((c) => Number.isFinite(c.k1.cpuCores))).toBe(true);
  });
});

describe('a refused item does not block the outbox', () => {
  it('delivers the items merged with a refused one; the refused one is a dead letter with an alert', async () => {
    const made = await regional.self.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 'ok' }] });
    if (!made.ok) throw new Error(made.error.message);
    const good = { ...made.value, version: made.value.version + 1 };
    const bad = { ...made.value, version: made.value.version + 2, owner: 'CPN' }; // a false owner: 403
    const ctx = regional.node.context;
    const copy = (record: unknown) => ({ endpoint: national.url, path: ROUTES.copies, body: { records: [record] } });
    await ctx.outbox.enqueue(copy(bad));
    await ctx.outbox.enqueue(copy(good));
    ctx.outbox.kick();
    const held = await eventually(async () => {
      const r = await national.anon.list({ prefix: 'CPN.51' });
      return r.ok && r.value.items.find((i) => i.id === good.id && i.version === good.version);
    });
    expect(held).toBeTruthy();
    const dead = await eventually(async () => (await ctx.db.outbox.deadLetters()).find((l) => l.status === 403));
    expect(dead.answer).toMatchObject({ code: 'FORBIDDEN', field: 'records' });
    const alert = await eventually(async () => {
      const r = await regional.anon.request<{ items: { type: string; data: { alert?: string } }[] }>({
        method: 'GET',
        path: '/cpn/v1/events?type=security.alert',
      });
      return r.ok && r.value.items.find((e) => e.data.alert === 'outbox.dead-letter');
    });
    expect(alert).toBeTruthy();
  });
});
