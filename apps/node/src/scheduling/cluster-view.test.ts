import { describe, expect, it } from 'vitest';
import { summarise } from '@cpnet/scheduler';
import { createFakeClock } from '@cpnet/kernel';
import { capacityOf } from './admission.ts';
import { ceilingOf } from './ceiling.ts';
import { ClusterView } from './cluster-view.ts';
import { toTask } from './mapping.ts';
import { facts, fullReport, template } from './testing.ts';

// The node's free capacity as one account: K1 less the jobs it holds (authoritative) less the use it does not hold,
// which only a fresh report sets. Times are the fake clock's (node time, virtual).
function setup() {
  const clock = createFakeClock(Date.UTC(2026, 11, 5, 8));
  const view = new ClusterView({ clock });
  const f = facts('CPN.35', { cpuCores: 12 });
  view.upsert(f);
  const r = fullReport(f);
  /** The gateway's report of `used` cores in use, arrived at `at`. */
  const report = (used: number, at = clock.now()) =>
    view.report({ ...r, k2: { ...r.k2, cpuCores: r.k1.cpuCores - used } }, at);
  const free = () => view.scheduler.index.cpuAvail[view.scheduler.index.rowOf(f.id)];
  let n = 0;
  /** A one-core job placed and dispatched: in flight until the returned function (the gateway's answer) runs. */
  const place = (): { id: string; answered: () => void } => {
    const id = `j${n++}`;
    const t = toTask(template({ demand: { cpuCores: 1, memoryGib: 4 } }), { id, tenant: 'fa@CPN.35' });
    expect(view.scheduler.submit(t).ok).toBe(true);
    const answered = view.inFlight(f.id);
    view.adjust(f.id);
    clock.advance(5);
    return { id, answered };
  };
  const finish = (id: string) => {
    const applied = view.inFlight(f.id);
    view.scheduler.release(id);
    view.adjust(f.id);
    applied();
    clock.advance(5);
  };
  return { clock, view, f, report, free, place, finish };
}

describe('free capacity: one account per cluster', () => {
  it('a report the gateway took before the dispatches never undoes them (12 jobs on 12 cores leave 0 free)', () => {
    const { clock, report, free, place } = setup();
    report(0);
    const jobs = Array.from({ length: 12 }, () => place());
    // Taken while the gateway had 11 of them, it arrives after all 12 were placed, before the last answer, and is
    // applied (after its durable write) once all are answered.
    const arrived = clock.now();
    clock.advance(5);
    for (const j of jobs) j.answered();
    report(11, arrived);
    expect(free()).toBe(0);
    // A fresh report that counts them all agrees.
    clock.advance(10);
    report(12);
    expect(free()).toBe(0);
  });

  it('a report crossing an order in flight does not change the use the node does not hold', () => {
    const { clock, report, free, place } = setup();
    report(3); // other work takes 3 cores
    expect(free()).toBe(9);
    const j = place();
    // Taken before the gateway had the dispatch: 3 in use. Fresh, it would read 3 − 1 = 2 cores of other work.
    report(3);
    expect(free()).toBe(8);
    j.answered();
    clock.advance(10);
    report(4);
    expect(free()).toBe(8);
    // Other work ends: the next fresh report frees it; the node's own job stays counted.
    clock.advance(10);
    report(1);
    expect(free()).toBe(11);
  });

  it('a report taken before a finish, applied after it, leaves no phantom use', () => {
    const { clock, report, free, place, finish } = setup();
    const jobs = [place(), place()];
    for (const j of jobs) j.answered();
    clock.advance(10);
    report(2);
    expect(free()).toBe(10);
    const arrived = clock.now();
    finish(jobs[0]!.id);
    report(2, arrived);
    expect(free()).toBe(11);
    clock.advance(10);
    report(1);
    expect(free()).toBe(11);
  });

  it('a job the gateway does not count stays the node’s (never more free than K1 less what it holds)', () => {
    const { clock, report, free, place } = setup();
    place().answered();
    clock.advance(10);
    report(0);
    expect(free()).toBe(11);
  });
});

describe('active capacity (fair admission)', () => {
  it('is the K1 of the active clusters not down, as the full rows give it', () => {
    const clock = createFakeClock(Date.UTC(2026, 11, 5, 8));
    const view = new ClusterView({ clock });
    const a = facts('CPN.35', { cpuCores: 12, cards: 2, id: 'CPN.35/CL-A' });
    const b = facts('CPN.35', { cpuCores: 20, cards: 4, id: 'CPN.35/CL-B' });
    const c = facts('CPN.35', { cpuCores: 30, id: 'CPN.35/CL-C' });
    const d = facts('CPN.35', { cpuCores: 40, id: 'CPN.35/CL-D' });
    for (const f of [a, b, c, d]) view.upsert(f);
    const same = () => {
      expect(view.activeCapacity()).toEqual(capacityOf(view.clusters()));
      // The ceiling from the view's facts and reports, as from the full rows; and the identifiers.
      expect(ceilingOf(view.capacities())).toEqual(ceilingOf(view.clusters()));
      expect(view.ids()).toEqual(view.clusters().map((c) => c.id));
      // The summary for the parent, from the index without rows, as from the full rows.
      const full = summarise('CPN.35', view.clusters());
      expect(full.ok && view.summary('CPN.35')).toEqual(full.ok && full.value);
    };
    same();
    // A report's K1 replaces the registration's (here more cores and cards).
    const r = fullReport(b);
    view.report({ ...r, k1: { ...r.k1, cpuCores: 24, accelerators: [{ ...r.k1.accelerators[0]!, count: 6 }] } }, 1);
    view.markDown(c.id);
    view.upsert({ ...d, lifecycle: 'suspended' });
    same();
    // Cards in use at a cluster: the summary's available cards are the index's.
    const k2 = { ...r.k2, cpuCores: 10, accelerators: [{ ...r.k2.accelerators[0]!, count: 1 }] };
    expect(view.scheduler.index.setAvailable(b.id, k2).ok).toBe(true);
    view.setHealth(a.id, 'degraded');
    same();
    expect(view.summary('CPN.35').available.cards).toEqual({ [r.k1.accelerators[0]!.model]: 3 });
    expect(view.activeCapacity()).toEqual({ cpuCores: 36, memoryGib: 1024, cards: 8 });
    view.upsert({ ...a, lifecycle: 'revoked' });
    same();
  });
});

describe('the same entry again (a gateway naming the cluster unchanged)', () => {
  it('leaves the scheduler exactly as the entry sent anew would, through jobs, health, lifecycle and freshness', () => {
    // Two views fed the same story; one gets the same entry object again, the other an equal copy each time.
    const run = (copy: boolean) => {
      const { clock, view, f, place, finish } = setup();
      const r = fullReport(f);
      const entry = { ...r, k2: { ...r.k2, cpuCores: r.k1.cpuCores - 2 } };
      const send = () => view.report(copy ? structuredClone(entry) : entry, clock.now());
      const snapshot: unknown[] = [];
      // The cluster's identifier differs between the two setups: everything else must not.
      const look = () =>
        snapshot.push(
          view.clusters().map((c) => ({ ...c, id: 'X' })),
          view.activeCapacity(),
          view.summary('CPN.35'),
        );
      send();
      look();
      const j = place();
      send(); // crossing the dispatch in flight: not fresh
      look();
      j.answered();
      clock.advance(10);
      send(); // fresh: the gateway counts 2 cores of use, one of them the node's job
      look();
      view.setHealth(f.id, 'degraded');
      send();
      look();
      view.upsert({ ...f, lifecycle: 'suspended' });
      send();
      look();
      view.upsert(f);
      finish(j.id);
      clock.advance(10);
      send();
      look();
      view.markDown(f.id);
      send();
      look();
      return snapshot;
    };
    expect(run(false)).toEqual(run(true));
  });
});
