import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth, YOUNG_GENERATION_MB, youngGeneration } from './node-threads.ts';

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

describe('youngGeneration (CPNET_YOUNG_GENERATION_MB)', () => {
  it('takes the default when unset, MiB when given, 0 for Node own default', () => {
    expect(youngGeneration(undefined)).toBe(YOUNG_GENERATION_MB);
    expect(youngGeneration(' ')).toBe(YOUNG_GENERATION_MB);
    expect(youngGeneration('64')).toBe(64);
    expect(youngGeneration('0')).toBe(0);
  });

  it('refuses what is not a size it can take, naming the variable', () => {
    for (const bad of ['-1', '8', '2.5', 'big', '2048'])
      expect(() => youngGeneration(bad)).toThrow(
        /CPNET_YOUNG_GENERATION_MB must be 0 .* or an integer from 16 to 1024/,
      );
  });
});
