import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFakeClock } from '@cpnet/kernel';
import { createSerialAllocator, decodeSerial, formatIdentifier } from './index.ts';

describe('serial allocation', () => {
  it('encodes the Unix time in 10 characters and a counter in 2', () => {
    const a = createSerialAllocator({ clock: createFakeClock(1_764_000_000_000) });
    const s = a.next();
    expect(s).toHaveLength(12);
    expect(decodeSerial(s)).toEqual({ ms: 1_764_000_000_000, counter: 0 });
    expect(decodeSerial(a.next())).toEqual({ ms: 1_764_000_000_000, counter: 1 });
  });

  it('is strictly increasing and collision-free even when the clock stalls, jumps back or 1,024 land in one ms', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 3 }), { minLength: 1, maxLength: 3000 }), (steps) => {
        let t = 1_700_000_000_000;
        const a = createSerialAllocator({ clock: { now: () => t } });
        let prev = '';
        const seen = new Set<string>();
        for (const step of steps) {
          t += step;
          const s = a.next();
          expect(s > prev).toBe(true);
          expect(seen.has(s)).toBe(false);
          seen.add(s);
          prev = s;
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('continues after a restart from the last persisted serial', () => {
    const a = createSerialAllocator({ clock: createFakeClock(5000) });
    const last = [a.next(), a.next(), a.next()].at(-1)!;
    const b = createSerialAllocator({ clock: createFakeClock(4000), after: last });
    expect(b.next() > last).toBe(true);
  });

  it('makes valid identifiers', () => {
    const a = createSerialAllocator({ clock: createFakeClock(Date.UTC(2026, 10, 26)) });
    const id = formatIdentifier({ prefix: 'CPN.51.C151', kind: 'CL', serial: a.next() });
    expect(id.ok).toBe(true);
  });
});
