import { describe, expect, it } from 'vitest';
import { TaskTemplate, type JobHistoryEntry, type MeteringLine } from '@cpnet/protocol';
import type { JobRecord } from '../scheduling/job-machine.ts';
import { totals } from '../scheduling/metering.ts';
import { provider, STORES } from './stores-harness.ts';

// The store ports' contract, compute resources: providers, clusters, gateway reports and jobs — on both
// implementations (stores-harness.ts).

describe.each(STORES)('the store ports (%s): providers, clusters and jobs', (_name, make) => {
  it('providers and clusters: registered in a unit of work, read back, lifecycles changed; child summaries kept', async () => {
    const db = await make();
    const pv = provider('CPN.51/PV-1');
    await db.write(async () => {
      await db.providers.addProvider(pv);
      await db.providers.addCluster({
        id: 'CPN.51/CL-1',
        provider: pv.id,
        spec: { name: 'c', arch: 'arm64' },
        lifecycle: 'registered',
        registeredAt: pv.registeredAt,
      });
      await db.providers.putChildSummary({ node: 'CPN.51.C151', at: 'a', summary: '{"s":1}', receivedAt: 'r' });
    });
    expect(await db.providers.byCreditCode(pv.creditCode)).toEqual(pv);
    expect(await db.providers.all()).toEqual([pv]);
    expect(await db.providers.lastReportSeq(pv.id)).toBe(-1);
    await db.providers.setProviderLifecycle(pv.id, 'suspended');
    expect(await db.providers.lifecycleOf(pv.id)).toBe('suspended');
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

  it('gateway reports: a cluster twice in a batch leaves its latest entry, counted twice; unchanged ones refresh the row', async () => {
    const db = await make();
    const id = 'CPN.51/PV-2';
    const { registeredAt } = provider(id);
    await db.write(async () => {
      await db.providers.addProvider(provider(id));
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
    // Entries the gateway named unchanged (report-unchanged): the row's report stays, its liveness and counter move;
    // unchanged then in full within one batch leaves the full entry.
    const held = (await db.providers.clusters()).find((c) => c.report?.cluster === 'CPN.51/CL-B')!.report;
    await db.providers.writeReports({
      batch: [
        {
          gateway: id,
          seq: 3,
          entries: [held as never, entry('CPN.51/CL-A', 4)],
          unchanged: new Set(['CPN.51/CL-B', 'CPN.51/CL-A']),
        },
        { gateway: id, seq: 4, entries: [entry('CPN.51/CL-A', 6)] },
      ],
      now: 3000,
      health: () => 'degraded',
      registered: () => false,
    });
    const after = (await db.providers.clusters()).map((c) => ({
      cores: (c.report as unknown as { k2: { cpuCores: number } }).k2.cpuCores,
      reports: c.reports,
      at: c.lastReportAt,
      health: c.health,
    }));
    expect(after.sort((a, b) => a.cores - b.cores)).toEqual([
      { cores: 5, reports: 3, at: 3000, health: 'degraded' },
      { cores: 6, reports: 5, at: 3000, health: 'degraded' },
    ]);
    expect(await db.providers.lastReportSeq(id)).toBe(4);
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

  it('metering totals: each line once, each job once per tenant and per provider, as the lines sum them', async () => {
    const db = await make();
    const line = (
      job: string,
      at: { provider: string; cluster: string; from: string },
      coreHours: number,
    ): MeteringLine => ({
      job,
      tenant: 'acme@CPN.51',
      ...at,
      coreHours,
      cardHours: 0,
      amountYuan: coreHours * 0.5,
      to: '2026-12-05T02:00:00.000Z',
    });
    const first = line(
      'CPN.51/JB-1',
      { provider: 'CPN.51/PV-A', cluster: 'CPN.51/CL-A', from: '2026-12-05T00:00:00.000Z' },
      4,
    );
    // The same job re-placed on another provider's cluster, a line sent twice, and another job.
    const moved = line(
      'CPN.51/JB-1',
      { provider: 'CPN.51/PV-B', cluster: 'CPN.51/CL-B', from: '2026-12-05T01:00:00.000Z' },
      2,
    );
    const other = line(
      'CPN.51/JB-2',
      { provider: 'CPN.51/PV-A', cluster: 'CPN.51/CL-A', from: '2026-12-05T01:30:00.000Z' },
      8,
    );
    await db.jobs.addMetering(first);
    expect(await db.jobs.totals()).toEqual(totals([first]));
    await Promise.all([db.jobs.addMetering(moved), db.jobs.addMetering(first), db.jobs.addMetering(other)]);
    await db.jobs.addMetering(moved);
    expect(await db.jobs.totals()).toEqual(totals([first, moved, other]));
    expect((await db.jobs.totals()).byTenant['acme@CPN.51']!.jobs).toBe(2);
  });
});
