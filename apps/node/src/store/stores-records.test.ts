import { describe, expect, it } from 'vitest';
import { durableNonceStore } from './nonces.ts';
import { loadSettings } from './settings.ts';
import { record, STORES } from './stores-harness.ts';

// The store ports' contract, the node's registries: identifiers, the outbox, peers, applications, events, replay
// nonces, idempotency keys, settings, the audit log, accounts and joint debugging — on both implementations
// (stores-harness.ts).

describe.each(STORES)('the store ports (%s): registries', (_name, make) => {
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
});
