import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { formatTime, JobUpdate } from '@cpnet/protocol';
import { ClusterView } from './cluster-view.ts';
import { isFinal, type JobRecord } from './job-machine.ts';
import { QuotaExceeded } from './service.ts';
import { facts, fullReport, hierarchy, settle, template } from './testing.ts';

const TREE = { CPN: null, 'CPN.51': 'CPN', 'CPN.44': 'CPN' } as const;

function setup(options: Parameters<typeof hierarchy>[1]['options'] = {}) {
  const clock = createFakeClock(Date.UTC(2026, 10, 26, 8));
  const h = hierarchy(TREE, { clock, options });
  const add = (node: string, over: Parameters<typeof facts>[1] = {}) => {
    const f = facts(node, over);
    h.services.get(node)!.upsertCluster(f);
    h.services.get(node)!.onReport([fullReport(f)], clock.now());
    return f;
  };
  return { clock, h, add, s: (c: string) => h.services.get(c)! };
}

describe('the executor of the planner at a node', () => {
  it('a tenant with a 100-core quota never holds more than 100, queued jobs included, as the queue drains', async () => {
    const { clock, add, s } = setup({ quotas: { acme: { cpuCores: 100 } } });
    const c = add('CPN.51', { cpuCores: 64 });
    const node = s('CPN.51');
    const jobs: JobRecord[] = [];
    const held = () =>
      jobs
        .map((j) => node.job(j.id))
        .filter((j): j is JobRecord => !!j && !isFinal(j.state))
        .reduce((n, j) => n + j.template.demand.cpuCores * j.template.replicas, 0);
    const forty = () => template({ demand: { cpuCores: 40, memoryGib: 8 } });
    jobs.push(await node.submit(forty(), 'acme'));
    jobs.push(await node.submit(forty(), 'acme'));
    expect(jobs.map((j) => j.state)).toEqual(['dispatched', 'queued']);
    // 40 running + 40 queued: a third 40 would make 120.
    await expect(node.submit(forty(), 'acme')).rejects.toThrow(/quota: cpuCores 80 used \+ 40 requested > 100/);
    await expect(node.submit(forty(), 'acme')).rejects.toBeInstanceOf(QuotaExceeded);
    jobs.push(await node.submit(template({ demand: { cpuCores: 20, memoryGib: 8 } }), 'acme'));
    expect(jobs[2]!.state).toBe('dispatched');
    expect(held()).toBe(100);
    // The first finishes: the queue drains (the queued job is re-checked and placed), still at most 100.
    await node.onJobUpdate(
      JobUpdate.parse({
        protocol: '1.0',
        seq: 1,
        job: jobs[0]!.id,
        cluster: c.id,
        attempt: 1,
        state: 'finished',
        at: formatTime(clock.now()),
      }),
    );
    clock.advance(10_000);
    await node.tick();
    expect(node.job(jobs[1]!.id)!.state).toBe('dispatched');
    expect(held()).toBe(60);
    jobs.push(await node.submit(forty(), 'acme'));
    expect(held()).toBe(100);
    await expect(node.submit(template({ demand: { cpuCores: 1, memoryGib: 1 } }), 'acme')).rejects.toBeInstanceOf(
      QuotaExceeded,
    );
  });

  it('fails over every slice of a split job: a failed second cluster re-places the job and stops the first', async () => {
    const { add, h, s } = setup();
    const a = add('CPN.51', { cpuCores: 64, price: 0.1 });
    const b = add('CPN.51', { cpuCores: 64, price: 0.2 });
    const node = s('CPN.51');
    const job = await node.submit(
      template({ demand: { cpuCores: 24, memoryGib: 8 }, replicas: 4, placement: 'split' }),
      'acme',
    );
    expect(job.state).toBe('dispatched');
    const sent = h.gateways.get('CPN.51')!.sent;
    expect(sent.map((m) => m.replicas)).toEqual([2, 2]);
    expect(new Set(sent.map((m) => m.cluster))).toEqual(new Set([a.id, b.id]));
    // The cluster that fails is not the one the job's record names (its other slice's): still the whole job moves.
    const kept = job.cluster!;
    const failed = kept === a.id ? b.id : a.id;
    await node.clusterDown(failed, `cluster ${failed} stopped reporting`);
    const after = node.job(job.id)!;
    expect(after.history.map((e) => e.state)).toContain('replaced');
    expect(h.gateways.get('CPN.51')!.cancels).toContainEqual({ cluster: kept, job: job.id, reason: 'replaced' });
    // Only the kept cluster is left here: split places what fits (2 of 4) and nothing on the failed one.
    expect(sent.slice(2).map((m) => [m.cluster, m.replicas])).toEqual([[kept, 2]]);
  });

  it('re-placement at a node that is not the origin escalates too: handed back to the parent, which places it', async () => {
    const { add, h, s } = setup();
    add('CPN.51', { cpuCores: 8 });
    const x = add('CPN.44', { cpuCores: 64 });
    await h.summaries();
    const job = await s('CPN.51').submit(template(), 'acme');
    expect(job).toMatchObject({ owner: 'CPN.44', cluster: x.id });
    // CPN.44 has nothing else when x fails; the national node has a cluster by then.
    const z = add('CPN', { province: '11' });
    await s('CPN.44').clusterDown(x.id, 'gone');
    await settle(300);
    expect(s('CPN.44').job(job.id)).toBeUndefined();
    expect((await h.stores.get('CPN.44')!.get(job.id))!.history.at(-1)).toMatchObject({
      state: 'cancelled',
      detail: expect.stringMatching(/handed back to CPN/),
    });
    expect(s('CPN').job(job.id)).toMatchObject({ owner: 'CPN', cluster: z.id, upstream: 'CPN.51' });
    const origin = (await h.stores.get('CPN.51')!.get(job.id))!;
    expect(origin).toMatchObject({ owner: 'CPN', cluster: z.id, state: 'dispatched' });
    expect(origin.history.map((e) => e.state)).toContain('replaced');
  });

  it('a job queued at a node that is not the origin is retried through the parent too, once room appears', async () => {
    const { clock, add, h, s } = setup({ retryMs: 1000 });
    add('CPN.51', { cpuCores: 8 });
    const x = add('CPN.44', { cpuCores: 64 });
    await h.summaries();
    const job = await s('CPN.51').submit(template(), 'acme');
    await s('CPN.44').clusterDown(x.id, 'gone');
    // Nothing anywhere: the hand-back is refused and the job waits at CPN.44.
    expect(s('CPN.44').job(job.id)!.state).toBe('queued');
    const z = add('CPN', { province: '11' });
    clock.advance(2000);
    await s('CPN.44').tick();
    await settle(300);
    expect(s('CPN.44').job(job.id)).toBeUndefined();
    expect((await h.stores.get('CPN.51')!.get(job.id))!).toMatchObject({ owner: 'CPN', cluster: z.id });
  });

  it('re-placement at a node that is not the origin still walks the planner: a child asked by its parent', async () => {
    const { add, h, s } = setup();
    add('CPN.51', { cpuCores: 8 });
    const x = add('CPN.44', { cpuCores: 64, price: 0.1 });
    const y = add('CPN.44', { cpuCores: 64, price: 0.2 });
    await h.summaries();
    const job = await s('CPN.51').submit(template(), 'acme');
    expect(job).toMatchObject({ owner: 'CPN.44', cluster: x.id });
    await s('CPN.44').clusterDown(x.id, 'gone');
    await settle(300);
    const origin = (await h.stores.get('CPN.51')!.get(job.id))!;
    expect(origin).toMatchObject({ cluster: y.id, attempt: 2 });
  });
});

describe('cluster view', () => {
  it('refuses a cluster with an invalid figure, naming the field, and keeps the last good report', () => {
    const clock = createFakeClock(Date.UTC(2026, 10, 26, 8));
    const refused: { id: string; field: string; message: string }[] = [];
    const view = new ClusterView({
      clock,
      refused: (id, e) => refused.push({ id, field: e.field, message: e.message }),
    });
    const f = facts('CPN.51');
    const bad = { ...f, registration: { ...f.registration, pue: -1 } };
    view.upsert(bad);
    expect(refused).toEqual([{ id: f.id, field: 'pue', message: expect.stringMatching(/-1/) }]);
    expect(view.scheduler.index.rowOf(f.id)).toBe(-1);
    view.upsert(f);
    view.report(fullReport(f), clock.now());
    expect(view.scheduler.index.cpuAvail[view.scheduler.index.rowOf(f.id)]).toBe(64);
    const r = fullReport(f);
    view.report({ ...r, k2: { ...r.k2, cpuCores: Number.NaN } }, clock.now());
    expect(refused.at(-1)).toMatchObject({ id: f.id, field: 'available.cpuCores' });
    expect(view.scheduler.index.cpuAvail[view.scheduler.index.rowOf(f.id)]).toBe(64);
  });
});
