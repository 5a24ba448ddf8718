import { describe, expect, it } from 'vitest';
import { nextStep, type PlannerView, type PlanRequest, type Refusal } from './planner.ts';
import { summarise } from './hierarchy.ts';
import { cluster, indexOf, must, task } from './fixtures.test-helpers.ts';
import type { Task } from './model.ts';
import { createRng } from '@cpnet/kernel';
import { generateClusters, generateTasks } from './synthetic.ts';

const child = (prefix: string, province: string, price: number) =>
  must(summarise(prefix, [cluster(`${prefix}/c`, { provinceCode: province, pricePerCoreHourYuan: price })]));
const view = (over: Partial<PlannerView> = {}): PlannerView => ({
  code: 'CPN.31',
  parent: 'CPN',
  index: indexOf([cluster('home', { provinceCode: '31' })]),
  children: [child('CPN.31.C397', '31', 0.2), child('CPN.31.C151', '31', 0.1)],
  ...over,
});
const req = (t: Task, over: Partial<PlanRequest> = {}): PlanRequest => ({
  task: t,
  allowUp: true,
  excludeNodes: [],
  excludeClusters: [],
  ...over,
});
const big = task('big', { demand: { cpuCores: 90, memoryGib: 10 } });

/** Runs the walk as an executor would, every peer refusing; returns the steps in order. */
function walk(v: PlannerView, r: PlanRequest): string[] {
  const refusals: Refusal[] = [];
  const steps: string[] = [];
  for (let i = 0; i < 10; i++) {
    const p = must(nextStep(v, r, refusals)).step;
    if (p.kind === 'give-up') return [...steps, 'give-up'];
    if (p.kind === 'place-local') return [...steps, `local ${p.slices.map((s) => s.clusterId).join(',')}`];
    const node = p.prefix;
    steps.push(`${p.kind} ${node}`);
    refusals.push({ node, reason: 'no room' });
  }
  throw new Error('the walk did not end');
}

describe('nextStep: one pure planner for the hierarchy', () => {
  it('places locally first when a cluster fits', () => {
    const p = must(nextStep(view(), req(task('t')), []));
    expect(p.step).toMatchObject({ kind: 'place-local', slices: [{ clusterId: 'home', replicas: 1 }], unplaced: 0 });
  });

  it('local full: children cheapest first, then the parent, then gives up with every reason', () => {
    const v = view({
      index: indexOf([cluster('home', { provinceCode: '31', available: { ...cluster('x').capacity, cpuCores: 10 } })]),
    });
    expect(walk(v, req(big))).toEqual(['ask-child CPN.31.C151', 'ask-child CPN.31.C397', 'ask-parent CPN', 'give-up']);
    const first = must(nextStep(v, req(big), []));
    expect(first.notes[0]).toMatchObject({
      node: 'CPN.31',
      reason: expect.stringMatching(/^filter: cpu excluded 1 of 1/),
    });
  });

  it('latency-tolerant work goes to the parent first (东数西算), then local', () => {
    const t = task('w', { latencyTolerant: true });
    const p = must(nextStep(view(), req(t), []));
    expect(p.step).toMatchObject({ kind: 'ask-parent', prefix: 'CPN', why: 'east-data-west-compute' });
    // The offer carries this node's own bill: the parent must beat it.
    const local = must(nextStep(view(), req(t, { allowUp: false }), [])).step;
    expect(local.kind).toBe('place-local');
    expect(p.step.kind === 'ask-parent' && p.step.reserveYuan).toBe(local.kind === 'place-local' && local.costYuan);
    const back = must(nextStep(view(), req(t), [{ node: 'CPN', reason: 'nothing better' }]));
    expect(back.step.kind).toBe('place-local');
  });

  it('data has weight: heavy data stays where it lives, light data is still offered west', () => {
    const heavy = task('h', { latencyTolerant: true, data: { inputGib: 4096, province: '31' } });
    expect(must(nextStep(view(), req(heavy), [])).step.kind).toBe('place-local');
    const light = task('l', { latencyTolerant: true, data: { inputGib: 1, province: '31' } });
    expect(must(nextStep(view(), req(light), [])).step).toMatchObject({
      kind: 'ask-parent',
      prefix: 'CPN',
      why: 'east-data-west-compute',
    });
    // Heavy data living elsewhere (Beijing) pays to come here too: offered to the parent, which sees Beijing.
    const away = task('a', { latencyTolerant: true, data: { inputGib: 4096, province: '11' } });
    expect(must(nextStep(view(), req(away), [])).step.kind).toBe('ask-parent');
  });

  it('a parent ranks the subtree that holds heavy data first, a cheaper far one first for light data', () => {
    const v = view({
      code: 'CPN',
      parent: null,
      index: indexOf([]),
      children: [child('CPN.31', '31', 0.25), child('CPN.62', '62', 0.06)],
    });
    const heavy = task('h', { data: { inputGib: 4096, province: '31' } });
    const light = task('l', { data: { inputGib: 1, province: '31' } });
    expect(must(nextStep(v, req(heavy, { allowUp: false }), [])).step).toMatchObject({ prefix: 'CPN.31' });
    expect(must(nextStep(v, req(light, { allowUp: false }), [])).step).toMatchObject({ prefix: 'CPN.62' });
  });

  it('work offered west comes back rather than going somewhere dearer than the asker (its reserve)', () => {
    const v = view({
      code: 'CPN',
      parent: null,
      index: indexOf([]),
      children: [child('CPN.31', '31', 0.25), child('CPN.62', '62', 0.06), child('CPN.44', '44', 0.2)],
    });
    const t = task('w', { latencyTolerant: true });
    const ask = (reserveYuan?: number) =>
      must(nextStep(v, req(t, { allowUp: false, excludeNodes: ['CPN.31'], reserveYuan }), []));
    expect(ask().step).toMatchObject({ kind: 'ask-child', prefix: 'CPN.62' });
    const cheap = ask(1e6).step;
    expect(cheap).toMatchObject({ kind: 'ask-child', prefix: 'CPN.62' });
    // The asker's own bill is below every sibling's optimistic one: the parent refuses, naming why.
    const none = ask(0.01);
    expect(none.step.kind).toBe('give-up');
    expect(none.notes).toContainEqual({
      node: 'CPN.62',
      reason: expect.stringMatching(/^its bill [\d.]+ 元 is not below the asker's own 0\.01 元$/),
    });
    // Between the two: only the sibling that beats it is asked.
    const d = must(nextStep(v, req(t, { allowUp: false, excludeNodes: ['CPN.31'] }), [])).step;
    const bill62 = d.kind === 'ask-child' ? d.ranked.find((r) => r.prefix === 'CPN.62')!.estimatedCostYuan : 0;
    const bill44 = d.kind === 'ask-child' ? d.ranked.find((r) => r.prefix === 'CPN.44')!.estimatedCostYuan : 0;
    expect(bill62).toBeLessThan(bill44);
    const refusedFirst = must(
      nextStep(v, req(t, { allowUp: false, excludeNodes: ['CPN.31'], reserveYuan: (bill62 + bill44) / 2 }), [
        { node: 'CPN.62', reason: 'full' },
      ]),
    );
    expect(refusedFirst.step.kind).toBe('give-up');
  });

  it('asked by its parent, a node never asks the parent back nor an excluded child', () => {
    const v = view({ index: indexOf([]) });
    expect(walk(v, req(big, { allowUp: false, excludeNodes: ['CPN.31.C151'] }))).toEqual([
      'ask-child CPN.31.C397',
      'give-up',
    ]);
  });

  it('a gang that only partly fits is not placed locally, and the reason says how many fit', () => {
    const v = view({
      index: indexOf([cluster('a', { provinceCode: '31' }), cluster('b', { provinceCode: '31' })]),
      children: [],
    });
    const g = task('g', { demand: { cpuCores: 40, memoryGib: 1 }, replicas: 6, mode: 'gang' });
    const p = must(nextStep(v, req(g, { allowUp: false }), []));
    expect(p.step.kind).toBe('give-up');
    expect(p.notes[0]!.reason).toMatch(/^gang: 4 of 6 replicas fit across 2 clusters/);
    const s = must(nextStep(v, req({ ...g, mode: 'split' }, { allowUp: false }), []));
    expect(s.step).toMatchObject({ kind: 'place-local', unplaced: 2 });
  });

  it('plans a gang as the scheduler places it: one province before a cheaper spread over provinces', () => {
    const clusters = [
      cluster('w1', { provinceCode: '62', pricePerCoreHourYuan: 0.01 }),
      cluster('w2', { provinceCode: '65', pricePerCoreHourYuan: 0.01 }),
      cluster('e1', { provinceCode: '31' }),
      cluster('e2', { provinceCode: '31' }),
    ];
    const v = view({ index: indexOf(clusters), children: [] });
    const g = task('g', { demand: { cpuCores: 40, memoryGib: 1 }, replicas: 4, mode: 'gang' });
    const p = must(nextStep(v, req(g, { allowUp: false }), []));
    expect(p.step.kind).toBe('place-local');
    const ids = p.step.kind === 'place-local' ? p.step.slices.map((x) => x.clusterId).sort() : [];
    expect(ids).toEqual(['e1', 'e2']);
  });

  it('refuses a bad task with the field named, and skips clusters the caller excludes', () => {
    const bad = nextStep(view(), req(task('x', { replicas: 1.5 })), []);
    expect(!bad.ok && bad.error.field).toBe('task.replicas');
    const p = must(nextStep(view(), req(task('t'), { excludeClusters: ['home'] }), []));
    expect(p.step).toMatchObject({ kind: 'ask-child', prefix: 'CPN.31.C151' });
  });

  it('a refused child keeps its rank; the next one is asked (what escalate() did, now in the one walk)', () => {
    const v = view({ index: indexOf([]) });
    const first = must(nextStep(v, req(big), [{ node: 'CPN.31', reason: 'full' }])).step;
    expect(first).toMatchObject({ kind: 'ask-child', prefix: 'CPN.31.C151', rank: 1 });
    const next = must(nextStep(v, req(big), [{ node: 'CPN.31.C151', reason: 'capacity changed' }])).step;
    expect(next).toMatchObject({ kind: 'ask-child', prefix: 'CPN.31.C397', rank: 2 });
  });

  it('preempts lower-priority running work on a full cluster when the view shows the held jobs', () => {
    const ix = indexOf([cluster('home', { provinceCode: '31', available: { ...cluster('x').capacity, cpuCores: 5 } })]);
    const low = { id: 'low', task: task('low', { priority: 0 }), status: 'running', seq: 1, costYuan: 1, slices: [] };
    const slice = {
      row: 0,
      clusterId: 'home',
      replicas: 1,
      cpuCores: 95,
      memoryGib: 1,
      storageGib: 0,
      bandwidthGbps: 0,
    };
    const held = [{ ...low, slices: [{ ...slice, model: null, cards: 0 }] }] as never[];
    const t = task('hi', { priority: 5, demand: { cpuCores: 50, memoryGib: 1 } });
    const p = must(nextStep(view({ index: ix, heldOn: () => held, children: [] }), req(t, { allowUp: false }), []));
    expect(p.step).toMatchObject({ kind: 'place-local', slices: [{ clusterId: 'home' }], preempts: ['low'] });
    expect(ix.cpuAvail[0]).toBe(5);
    const none = must(nextStep(view({ index: ix, children: [] }), req(t, { allowUp: false }), []));
    expect(none.step.kind).toBe('give-up');
  });

  it('a dry-run selection may skip the westward offer and answer locally first', () => {
    const t = task('w', { latencyTolerant: true });
    expect(must(nextStep(view(), req(t, { offerWest: false }), [])).step.kind).toBe('place-local');
  });

  it('property: over seeded views, every walk ends, asks no node twice, never an excluded one, the parent only if allowed and last', () => {
    const rng = createRng(20261205);
    const tasks = generateTasks(rng, { count: 300 });
    for (let i = 0; i < tasks.length; i++) {
      const n = rng.int(5);
      const children = Array.from({ length: n }, (_, c) =>
        must(summarise(`CPN.31.C${c}`, generateClusters(rng, { count: 1 + rng.int(4), minFree: rng.next() }))),
      );
      const local = generateClusters(rng, { count: rng.int(3), minFree: rng.next() });
      const excluded = children.filter(() => rng.next() < 0.3).map((c) => c.prefix);
      const allowUp = rng.next() < 0.5;
      const v = view({ index: indexOf(local), children, parent: rng.next() < 0.8 ? 'CPN' : null });
      const r = req(tasks[i]!, { allowUp, excludeNodes: excluded });
      const steps = walk(v, r);
      const asked = steps.filter((x) => x.startsWith('ask-')).map((x) => x.split(' ')[1]!);
      expect(steps.length, `case ${i}`).toBeLessThanOrEqual(n + 2);
      expect(new Set(asked).size, `case ${i}: ${steps.join(', ')}`).toBe(asked.length);
      for (const x of excluded) expect(asked).not.toContain(x);
      if (!allowUp || v.parent === null) expect(asked).not.toContain('CPN');
      const up = steps.findIndex((x) => x === 'ask-parent CPN');
      // Last resort: nothing after the parent; westward (latency-tolerant): first.
      if (up >= 0) expect(up === steps.length - 2 || (up === 0 && tasks[i]!.latencyTolerant)).toBe(true);
    }
  });
});
