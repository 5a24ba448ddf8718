import { createRng } from '@cpnet/kernel';
import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** A source of random bytes, injected so tests and the simulator can make runs repeatable. */
export type RandomBytes = (n: number) => Uint8Array;

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/**
 * The default source: node:crypto's CSPRNG. Requests of up to 256 bytes (nonces, identifiers) are served from a
 * 4 KiB block drawn at once — one call into the CSPRNG per ~250 nonces instead of one each, as Node's own
 * `randomUUID` does; every byte is handed out once and wiped from the block as it is.
 */
export const cryptoRandomBytes: RandomBytes = (n) => {
  if (n > 256) return new Uint8Array(nodeRandomBytes(n));
  if (used + n > pool.length) {
    pool = nodeRandomBytes(POOL_BYTES);
    used = 0;
  }
  const out = new Uint8Array(n);
  out.set(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
};

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
