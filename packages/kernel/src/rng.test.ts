import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed } from './rng.ts';

describe('createRng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, createRng(seed).next);
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('stays in range', () => {
    const rng = createRng(7);
    for (let i = 0; i < 1000; i++) {
      const f = rng.next();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      const n = rng.int(6);
      expect(Number.isInteger(n) && n >= 0 && n < 6).toBe(true);
    }
  });

  it('derives a seed per named part: the same for the same seed and label, another for another', () => {
    expect(deriveSeed(11, 'stream:a')).toBe(deriveSeed(11, 'stream:a'));
    expect(deriveSeed(11, 'stream:a')).not.toBe(deriveSeed(11, 'stream:b'));
    expect(deriveSeed(11, 'stream:a')).not.toBe(deriveSeed(12, 'stream:a'));
  });
});
