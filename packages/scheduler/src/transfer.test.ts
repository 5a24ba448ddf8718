import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cluster, indexOf, must, task } from './fixtures.test-helpers.ts';
import { select, feasibleCosts } from './select.ts';
import { DEFAULT_TRANSFER, checkTransferTable, estimateTransfer, transferMatrix } from './transfer.ts';
import { DEFAULT_COST_MODEL } from './cost.ts';
import { provinceRow } from './cluster-index.ts';

// Two clusters: one near the data (Beijing, dearer cards) and one west (Gansu, cheaper cards).
const near = cluster('bj', { provinceCode: '11', pricePerCardHourYuan: 12 });
const west = cluster('gs', { provinceCode: '62', pricePerCardHourYuan: 8 });
const train = (inputGib: number) =>
  task('train', {
    demand: { cpuCores: 8, memoryGib: 64, accelerator: { model: 'A800', count: 4 } },
    durationHours: 10,
    latencyTolerant: true,
    data: { inputGib, province: '11', outputGib: inputGib / 10 },
  });

describe('data has weight', () => {
  it('small-data training goes west, large-data training stays near its data', () => {
    const ix = indexOf([near, west]);
    const small = must(select(ix, train(50), { k: 2 })).candidates;
    expect(small[0]!.clusterId).toBe('gs');
    const large = must(select(ix, train(2000), { k: 2 })).candidates;
    expect(large[0]!.clusterId).toBe('bj');
  });

  it('the explanation shows the transfer cost and time, included in the bill', () => {
    const ix = indexOf([near, west]);
    const c = must(select(ix, train(100), { k: 2 })).candidates;
    const g = c.find((x) => x.clusterId === 'gs')!,
      b = c.find((x) => x.clusterId === 'bj')!;
    // 100 GiB in + 10 GiB out across provinces at 0.3 元/GiB; 100 GiB at 5 Gbps ≈ 172 s.
    expect(g.transfer!.yuan).toBeCloseTo(110 * 0.3, 6);
    expect(g.transfer!.movedGib).toBe(110);
    expect(g.transfer!.secondsToStart).toBeCloseTo((100 * 8 * 1.073741824) / 5, 3);
    expect(b.transfer!.yuan).toBe(0);
    expect(b.transfer!.movedGib).toBe(0);
    const without = must(select(ix, { ...train(100), data: undefined }, { k: 2 })).candidates.find(
      (x) => x.clusterId === 'gs',
    )!;
    expect(g.costYuan - without.costYuan).toBeCloseTo(33, 6);
    expect(without.transfer).toBeUndefined();
  });

  it('latency-tolerant work still pays to move its data', () => {
    const ix = indexOf([west]);
    const tol = must(feasibleCosts(ix, train(1000))).costs[0]!;
    const none = must(feasibleCosts(ix, { ...train(1000), data: undefined })).costs[0]!;
    expect(tol - none).toBeCloseTo(1100 * 0.3, 6);
  });

  it('a pair override changes price and bandwidth; the transfer time counts against the deadline', () => {
    const transfer = {
      ...DEFAULT_TRANSFER,
      pairs: [{ from: '11', to: '62', pricePerGibYuan: 0.01, bandwidthGbps: 1 }],
    };
    const ix = indexOf([west]);
    const c = must(select(ix, train(100), { costModel: { ...DEFAULT_COST_MODEL, transfer } })).candidates[0]!;
    expect(c.transfer!.yuan).toBeCloseTo(110 * 0.01, 6);
    expect(c.transfer!.secondsToStart).toBeCloseTo(100 * 8 * 1.073741824, 3);
    // 10 h of work, 10 min to spare: 100 GiB at 1 Gbps (≈ 14 min) misses the deadline, at 5 Gbps (≈ 3 min) it fits.
    const now = 1_000_000;
    const clock = { now: () => now };
    const deadline = now + 10 * 3_600_000 + 10 * 60_000;
    const t = { ...train(100), constraints: { deadline } };
    const slow = must(select(ix, t, { clock, costModel: { ...DEFAULT_COST_MODEL, transfer } }));
    expect(slow.feasible).toBe(0);
    expect(slow.excludedBy.deadline).toBe(1);
    expect(must(select(ix, t, { clock })).feasible).toBe(1);
  });

  it('bad input is refused naming the field', () => {
    const ix = indexOf([west]);
    const neg = select(ix, { ...train(1), data: { inputGib: -1, province: '11' } });
    expect(!neg.ok && neg.error.field).toBe('task.data.inputGib');
    const prov = select(ix, { ...train(1), data: { inputGib: 1, province: '99' } });
    expect(!prov.ok && prov.error.field).toBe('task.data.province');
    const out = select(ix, { ...train(1), data: { inputGib: 1, province: '11', outputGib: -2 } });
    expect(!out.ok && out.error.field).toBe('task.data.outputGib');
    const table = { ...DEFAULT_TRANSFER, pairs: [{ from: '11', to: 'XX' }] };
    const bad = select(ix, train(1), { costModel: { ...DEFAULT_COST_MODEL, transfer: table } });
    expect(!bad.ok && bad.error.field).toBe('costModel.transfer.pairs[0].to');
    expect(checkTransferTable({ ...DEFAULT_TRANSFER, interProvinceBandwidthGbps: 0 })?.error.field).toBe(
      'costModel.transfer.interProvinceBandwidthGbps',
    );
    expect(checkTransferTable({ ...DEFAULT_TRANSFER, intraProvincePricePerGibYuan: -1 })?.error.field).toBe(
      'costModel.transfer.intraProvincePricePerGibYuan',
    );
  });

  it('property: transfer cost is linear in the data size, zero within the province under the defaults', () => {
    const m = transferMatrix(DEFAULT_TRANSFER);
    const codes = ['11', '31', '44', '51', '62', '65'];
    fc.assert(
      fc.property(
        fc.tuple(
          fc.constantFrom(...codes),
          fc.constantFrom(...codes),
          fc.integer({ min: 0, max: 10_000 }),
          fc.integer({ min: 0, max: 10_000 }),
        ),
        ([from, to, inGib, outGib]) => {
          const d = { inRow: provinceRow(from), outRow: provinceRow(from), inGib, outGib };
          const e = estimateTransfer(m, d, provinceRow(to));
          const twice = estimateTransfer(m, { ...d, inGib: 2 * inGib, outGib: 2 * outGib }, provinceRow(to));
          expect(twice.yuan).toBeCloseTo(2 * e.yuan, 6);
          expect(e.yuan).toBeGreaterThanOrEqual(0);
          if (from === to) expect(e.yuan).toBe(0);
          else expect(e.movedGib).toBe(inGib + outGib);
        },
      ),
      { numRuns: 200 },
    );
  });
});
