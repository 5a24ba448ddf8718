import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  admitToCohort,
  admitToCohortChecked,
  checkCohortConfig,
  usageOf,
  violation,
  type CohortConfig,
  type Workload,
} from './cohort.ts';
import { must } from './fixtures.test-helpers.ts';

const v = (cpuCores: number, memoryGib = 0, cards = 0) => ({ cpuCores, memoryGib, cards });
const wl = (id: string, queue: string, cores: number): Workload => ({
  id,
  queue,
  demand: v(cores),
  priority: 0,
  since: 0,
});

describe('cohorts: bad settings are refused naming the field', () => {
  const base: CohortConfig = {
    cohorts: [{ name: 'root' }, { name: 'east', parent: 'root' }],
    queues: [{ name: 'a', cohort: 'east', nominal: v(10) }],
  };
  it.each([
    [
      'a cohort cycle',
      {
        cohorts: [
          { name: 'x', parent: 'y' },
          { name: 'y', parent: 'x' },
        ],
        queues: [],
      },
      'cohorts.cohorts[0].parent',
      /cohort cycle x → y → x/,
    ],
    ['a self-parent', { cohorts: [{ name: 'x', parent: 'x' }], queues: [] }, 'cohorts.cohorts[0].parent', /cycle/],
    [
      'an unknown parent',
      { cohorts: [{ name: 'x', parent: 'nope' }], queues: [] },
      'cohorts.cohorts[0].parent',
      /unknown cohort nope/,
    ],
    [
      'a negative quota',
      { ...base, queues: [{ name: 'a', cohort: 'east', nominal: v(-1) }] },
      'cohorts.queues[0].nominal.cpuCores',
      /≥ 0/,
    ],
    [
      'a borrowing limit without a cohort',
      { queues: [{ name: 'a', nominal: v(1), borrowingLimit: { cpuCores: 2 } }] },
      'cohorts.queues[0].borrowingLimit',
      /needs a cohort/,
    ],
    [
      'a lending limit above nominal',
      { ...base, queues: [{ name: 'a', cohort: 'east', nominal: v(1), lendingLimit: { cpuCores: 2 } }] },
      'cohorts.queues[0].lendingLimit.cpuCores',
      /≤ the nominal/,
    ],
    [
      'an unknown cohort',
      { queues: [{ name: 'a', cohort: 'west', nominal: v(1) }] },
      'cohorts.queues[0].cohort',
      /unknown cohort west/,
    ],
    [
      'a duplicate queue',
      {
        queues: [
          { name: 'a', nominal: v(1) },
          { name: 'a', nominal: v(1) },
        ],
      },
      'cohorts.queues[1].name',
      /duplicate/,
    ],
  ] as const)('%s', (...[, config, field, message]) => {
    const e = checkCohortConfig(config as CohortConfig);
    expect(e?.error.field).toBe(field);
    expect(e?.error.message).toMatch(message);
    const r = admitToCohort(config as CohortConfig, [], wl('w', 'a', 1));
    expect(r.ok).toBe(false);
  });
  it('a good config passes', () => expect(checkCohortConfig(base)).toBeNull());
});

describe('cohorts: borrowing, lending, reclaim', () => {
  const config: CohortConfig = {
    cohorts: [{ name: 'root' }, { name: 'west', parent: 'root', lendingLimit: { cpuCores: 4 } }],
    queues: [
      { name: 'a', cohort: 'root', nominal: v(10), borrowingLimit: { cpuCores: 6 } },
      { name: 'b', cohort: 'root', nominal: v(10), lendingLimit: { cpuCores: 5 } },
      { name: 'w', cohort: 'west', nominal: v(10) },
    ],
  };
  it('a queue borrows what others leave, up to its borrowing limit', () => {
    const d = must(admitToCohort(config, [wl('a1', 'a', 10)], wl('a2', 'a', 6)));
    expect(d).toEqual({ admit: true, borrowed: v(6), reclaim: [] });
    const over = must(admitToCohort(config, [wl('a1', 'a', 10)], wl('a2', 'a', 7)));
    expect(over.admit).toBe(false);
    expect(!over.admit && over.reason).toMatch(
      /queue a would use 17 cpuCores, above its nominal 10 \+ borrowing limit 6/,
    );
  });
  it('lending limits bound what is lent: b lends 5, the child cohort west lends 4', () => {
    // No borrowing limit on b: b can take a's 10 and west's 4 = 14 above its nominal, not more.
    expect(must(admitToCohort(config, [], wl('b1', 'b', 24))).admit).toBe(true);
    const d = must(admitToCohort(config, [], wl('b1', 'b', 25)));
    expect(!d.admit && d.reason).toMatch(/cohort root lacks 1 cpuCores/);
  });
  it('a lender gets its nominal quota back: borrowers are reclaimed, lowest priority and newest first', () => {
    const running = [
      { ...wl('b1', 'b', 10), priority: 5 },
      { ...wl('b-old', 'b', 4), priority: 1 },
      { ...wl('b-new', 'b', 4), priority: 1, since: 9 },
      { ...wl('b-hi', 'b', 6), priority: 9, since: 9 },
    ];
    expect(violation(config, usageOf(running))).toBeNull();
    const d = must(admitToCohort(config, running, wl('a1', 'a', 10)));
    // b holds 24 of its 10 + 4 lent by west (a's 10 are a's again): 10 must go, priority 1 (newest first), then 5.
    expect(d).toEqual({ admit: true, borrowed: v(0), reclaim: ['b-new', 'b-old', 'b1'] });
  });
  it('a queue asking beyond its nominal quota never preempts', () => {
    const d = must(admitToCohort(config, [wl('b1', 'b', 24)], wl('a1', 'a', 11)));
    expect(d.admit).toBe(false);
  });
});

// Random trees of cohorts and queues, random admission attempts.
const arbConfig = fc
  .record({
    parents: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    queues: fc.array(
      fc.record({
        cohort: fc.nat(),
        nominal: fc.integer({ min: 0, max: 20 }),
        borrow: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        lend: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    cohortLend: fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }), { maxLength: 4 }),
  })
  .map(({ parents, queues, cohortLend }): CohortConfig => ({
    // Cohort i's parent is an earlier cohort (a tree), or none.
    cohorts: parents.map((p, i) => {
      const parent = i === 0 || p % 3 === 0 ? undefined : `c${p % i}`;
      const l = cohortLend[i];
      return {
        name: `c${i}`,
        ...(parent ? { parent } : {}),
        ...(parent && l !== undefined ? { lendingLimit: { cpuCores: l } } : {}),
      };
    }),
    queues: queues.map((q, i) => ({
      name: `q${i}`,
      cohort: `c${q.cohort % parents.length}`,
      nominal: v(q.nominal, q.nominal),
      ...(q.borrow !== undefined ? { borrowingLimit: { cpuCores: q.borrow } } : {}),
      ...(q.lend !== undefined ? { lendingLimit: { cpuCores: Math.min(q.lend, q.nominal) } } : {}),
    })),
  }));
const arbAsks = fc.array(
  fc.record({ queue: fc.nat(), cores: fc.integer({ min: 1, max: 15 }), priority: fc.integer({ min: 0, max: 3 }) }),
  { minLength: 1, maxLength: 30 },
);

describe('cohorts: properties', () => {
  it('no queue exceeds nominal + borrowing limit; the total stays within the cohorts’ capacity; a lender gets its nominal back', () => {
    fc.assert(
      fc.property(arbConfig, arbAsks, (config, asks) => {
        expect(checkCohortConfig(config)).toBeNull();
        let running: Workload[] = [];
        for (const [i, a] of asks.entries()) {
          const q = config.queues[a.queue % config.queues.length]!;
          const w: Workload = {
            id: `w${i}`,
            queue: q.name,
            demand: v(a.cores, a.cores),
            priority: a.priority,
            since: i,
          };
          const mine = usageOf(running).get(q.name) ?? v(0);
          const d = admitToCohortChecked(config, running, w);
          // A lender asking within its nominal quota always gets it.
          if (mine.cpuCores + a.cores <= q.nominal.cpuCores) expect(d.admit).toBe(true);
          if (!d.admit) continue;
          running = [...running.filter((r) => !d.reclaim.includes(r.id)), w];
          const u = usageOf(running);
          for (const x of config.queues)
            expect(u.get(x.name)?.cpuCores ?? 0).toBeLessThanOrEqual(
              x.nominal.cpuCores + (x.borrowingLimit?.cpuCores ?? Infinity) + 1e-9,
            );
          const total = [...u.values()].reduce((s, x) => s + x.cpuCores, 0);
          const capacity = config.queues.reduce((s, x) => s + x.nominal.cpuCores, 0);
          expect(total).toBeLessThanOrEqual(capacity + 1e-9);
          expect(violation(config, u)).toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });
});
