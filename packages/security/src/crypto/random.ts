import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** A source of random bytes, injected so tests and the simulator can make runs repeatable. */
export type RandomBytes = (n: number) => Uint8Array;

/** The default source: node:crypto's CSPRNG. */
export const cryptoRandomBytes: RandomBytes = (n) => new Uint8Array(nodeRandomBytes(n));

/**
 * A deterministic byte source for tests and simulations (xorshift-based; NOT for production keys or nonces).
 * Given the same seed it yields the same bytes.
 */
export function seededRandomBytes(seed: number): RandomBytes {
  let x = seed >>> 0 || 0x9e3779b9;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}
