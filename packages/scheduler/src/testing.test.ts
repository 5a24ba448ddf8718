import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runKit, noRankReversal } from './testing.ts';

describe('the property-test kit (@cpnet/scheduler/testing)', () => {
  it('the default expected-cost policy passes all four properties', () => {
    expect(runKit({ numRuns: 150 })).toEqual([]);
  });

  it('finds the rank reversal of TOPSIS and the weighted sum (their documented caveat), so the check can fail', () => {
    for (const method of ['topsis', 'weighted-sum']) {
      const d = fc.check(noRankReversal({ method }), { seed: 20261126, numRuns: 400, endOnFailure: true });
      expect(d.failed).toBe(true);
    }
  });
});
