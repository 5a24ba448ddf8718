import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clusterArb, dominated, taskArb } from './testing.ts';
import { chooseSubtree, summarise } from './hierarchy.ts';
import { cluster, task, must } from './fixtures.test-helpers.ts';

const east = must(
  summarise('CPN.31', [
    cluster('e1', { provinceCode: '31', pricePerCoreHourYuan: 0.12, greenShare: 0.2, latencyMsTo: { '31': 2 } }),
  ]),
);
const west = must(
  summarise('CPN.52', [
    cluster('w1', { provinceCode: '52', pricePerCoreHourYuan: 0.07, greenShare: 0.7, latencyMsTo: { '31': 28 } }),
  ]),
);

describe('hierarchy', () => {
  it('excludes subtrees with a reason and sends latency-tolerant work west (东数西算)', () => {
    const base = task('t', { constraints: { userProvince: '31' }, latencyTargetMs: 10, objective: 'latency' });
    expect(must(chooseSubtree([east, west], base)).ranked[0]!.prefix).toBe('CPN.31');
    const tolerant = must(chooseSubtree([east, west], { ...base, latencyTolerant: true }));
    expect(tolerant.ranked[0]).toMatchObject({ prefix: 'CPN.52', western: true });
    const resid = must(chooseSubtree([east, west], { ...base, constraints: { residency: { provinces: ['31'] } } }));
    expect(resid.excluded).toEqual([{ prefix: 'CPN.52', reason: expect.stringContaining('data residency') }]);
  });

  it('never ranks by NaN: a subtree with no latency to the user province scores worst on latency, finitely', () => {
    const silent = must(
      summarise('CPN.11', [
        cluster('x1', { provinceCode: '11', pricePerCoreHourYuan: 0.3, greenShare: 0.1, latencyMsTo: {} }),
      ]),
    );
    const d = must(
      chooseSubtree([silent, east, west], {
        ...task('t', { constraints: { userProvince: '31' } }),
        latencyTolerant: true,
      }),
    );
    for (const r of d.ranked) expect(Number.isFinite(r.score)).toBe(true);
    expect(d.ranked[0]!.prefix).toBe('CPN.52');
    expect(d.ranked.at(-1)!.prefix).toBe('CPN.11');
  });
});

describe('chooseSubtree ranks by expected cost, absolutely', () => {
  it('property: a child subtree dominated by A and B on every figure never changes which of them ranks first', () => {
    fc.assert(
      fc.property(clusterArb('A'), clusterArb('B'), taskArb, (a, b, t) => {
        const sa = must(summarise('CPN.A', [a])),
          sb = must(summarise('CPN.B', [b])),
          sz = must(summarise('CPN.Z', [dominated(a, b, 'Z')]));
        const first = (xs: (typeof sa)[]) =>
          must(chooseSubtree(xs, t)).ranked.find((r) => r.prefix !== 'CPN.Z')?.prefix;
        expect(first([sa, sb, sz])).toBe(first([sa, sb]));
      }),
      { seed: 20261126, numRuns: 200 },
    );
  });
});
