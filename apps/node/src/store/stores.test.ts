import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { TaskTemplate, type IdentifierRecord, type JobHistoryEntry } from '@cpnet/protocol';
import type { JobRecord } from '../scheduling/job-machine.ts';
import { durableNonceStore } from './nonces.ts';
import { loadSettings } from './settings.ts';
import { openSqliteStores } from './stores.ts';
import type { NodeStores } from './stores.ts';
import { openPostgresStores } from './postgres-stores.ts';
import { startTestPostgres, type TestPostgres } from './postgres-test-server.ts';

// The contract of the store ports, run against both implementations: SQLite, and PostgreSQL (one embedded server for
// the file, a fresh database per case; CPNET_TEST_DATABASE_URL names an existing server instead).

const dirs: string[] = [];
const open: NodeStores[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function sqlite(): Promise<NodeStores> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-stores-'));
  dirs.push(dir);
  const db = await openSqliteStores(path.join(dir, 'node.db'), { durability: 'crash' });
  open.push(db);
  return db;
}

let server: TestPostgres | undefined;
beforeAll(async () => {
  server = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

async function postgres(): Promise<NodeStores> {
  const db = await openPostgresStores(await server!.migratedDatabase(), { poolSize: 2 });
  open.push(db);
  return db;
}

const record = (serial: string, version = 1): IdentifierRecord => ({
  id: `CPN.51/SV-${serial}`,
  kind: 'SV',
  owner: 'CPN.51',
  version,
  status: 'active',
  values: [{ index: 1, type: 'URL', data: `https://example.cn/${version}` }] as IdentifierRecord['values'],
  createdAt: '2026-12-04T00:00:00.000Z',
  updatedAt: `2026-12-04T00:00:0${version}.000Z`,
});

describe.each([
  ['sqlite', sqlite],
  ['postgres', postgres],
])('the store ports (%s)', (_name, make) => {
  it('identifiers: insert, read, replace, page, count; a serial is taken once', async () => {
    const db = await make();
    await db.write(async () => {
      await db.identifiers.insert(record('01JQ4ZK8M0001'), { prefix: 'CPN.51', serial: '01JQ4ZK8M0001' });
      await db.identifiers.insert(record('01JQ4ZK8M0002'), { prefix: 'CPN.51', serial: '01JQ4ZK8M0002' });
    });
    expect(await db.identifiers.byId('CPN.51/SV-01JQ4ZK8M0001')).toEqual(record('01JQ4ZK8M0001'));
    expect(await db.identifiers.byId('CPN.51/SV-NOPE')).toBeNull();
    await db.write(() => db.identifiers.put(record('01JQ4ZK8M0001', 2), { prefix: 'CPN.51', serial: '01JQ4ZK8M0001' }));
    expect(await db.identifiers.versionOf('CPN.51/SV-01JQ4ZK8M0001')).toBe(2);
    const page = await db.identifiers.page({ prefix: 'CPN.51', after: 'CPN.51/SV-01JQ4ZK8M0001', take: 10 });
    expect(page.map((r) => r.id)).toEqual(['CPN.51/SV-01JQ4ZK8M0002']);
    expect(await db.identifiers.countOwnedBy('CPN.51')).toBe(2);
    const take = () => db.identifiers.takeSerial({ prefix: 'CPN.51', serial: 'X1', kind: 'SV', at: 0 });
    expect(await db.write(take)).toBe(true);
    expect(await db.write(take)).toBe(false);
  });

  it('outbox: deliveries come back oldest first, count, retry and go', async () => {
    const db = await make();
    await db.write(async () => {
      await db.outbox.add({ endpoint: 'http://a', path: '/p', body: { n: 1 } }, 0);
      await db.outbox.add({ endpoint: 'http://a', path: '/p', body: { n: 2 } }, 0);
    });
    const queued = await db.outbox.oldest(10);
    expect(queued.map((q) => (JSON.parse(q.payload) as { body: { n: number } }).body.n)).toEqual([1, 2]);
    await db.write(() => db.outbox.failed([queued[0]!.id]));
    expect(await db.outbox.count()).toBe(2);
    await db.write(() => db.outbox.remove(queued.map((q) => q.id)));
    expect(await db.outbox.count()).toBe(0);
  });

  it('a nested write, or a unit awaiting something other than a store call, fails loudly instead of hanging', async () => {
    const db = await make();
    // A write inside a unit would wait for its own commit: refused at once, naming the cause.
    await expect(
      db.write(async () => {
        await db.settings.put('outer', '1');
        await db.write(() => db.settings.put('inner', '1'));
      }),
    ).rejects.toMatchObject({ name: 'UnitOfWorkError', code: 'nested-write' });
    // A unit awaiting a timer (wall time, 20 ms) would hold the single writer meanwhile: undone, with the cause.
    await expect(
      db.write(async () => {
        await db.settings.put('stalled', '1');
        await new Promise((r) => setTimeout(r, 20));
      }),
    ).rejects.toMatchObject({ name: 'UnitOfWorkError', code: 'awaited-outside-store' });
    // Units queued beside the bad ones, and later ones, still commit; the bad ones left nothing.
    const [, beside] = await Promise.allSettled([
      db.write(async () => {
        await new Promise((r) => setTimeout(r, 5));
      }),
      db.write(() => db.settings.put('beside', '1')),
    ]);
    expect(beside.status).toBe('fulfilled');
    await db.write(() => db.settings.put('after', '1'));
    await new Promise((r) => setTimeout(r, 30));
    const all = await db.settings.all();
    expect([...all.keys()].sort()).toEqual(['after', 'beside']);
  });

  it('a unit of work that throws leaves nothing behind', async () => {
    const db = await make();
    await expect(
      db.write(async () => {
        await db.outbox.add({ endpoint: 'http://a', path: '/p', body: {} }, 0);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await db.outbox.count()).toBe(0);
  });

  it('peers: put creates then replaces; link reads the hot-path fields; list filters and orders', async () => {
    const db = await make();
    const peer = { relation: 'parent', role: 'national', endpoint: 'http://p', publicKey: 'K', lifecycle: 'online' };
    await db.peers.put('CPN', peer);
    await db.peers.put('CPN.51.C151', { ...peer, relation: 'child', role: 'industry', lifecycle: 'approved' });
    await db.peers.put('CPN', { ...peer, endpoint: 'http://p2' });
    expect(await db.peers.link('CPN')).toEqual({
      relation: 'parent',
      lifecycle: 'online',
      publicKey: 'K',
      endpoint: 'http://p2',
    });
    expect(await db.peers.link('CPN.44')).toBeUndefined();
    await db.peers.setLifecycle('CPN.51.C151', 'revoked');
    await db.peers.setNdRecord('CPN.51.C151', 'CPN.51/ND-1');
    expect(await db.peers.byPrefix('CPN.51.C151')).toMatchObject({ lifecycle: 'revoked', ndRecord: 'CPN.51/ND-1' });
    expect((await db.peers.list({ relations: ['child'] })).map((p) => p.prefix)).toEqual(['CPN.51.C151']);
    expect(await db.peers.list({ notLifecycle: 'revoked' })).toHaveLength(1);
    expect((await db.peers.list({ byRelation: true })).map((p) => p.relation)).toEqual(['child', 'parent']);
  });

  it('applications: create, the open one, the latest one, update', async () => {
    const db = await make();
    const base = {
      applicant: 'CPN.51',
      role: 'regional',
      region: '51',
      body: '{}',
      routedTo: 'CPN',
      forwardedBy: null,
      originId: null,
      reasons: '[]',
      reviews: '[]',
    };
    await db.applications.create({ ...base, id: 'A1', status: 'rejected', submittedAt: new Date(1) });
    await db.applications.create({ ...base, id: 'A2', status: 'submitted', submittedAt: new Date(2) });
    expect((await db.applications.openOf('CPN.51'))?.id).toBe('A2');
    expect((await db.applications.latestOf('CPN.51'))?.id).toBe('A2');
    expect((await db.applications.waitingAt('CPN')).map((a) => a.id)).toEqual(['A2']);
    const updated = await db.applications.update('A2', { status: 'approved', grant: '{"g":1}' });
    expect(updated).toMatchObject({ status: 'approved', grant: '{"g":1}' });
    expect((await db.applications.notRejected()).map((a) => a.id)).toEqual(['A2']);
    expect((await db.applications.all()).map((a) => a.id)).toEqual(['A1', 'A2']);
  });

  it('events: a redelivered id is ignored; find by type family and time; ofTypes pages; old ones go', async () => {
    const db = await make();
    const ev = (id: string, type: string, at: string) => ({
      id,
      type,
      at,
      subject: null,
      severity: 'info',
      data: '{}',
      node: null,
    });
    const added = await db.write(async () => [
      await db.events.add(ev('e1', 'cluster.health', '2026-01-01T00:00:00.000Z')),
      await db.events.add(ev('e2', 'job.finish', '2026-06-01T00:00:00.000Z')),
      await db.events.add(ev('e1', 'cluster.health', '2026-01-01T00:00:00.000Z')),
    ]);
    expect(added).toEqual([true, true, false]);
    expect((await db.events.find({ family: 'cluster.', limit: 10 })).map((e) => e.id)).toEqual(['e1']);
    expect((await db.events.find({ since: '2026-02-01', limit: 10 })).map((e) => e.id)).toEqual(['e2']);
    expect(await db.events.newestSeq()).toBe(2);
    expect((await db.events.ofTypes({ types: ['job.finish'], after: 0, upTo: 2, limit: 10 })).map((e) => e.id)).toEqual(
      ['e2'],
    );
    expect(
      (await db.events.recent({ since: '2026-01-01', limit: 10, leaveOut: ['job.finish'] })).map((e) => e.id),
    ).toEqual(['e1']);
    expect(await db.events.count('cluster.health')).toBe(1);
    expect(await db.events.deleteBefore('2026-03-01')).toBe(1);
  });

  it('nonces, idempotency keys, settings and the audit log', async () => {
    const db = await make();
    const nonces = durableNonceStore(db, { now: () => 1000 });
    expect(await nonces.seen('k', 'n1', 60_000)).toBe(false);
    expect(await nonces.seen('k', 'n1', 60_000)).toBe(true);
    // A nonce joins the next write's commit; a new replay memory over the same database (a restart) refuses it.
    expect(await nonces.seen('k', 'n2', 60_000)).toBe(false);
    expect(await nonces.seen('k', 'n2', 60_000)).toBe(true);
    await db.write(() => db.settings.put('after-n2', '1'));
    await nonces.recorded('k', 'n2');
    const restarted = durableNonceStore(db, { now: () => 2000 });
    expect(await restarted.seen('k', 'n2', 60_000)).toBe(true);
    expect(await restarted.seen('k', 'n3', 60_000)).toBe(false);
    expect(await restarted.committed.seen('k', 'n4', 60_000)).toBe(false);
    expect(await durableNonceStore(db, { now: () => 3000 }).seen('k', 'n4', 60_000)).toBe(true);
    // Concurrent replays of one nonce: exactly one is accepted.
    const racing = await Promise.all([1, 2, 3].map(() => restarted.seen('k', 'n5', 60_000)));
    expect(racing.filter((r) => !r)).toHaveLength(1);
    // The table is read only for messages an earlier run may have recorded (expiring no later than its rows); every
    // nonce of an earlier run is refused after a restart, whatever its expiry, and memory refuses this run's own.
    const run2 = durableNonceStore(db, { now: () => 4000 });
    for (const [n, at] of [
      ['e1', 70_000],
      ['e2', 50_000],
      ['e3', 90_000],
    ] as const)
      expect(await run2.seen('k', n, at)).toBe(false);
    await Promise.all(['e1', 'e2', 'e3'].map((n) => run2.recorded('k', n)));
    const run3 = durableNonceStore(db, { now: () => 5000 });
    for (const [n, at] of [
      ['e1', 70_000],
      ['e2', 50_000],
      ['e3', 90_000],
      ['n2', 60_000],
    ] as const)
      expect(await run3.seen('k', n, at), n).toBe(true);
    expect(await run3.seen('k', 'late', 120_000)).toBe(false);
    expect(await run3.seen('k', 'late', 120_000)).toBe(true);
    expect(await db.write(() => db.idempotency.claim('key', '{"a":1}', 0))).toBe(true);
    expect(await db.write(() => db.idempotency.claim('key', '{"a":2}', 0))).toBe(false);
    expect(await db.idempotency.get('key')).toBe('{"a":1}');
    const settings = await loadSettings(db);
    await settings.setJson('x', { y: 1 });
    await settings.set('x', '"z"');
    expect((await loadSettings(db)).getJson('x')).toEqual('z');
    await db.write(async () => {
      await db.audit.append('{"n":1}');
      await db.audit.append('{"n":2}');
    });
    expect(await db.audit.entries()).toEqual(['{"n":1}', '{"n":2}']);
  });
  it('providers and clusters: registered in a unit of work, read back, lifecycles changed; child summaries kept', async () => {
    const db = await make();
    const provider = {
      id: 'CPN.51/PV-1',
      creditCode: '91510100MA6CXXXX1D',
      name: 'p',
      province: '51',
      city: 'Chengdu',
      publicKey: 'K',
      lifecycle: 'active',
      registeredAt: '2026-12-04T00:00:00.000Z',
    };
    await db.write(async () => {
      await db.providers.addProvider(provider);
      await db.providers.addCluster({
        id: 'CPN.51/CL-1',
        provider: provider.id,
        spec: { name: 'c', arch: 'arm64' },
        lifecycle: 'registered',
        registeredAt: provider.registeredAt,
      });
      await db.providers.putChildSummary({ node: 'CPN.51.C151', at: 'a', summary: '{"s":1}', receivedAt: 'r' });
    });
    expect(await db.providers.byCreditCode(provider.creditCode)).toEqual(provider);
    expect(await db.providers.all()).toEqual([provider]);
    expect(await db.providers.lastReportSeq(provider.id)).toBe(-1);
    await db.providers.setProviderLifecycle(provider.id, 'suspended');
    expect(await db.providers.lifecycleOf(provider.id)).toBe('suspended');
    expect(await db.providers.clusterSpec('CPN.51/CL-1')).toEqual({ name: 'c', arch: 'arm64' });
    await db.providers.setClusterLifecycle('CPN.51/CL-1', 'active');
    const [cluster] = await db.providers.clusters();
    expect(cluster).toMatchObject({
      spec: { name: 'c', arch: 'arm64', lifecycle: 'active' },
      health: 'down',
      reports: 0,
    });
    expect(await db.providers.childSummaries()).toEqual([{ node: 'CPN.51.C151', summary: '{"s":1}' }]);
  });

  it('gateway reports: a batch holding a cluster twice leaves its latest entry, counted twice, and the seq', async () => {
    const db = await make();
    const registeredAt = '2026-12-04T00:00:00.000Z';
    const id = 'CPN.51/PV-2';
    await db.write(async () => {
      await db.providers.addProvider({
        id,
        creditCode: '91510100MA6CXXXX1D',
        name: 'p',
        province: '51',
        city: 'Chengdu',
        publicKey: 'K',
        lifecycle: 'active',
        registeredAt,
      });
      for (const c of ['CPN.51/CL-A', 'CPN.51/CL-B'])
        await db.providers.addCluster({
          id: c,
          provider: id,
          spec: { name: c },
          lifecycle: 'registered',
          registeredAt,
        });
    });
    const entry = (cluster: string, cores: number) =>
      ({ cluster, k1: { cpuCores: 8 }, k2: { cpuCores: cores }, metrics: { health: 'healthy' } }) as never;
    const write = (batch: { seq: number; entries: never[] }[], now: number) =>
      db.providers.writeReports({
        batch: batch.map((b) => ({ gateway: id, ...b })),
        now,
        health: () => 'healthy',
        registered: () => true,
      });
    await write([{ seq: 0, entries: [entry('CPN.51/CL-A', 1), entry('CPN.51/CL-B', 2)] }], 1000);
    // Two reports of the same gateway queued behind one commit: A twice, B once.
    await write(
      [
        { seq: 1, entries: [entry('CPN.51/CL-A', 3)] },
        { seq: 2, entries: [entry('CPN.51/CL-A', 4), entry('CPN.51/CL-B', 5)] },
      ],
      2000,
    );
    const rows = (await db.providers.clusters()).map((c) => ({
      cores: (c.report as unknown as { k2: { cpuCores: number } }).k2.cpuCores,
      reports: c.reports,
      at: c.lastReportAt,
      lifecycle: c.spec.lifecycle,
    }));
    expect(rows.sort((a, b) => a.cores - b.cores)).toEqual([
      { cores: 4, reports: 3, at: 2000, lifecycle: 'active' },
      { cores: 5, reports: 2, at: 2000, lifecycle: 'active' },
    ]);
    expect(await db.providers.lastReportSeq(id)).toBe(2);
  });

  it("accounts, joint-debugging runs and children's metering", async () => {
    const db = await make();
    await db.accounts.create({ id: 'r1', name: 'R', role: 'reviewer', passwordHash: 'h' });
    await db.accounts.create({ id: 'o1', name: 'O', role: 'operator', passwordHash: 'h' });
    expect((await db.accounts.all()).map((a) => a.id)).toEqual(['o1', 'r1']);
    expect((await db.accounts.byId('r1'))?.status).toBe('active');
    expect(await db.accounts.reviewerIds()).toEqual(['r1']);
    const run = { target: 'CPN', by: 'CPN.51', listVersion: '1', passed: false, result: '{}', at: 'a' };
    await db.jointDebug.add(run);
    await db.jointDebug.add({ ...run, passed: true });
    expect((await db.jointDebug.latest({ by: 'CPN.51', target: 'CPN' }))?.passed).toBe(true);
    expect(await db.jointDebug.all()).toHaveLength(2);
    await db.jobs.putChildMetering({ node: 'CPN.51', at: 'a', summary: '{"m":1}' });
    await db.jobs.putChildMetering({ node: 'CPN.51', at: 'b', summary: '{"m":2}' });
    expect(await db.jobs.childMetering()).toEqual(['{"m":2}']);
    expect(await db.jobs.has('CPN.51/JB-1')).toBe(false);
  });

  it('jobs: each history entry is stored once whichever copy of the job is saved; a page brings each its own history', async () => {
    const db = await make();
    const entry = (state: JobHistoryEntry['state'], s: number): JobHistoryEntry => ({
      state,
      at: `2026-12-05T00:00:0${s}.000Z`,
      node: 'CPN.51',
      attempt: 1,
    });
    const job = (id: string): JobRecord => ({
      id,
      tenant: 'acme',
      origin: 'CPN.51',
      template: TaskTemplate.parse({ demand: { cpuCores: 1, memoryGib: 1 }, durationHours: 1 }),
      upstream: null,
      downstream: null,
      owner: null,
      cluster: null,
      preferredCluster: null,
      state: 'submitted',
      attempt: 1,
      stateAttempt: 1,
      history: [entry('submitted', 0)],
      submittedAt: 0,
      finishedAt: null,
      dispatchedAt: null,
      costYuan: 0,
    });
    const a = job('CPN.51/JB-a');
    const b = job('CPN.51/JB-b');
    await Promise.all([db.jobs.save(a), db.jobs.save(b)]);
    a.history.push(entry('scheduled', 1));
    // Two saves of one record before either commits, then one more entry: nothing twice, nothing missing.
    await Promise.all([db.jobs.save(a), db.jobs.save(a)]);
    a.history.push(entry('dispatched', 2));
    a.state = 'dispatched';
    await db.jobs.save(a);
    // A copy read back (as after a restart), moved on and saved; and a copy the store never saw, saved whole.
    const read = (await db.jobs.get(a.id))!;
    expect(read.history.map((h) => h.state)).toEqual(['submitted', 'scheduled', 'dispatched']);
    read.history.push(entry('running', 3));
    read.state = 'running';
    await db.jobs.save(read);
    const unseen = { ...job(b.id), history: [entry('submitted', 0), entry('queued', 4)], state: 'queued' as const };
    await db.jobs.save(unseen);
    const page = await db.jobs.list({ origin: 'CPN.51', limit: 10 });
    expect(page.map((j) => [j.id, j.state, j.history.map((h) => h.state)])).toEqual([
      ['CPN.51/JB-a', 'running', ['submitted', 'scheduled', 'dispatched', 'running']],
      ['CPN.51/JB-b', 'queued', ['submitted', 'queued']],
    ]);
    expect((await db.jobs.active()).map((j) => j.history.length)).toEqual([4, 2]);
  });
});

describe('the PostgreSQL connection', () => {
  it('replaces a writer connection the server ended: the next unit of work commits', async () => {
    const url = await server!.migratedDatabase();
    const db = await openPostgresStores(url, { poolSize: 2 });
    open.push(db);
    await db.write(() => db.settings.put('a', '1'));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const ended = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      expect(ended.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // The group running when the connection died may fail; the one after it runs on a new connection.
    await db.write(() => db.settings.put('b', '2')).catch(() => undefined);
    await db.write(() => db.settings.put('c', '3'));
    expect((await db.settings.all()).get('c')).toBe('3');
  });
  it('held statements: one round trip for a unit’s inserts, seen by its later reads, their errors fail only their unit', async () => {
    let queries = 0;
    const db = await openPostgresStores(await server!.migratedDatabase(), {
      poolSize: 2,
      work: { begin: () => (queries++, () => undefined) },
    });
    open.push(db);
    const delivery = { endpoint: 'http://127.0.0.1:1', path: '/cpn/v1/copies', body: {} };
    // A registration's inserts (record, copy upward, audit entry): BEGIN, one statement, COMMIT (+ the unit itself).
    queries = 0;
    await db.write(async () => {
      await db.identifiers.insert(record('1'), { prefix: 'CPN.51', serial: '1' });
      await db.outbox.add(delivery, 1);
      await db.audit.append('first');
    });
    expect(queries).toBe(4);
    // Two of one kind in one unit keep their order; a read in the unit sees what it holds.
    const seen = await db.write(async () => {
      await db.audit.append('second');
      await db.audit.append('third');
      return db.identifiers.versionOf(record('1').id);
    });
    expect(seen).toBe(1);
    expect(await db.audit.entries()).toEqual(['first', 'second', 'third']);
    // A held insert that breaks a key fails its own unit when it is sent; the unit grouped with it commits.
    const [dup, other] = await Promise.allSettled([
      db.write(async () => {
        await db.audit.append('undone');
        await db.identifiers.insert(record('1'), { prefix: 'CPN.51', serial: '1' });
      }),
      db.write(() => db.audit.append('fourth')),
    ]);
    expect(dup.status).toBe('rejected');
    expect(other.status).toBe('fulfilled');
    expect(await db.audit.entries()).toEqual(['first', 'second', 'third', 'fourth']);
    expect(await db.outbox.count()).toBe(1);
  });
});
