import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from './node-threads.ts';

describe('limitHeapGrowth (CPNET_HEAP_GROWING_PERCENT)', () => {
  it('takes the default when unset, a percent when given, 0 for V8 own factor', () => {
    expect(limitHeapGrowth(undefined)).toBe(HEAP_GROWING_PERCENT);
    expect(limitHeapGrowth('')).toBe(HEAP_GROWING_PERCENT);
    expect(limitHeapGrowth('75')).toBe(75);
    expect(limitHeapGrowth('0')).toBe(0);
    limitHeapGrowth(undefined);
  });

  it('refuses what is not a percent, naming the variable', () => {
    for (const bad of ['-1', '2.5', 'fast', '1001'])
      expect(() => limitHeapGrowth(bad)).toThrow(/CPNET_HEAP_GROWING_PERCENT must be an integer from 0 to 1000/);
  });
});
