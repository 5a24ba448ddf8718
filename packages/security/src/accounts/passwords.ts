import { scrypt, timingSafeEqual } from 'node:crypto';
import { cryptoRandomBytes, type RandomBytes } from '../crypto/random.ts';

/** scrypt cost: N=2^15, r=8, p=3 (≈32 MiB per hash), one of OWASP's recommended settings. */
export const PASSWORD_KDF = { N: 1 << 15, r: 8, p: 3 } as const;

function derive(password: string, salt: Uint8Array, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r }, (e, key) =>
      e ? reject(e) : resolve(key),
    );
  });
}

/** Hashes a password with scrypt (memory-hard): `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string, randomBytes: RandomBytes = cryptoRandomBytes): Promise<string> {
  if (password.length < 8) throw new RangeError('a password has at least 8 characters');
  const salt = randomBytes(16);
  const key = await derive(password, salt, PASSWORD_KDF);
  const { N, r, p } = PASSWORD_KDF;
  return ['scrypt', N, r, p, Buffer.from(salt).toString('base64url'), key.toString('base64url')].join('$');
}

/** Checks a password against an encoded hash in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every(Number.isSafeInteger) || N < 1 << 14 || N > 1 << 20 || r < 8 || r > 32 || p < 1 || p > 16)
    return false;
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (expected.length !== 32) return false;
  const key = await derive(password, Buffer.from(parts[4] ?? '', 'base64url'), { N, r, p });
  return timingSafeEqual(key, expected);
}
