import { createRng } from '@cpnet/kernel';
import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** A source of random bytes, injected so tests and the simulator can make runs repeatable. */
export type RandomBytes = (n: number) => Uint8Array;

/** The default source: node:crypto's CSPRNG. */
export const cryptoRandomBytes: RandomBytes = (n) => new Uint8Array(nodeRandomBytes(n));

/**
 * A deterministic byte source for tests and simulations, drawn from the kernel's seeded Rng (NOT for production keys or
 * nonces). Given the same seed it yields the same bytes.
 */
export function seededRandomBytes(seed: number): RandomBytes {
  const rng = createRng(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = rng.int(256);
    return out;
  };
}
