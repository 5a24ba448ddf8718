import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { formatTime, JobUpdate } from '@cpnet/protocol';
import { QuotaExceeded } from './service.ts';
import { facts, fullReport, hierarchy, judge, settle, template, until } from './testing.ts';

const TREE = { CPN: null, 'CPN.51': 'CPN', 'CPN.44': 'CPN' } as const;
const states = (h: { state: string }[]) => h.map((e) => e.state);

function setup(options: Parameters<typeof hierarchy>[1]['options'] = {}) {
  const clock = createFakeClock(Date.UTC(2026, 10, 26, 8));
  const h = hierarchy(TREE, { clock, options });
  const add = (node: string, over: Parameters<typeof facts>[1] = {}) => {
    const f = facts(node, over);
    const s = h.services.get(node)!;
    s.upsertCluster(f);
    s.onReport([fullReport(f)], clock.now());
    return f;
  };
  return { clock, h, add, s: (c: string) => h.services.get(c)! };
}

describe('scheduling service', () => {
  it("places locally: scheduled, confirmed by the gateway, dispatched; the gateway's updates finish it and meter it", async () => {
    const { clock, h, add, s } = setup();
    const c = add('CPN.51');
    const job = await s('CPN.51').submit(template(), 'acme');
    expect(job).toMatchObject({ state: 'dispatched', cluster: c.id, owner: 'CPN.51' });
    expect(states(job.history)).toEqual(['submitted', 'scheduled', 'confirmed', 'dispatched']);
    expect(h.gateways.get('CPN.51')!.sent[0]).toMatchObject({ job: job.id, cluster: c.id, attempt: 1 });
    const upd = (state: string, ms: number) =>
      JobUpdate.parse({
        protocol: '1.0',
        seq: 1,
        job: job.id,
        cluster: c.id,
        attempt: 1,
        state,
        at: formatTime(clock.now() + ms),
      });
    await s('CPN.51').onJobUpdate(upd('running', 0));
    clock.advance(1_800_000);
    await s('CPN.51').onJobUpdate(upd('finished', 0));
    const stored = await h.stores.get('CPN.51')!.get(job.id);
    expect(stored!.state).toBe('finished');
    expect(h.stores.get('CPN.51')!.lines[0]).toMatchObject({ tenant: 'acme@CPN.51', coreHours: 8, amountYuan: 0.8 });
  });

  it('a subtree chosen for a job with data: its history and explanation carry the data move the rank assumed', async () => {
    const { h, add, s } = setup();
    add('CPN.51', { cpuCores: 64, price: 0.05 });
    add('CPN.44', { cpuCores: 64, price: 0.3 });
    await h.summaries();
    const job = await s('CPN').submit(
      template({ latencyTolerant: true, ext: { data: { inputGib: 100, province: '44', outputGib: 10 } } }),
      'acme',
    );
    expect(job.state).toBe('dispatched');
    const at = job.history.find((e) => e.node === 'CPN' && e.state === 'scheduled')!;
    expect(at.detail).toMatch(
      /^subtree CPN\.\d\d .*; data: (0|110) GiB moved into (44|51), [\d.]+ 元, \d+ s to start\)$/,
    );
    const ev = h.events.find((e) => e.node === 'CPN' && e.type === 'job.schedule' && e.data?.explanation)!;
    const ex = ev.data!.explanation as {
      chosen: string;
      transfer?: { movedGib: number };
      rejected: { target: string; transfer?: { movedGib: number } }[];
    };
    // Both subtrees were ranked with their move: the chosen one's and the other's.
    const moves = [ex.transfer?.movedGib, ex.rejected.find((r) => r.target.startsWith('CPN.'))?.transfer?.movedGib];
    expect(moves.sort()).toEqual([0, 110]);
  });

  it('latency-tolerant work offered west comes back when no other subtree beats the asker’s own bill', async () => {
    const { h, add, s } = setup();
    const home = add('CPN.51', { cpuCores: 64, price: 0.05 });
    const far = add('CPN.44', { cpuCores: 64, price: 0.3 });
    await h.summaries();
    const cheapHere = await s('CPN.51').submit(template({ latencyTolerant: true }), 'acme');
    expect(cheapHere).toMatchObject({ state: 'dispatched', cluster: home.id });
    // Offered to the parent first (东数西算), which refused: Guangdong's bill is not below Sichuan's own.
    expect(cheapHere.history.map((e) => `${e.state}@${e.node}`).slice(0, 3)).toEqual([
      'submitted@CPN.51',
      'escalated@CPN.51',
      'scheduled@CPN.51',
    ]);
    // Where the other subtree is cheaper, the offer is taken there.
    const { h: h2, add: add2, s: s2 } = setup();
    add2('CPN.51', { cpuCores: 64, price: 0.3 });
    const cheapFar = add2('CPN.44', { cpuCores: 64, price: 0.05 });
    await h2.summaries();
    const moved = await s2('CPN.51').submit(template({ latencyTolerant: true }), 'acme');
    expect(moved).toMatchObject({ state: 'dispatched', cluster: cheapFar.id });
    void far;
  });

  it('escalates to the parent, which places in another province; history and metering reach the origin', async () => {
    const { clock, h, add, s } = setup();
    add('CPN.51', { cpuCores: 8 });
    const far = add('CPN.44', { cpuCores: 128 });
    await h.summaries();
    const job = await s('CPN.51').submit(template({ demand: { cpuCores: 32, memoryGib: 64 } }), 'acme');
    expect(job.state).toBe('dispatched');
    expect(job.cluster).toBe(far.id);
    expect(states(job.history)).toEqual([
      'submitted',
      'escalated',
      'scheduled',
      'scheduled',
      'confirmed',
      'dispatched',
    ]);
    expect(job.history.map((e) => e.node)).toEqual(['CPN.51', 'CPN.51', 'CPN', 'CPN.44', 'CPN.44', 'CPN.44']);
    await s('CPN.44').onJobUpdate(
      JobUpdate.parse({
        protocol: '1.0',
        seq: 1,
        job: job.id,
        cluster: far.id,
        attempt: 1,
        state: 'finished',
        // The gateway's clock is the node's (the harness's): a time far from it would be refused.
        at: formatTime(clock.now()),
      }),
    );
    // The finish travels back to the origin through two relays: wait for it (5 s of wall time at most).
    await until(async () => (await h.stores.get('CPN.51')!.get(job.id))?.state === 'finished');
    expect((await h.stores.get('CPN.51')!.get(job.id))!.state).toBe('finished');
  });

  it('retries elsewhere when the owner refuses (its gateway says no room)', async () => {
    const { h, add, s } = setup();
    add('CPN.51', { cpuCores: 8 });
    const cheap = add('CPN.44', { price: 0.05 });
    const other = add('CPN', { province: '11' });
    h.gateways.get('CPN.44')!.refuse.add(cheap.id);
    await h.summaries();
    const job = await s('CPN.51').submit(template(), 'acme');
    expect(job.cluster).toBe(other.id);
  });

  it('re-places the jobs of a cluster that stops reporting, and fails back with hysteresis', async () => {
    const { clock, h, s } = setup({
      failback: { minHealthyMs: 5000, minMoveIntervalMs: 0, minImprovement: 0.05 },
    });
    // Liveness is the aggregation's verdict (its table and sweep), fed to the service.
    const j = judge(s('CPN.51'), { clock, timeouts: { degradedAfterMs: 500, downAfterMs: 1000 } });
    const home = facts('CPN.51', { price: 0.05 });
    const spare = facts('CPN.51', { price: 0.2 });
    j.add(home);
    j.add(spare);
    await j.report([fullReport(home), fullReport(spare)]);
    const job = await s('CPN.51').submit(template(), 'acme');
    expect(job.cluster).toBe(home.id);
    clock.advance(1500);
    await j.report([fullReport(spare)]);
    await j.sweep();
    const x = s('CPN.51').job(job.id)!;
    expect(x).toMatchObject({ cluster: spare.id, attempt: 2, state: 'dispatched' });
    expect(states(x.history)).toContain('replaced');
    await j.report([fullReport(home), fullReport(spare)]);
    await s('CPN.51').tick();
    expect(s('CPN.51').job(job.id)!.cluster).toBe(spare.id);
    clock.advance(6000);
    await j.report([fullReport(home), fullReport(spare)]);
    await s('CPN.51').tick();
    expect(s('CPN.51').job(job.id)).toMatchObject({ cluster: home.id, attempt: 3 });
    expect(h.gateways.get('CPN.51')!.cancels.map((c) => c.reason)).toContain('replaced');
  });

  it('preempts lower-priority work and re-places the victim elsewhere', async () => {
    const { h, add, s } = setup();
    const only = add('CPN.51', { cpuCores: 32 });
    const other = add('CPN.44', { cpuCores: 64 });
    await h.summaries();
    const low = await s('CPN.51').submit(template({ demand: { cpuCores: 32, memoryGib: 64 }, priority: 10 }), 'acme');
    expect(low.cluster).toBe(only.id);
    const high = await s('CPN.51').submit(template({ demand: { cpuCores: 32, memoryGib: 64 }, priority: 500 }), 'acme');
    expect(high.cluster).toBe(only.id);
    await settle();
    const v = (await h.stores.get('CPN.51')!.get(low.id))!;
    expect(states(v.history)).toContain('preempted');
    expect(v.cluster).toBe(other.id);
    expect(h.gateways.get('CPN.51')!.cancels).toContainEqual({ cluster: only.id, job: low.id, reason: 'preempted' });
  });

  it('sends a preemption cancel again each tick until the gateway, away when it was first sent, hears it', async () => {
    const { h, add, s } = setup();
    const only = add('CPN.51', { cpuCores: 32 });
    add('CPN.44', { cpuCores: 64 });
    await h.summaries();
    const gw = h.gateways.get('CPN.51')!;
    const low = await s('CPN.51').submit(template({ demand: { cpuCores: 32, memoryGib: 64 }, priority: 10 }), 'acme');
    gw.away.add(only.id);
    await s('CPN.51').submit(template({ demand: { cpuCores: 32, memoryGib: 64 }, priority: 500 }), 'acme');
    await settle();
    await s('CPN.51').tick();
    await settle();
    expect(gw.cancels).toEqual([]);
    gw.away.delete(only.id);
    await s('CPN.51').tick();
    await settle();
    await s('CPN.51').tick();
    await settle();
    expect(gw.cancels).toEqual([{ cluster: only.id, job: low.id, reason: 'preempted' }]);
  });

  it("refuses a submission over the tenant's quota", async () => {
    const { add, s } = setup({ quotas: { acme: { cpuCores: 40 } } });
    add('CPN.51');
    await s('CPN.51').submit(template(), 'acme');
    await s('CPN.51').submit(template(), 'acme');
    await expect(s('CPN.51').submit(template(), 'acme')).rejects.toBeInstanceOf(QuotaExceeded);
  });

  it('answers a selection no cluster can satisfy with the constraint that excluded everything', async () => {
    const { h, add, s } = setup();
    add('CPN.51');
    add('CPN.44');
    await h.summaries();
    const a = await s('CPN.51').select(template({ demand: { cpuCores: 8, memoryGib: 4096 } }), 5);
    expect(a.candidates).toEqual([]);
    expect(a.summary).toMatch(/memory/);
    expect(a.excluded[0]!.constraint).toBe('memory');
  });

  it('re-places through another child when a child node stops reporting', async () => {
    const { clock, h, add, s } = setup({ childDownAfterMs: 1000 });
    add('CPN.51', { cpuCores: 8 });
    const a = add('CPN.44');
    await h.summaries();
    const job = await s('CPN.51').submit(template(), 'acme');
    expect(job.cluster).toBe(a.id);
    const b = add('CPN', { province: '11' });
    h.down.add('CPN.44');
    clock.advance(1500);
    await h.summaries();
    await s('CPN').tick();
    await settle();
    expect((await h.stores.get('CPN.51')!.get(job.id))!).toMatchObject({ cluster: b.id, attempt: 2 });
  });

  it('cancels idempotently, across the hierarchy', async () => {
    const { h, add, s } = setup();
    add('CPN.51', { cpuCores: 8 });
    const far = add('CPN.44');
    await h.summaries();
    const job = await s('CPN.51').submit(template(), 'acme');
    await s('CPN.51').cancel(job.id, 'acme');
    // The stop order travels to the far node's gateway through relayed promises: wait for it (a fixed 30 ms pause
    // was too short on a loaded machine), at most 5 s of wall time.
    const cancels = h.gateways.get('CPN.44')!.cancels;
    expect(await until(() => cancels.some((c) => c.job === job.id))).toBe(true);
    const again = await s('CPN.51').cancel(job.id, 'acme');
    expect(again!.state).toBe('cancelled');
    expect(again!.history.filter((e) => e.state === 'cancelled')).toHaveLength(1);
    expect(cancels).toContainEqual({ cluster: far.id, job: job.id, reason: 'cancelled' });
    expect(cancels.filter((c) => c.job === job.id)).toHaveLength(1);
  });
});
