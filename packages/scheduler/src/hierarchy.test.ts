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

  it('each ranked subtree carries the data move its rank assumed; none without data', () => {
    const t = { ...task('t', { constraints: { userProvince: '31' } }), latencyTolerant: true };
    const withData = must(
      chooseSubtree([east, west], { ...t, data: { inputGib: 100, province: '31', outputGib: 10 } }),
    );
    const byPrefix = new Map(withData.ranked.map((r) => [r.prefix, r.transfer]));
    // Into Shanghai itself nothing crosses a boundary (free; read at 25 Gbps within the province); into Guizhou
    // 110 GiB at the default 0.3 元/GiB, the input at 5 Gbps.
    expect(byPrefix.get('CPN.31')).toMatchObject({ movedGib: 0, yuan: 0, province: '31' });
    expect(byPrefix.get('CPN.31')!.secondsToStart).toBeCloseTo((100 * 8 * 1.073741824) / 25, 6);
    expect(byPrefix.get('CPN.52')).toMatchObject({ movedGib: 110, province: '52' });
    expect(byPrefix.get('CPN.52')!.yuan).toBeCloseTo(33, 6);
    expect(byPrefix.get('CPN.52')!.secondsToStart).toBeCloseTo((100 * 8 * 1.073741824) / 5, 6);
    expect(must(chooseSubtree([east, west], t)).ranked.every((r) => r.transfer === undefined)).toBe(true);
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
