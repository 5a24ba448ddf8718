import { describe, expect, it } from 'vitest';
import { createRegistry } from '../policy.ts';
import { select } from '../select.ts';
import { runKit } from '../testing.ts';
import { cluster, indexOf, must, task } from '../fixtures.test-helpers.ts';
import { maintenance, transferFee } from './transfer-fee.ts';

const ix = indexOf([
  cluster('far', { provinceCode: '52', nodePrefix: 'CPN.52', pricePerCoreHourYuan: 0.05 }),
  cluster('home', { provinceCode: '31', nodePrefix: 'CPN.31', pricePerCoreHourYuan: 0.1 }),
]);
const t = task('t', {
  demand: { cpuCores: 10, memoryGib: 10, storageGib: 500 },
  constraints: { userProvince: '31' },
  latencyTolerant: true,
});

describe('example plugins (docs/add-a-policy.md)', () => {
  it('a transfer fee moves the choice home; a draining node is excluded with its reason', () => {
    expect(must(select(ix, t)).candidates[0]!.clusterId).toBe('far');
    const fee = must(createRegistry({ scores: [transferFee(0.01)] }));
    const withFee = must(select(ix, t, { registry: fee }));
    expect(withFee.candidates[0]!.clusterId).toBe('home');
    const drain = must(createRegistry({ filters: [maintenance(['CPN.31'])], scores: [transferFee(0.01)] }));
    const sel = must(select(ix, t, { registry: drain }));
    expect(sel.candidates.map((c) => c.clusterId)).toEqual(['far']);
    expect(sel.exclusions).toEqual([
      { clusterId: 'home', constraint: 'plugin', message: 'maintenance: node CPN.31 is draining' },
    ]);
  });

  it('the registry with the plugins passes the property-test kit', () => {
    const reg = must(createRegistry({ scores: [transferFee(0.01)] }));
    expect(runKit({ registry: reg, numRuns: 60 })).toEqual([]);
  });

  it('a plugin name used twice is refused', () => {
    const r = createRegistry({ scores: [transferFee(1), transferFee(2)] });
    expect(!r.ok && r.error.field).toBe('plugins');
  });
});
