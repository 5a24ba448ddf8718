import { describe, expect, it } from 'vitest';
import { dataGravity, type PricedCluster } from './data-gravity.ts';

const east: PricedCluster = { province: '31', pricePerCoreHourYuan: 0.25, pricePerCardHourYuan: 0 };
const west: PricedCluster = { province: '62', pricePerCoreHourYuan: 0.06, pricePerCardHourYuan: 0 };

describe('dataGravity: data moved and the saving net of transfer, from placements', () => {
  it('counts the GiB and 元 of moving data west against keeping every job with its data', () => {
    const g = dataGravity(
      [
        // 128 core-hours west: 7.68 元 instead of 32 元 at home, 11 GiB moved at the default 0.3 元/GiB = 3.3 元.
        { data: { inputGib: 10, province: '31', outputGib: 1 }, coreHours: 128, cardHours: 0, cluster: west },
        // 4 TiB stays home: nothing moved, no saving.
        { data: { inputGib: 4096, province: '31' }, coreHours: 128, cardHours: 0, cluster: east },
      ],
      [east, west],
    );
    expect(g.jobs).toBe(2);
    expect(g.movedGib).toBe(11);
    expect(g.transferYuan).toBeCloseTo(3.3, 6);
    expect(g.computeYuan).toBeCloseTo(7.68 + 32, 6);
    expect(g.stayYuan).toBeCloseTo(64, 6);
    expect(g.savingNetYuan).toBeCloseTo(64 - 39.68 - 3.3, 6);
    expect(g.withoutHomeCluster).toBe(0);
  });

  it('a 4 TiB job sent west shows a loss net of transfer; a job with no cluster in its data province is left out', () => {
    const g = dataGravity(
      [
        { data: { inputGib: 4096, province: '31' }, coreHours: 128, cardHours: 0, cluster: west },
        { data: { inputGib: 1, province: '11' }, coreHours: 1, cardHours: 0, cluster: west },
      ],
      [east, west],
    );
    expect(g.movedGib).toBe(4097);
    expect(g.savingNetYuan).toBeCloseTo(32 - 7.68 - 4096 * 0.3, 6);
    expect(g.savingNetShare).toBeLessThan(-30);
    expect(g.withoutHomeCluster).toBe(1);
  });
});
