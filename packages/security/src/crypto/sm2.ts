import { sm2, sm3 } from 'sm-crypto-v2';
import type { CryptoProfile, PrivateKeyHandle, PublicKeyHandle } from './profile.ts';
import { b64url, fromHex, toHex } from './encoding.ts';

/** The order n of the SM2 curve (GB/T 32918.5). */
const SM2_N = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');

interface Sm2Public {
  hex: string;
  point?: ReturnType<typeof sm2.precomputePublicKey>;
}

function publicHandle(hex: string): PublicKeyHandle {
  const h = hex.toLowerCase();
  if (!/^04[0-9a-f]{128}$/.test(h) || !sm2.verifyPublicKey(h))
    throw new TypeError('not an SM2 public key (uncompressed point on the curve)');
  const native: Sm2Public = { hex: h };
  return { profile: 'sm2', raw: fromHex(h), native };
}

function privateHandle(hex: string): PrivateKeyHandle {
  const h = hex.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(h)) throw new TypeError('not an SM2 private key (64 hex digits)');
  return { profile: 'sm2', publicKey: publicHandle(sm2.getPublicKeyFromPrivateKey(h)), native: h };
}

function sm2Public(k: PublicKeyHandle): Sm2Public {
  if (k.profile !== 'sm2') throw new TypeError(`expected an SM2 key, got ${k.profile}`);
  return k.native as Sm2Public;
}

/** SM2 signatures with SM3 (GB/T 32918, default user id) and SM3 hashes, via sm-crypto-v2. Signatures are r‖s, 64 bytes. */
export const sm2Profile: CryptoProfile = {
  name: 'sm2',
  httpAlg: 'sm2-sm3',
  jwsAlg: 'SM2SM3',
  digestName: 'sm3',
  generateKeyPair(seed) {
    if (seed.length !== 32) throw new RangeError('an SM2 seed is 32 bytes');
    // sm-crypto-v2's seeded generateKeyPairHex reduces the seed modulo 1 (every seed gives d = 1), so derive d here:
    // d = seed mod (n − 1) + 1, in [1, n − 1].
    const d = (BigInt(`0x${toHex(seed)}`) % (SM2_N - 1n)) + 1n;
    const privateKey = privateHandle(d.toString(16).padStart(64, '0'));
    return { privateKey, publicKey: privateKey.publicKey };
  },
  sign(data, privateKey) {
    if (privateKey.profile !== 'sm2') throw new TypeError(`expected an SM2 key, got ${privateKey.profile}`);
    const sig = sm2.doSignature(data, privateKey.native as string, {
      hash: true,
      der: false,
      publicKey: sm2Public(privateKey.publicKey).hex,
    });
    return fromHex(sig.padStart(128, '0'));
  },
  verify(data, signature, publicKey) {
    if (publicKey.profile !== 'sm2' || signature.length !== 64) return false;
    const pub = sm2Public(publicKey);
    // Precomputing the point makes repeated verification with one key ~3x faster.
    pub.point ??= sm2.precomputePublicKey(pub.hex);
    try {
      return sm2.doVerifySignature(data, toHex(signature), pub.point, { hash: true, der: false });
    } catch {
      return false;
    }
  },
  hash: (data) => fromHex(sm3(data)),
  exportPublicKey: (k) => sm2Public(k).hex,
  importPublicKey: (text) => publicHandle(text.trim()),
  exportPrivateKey: (k) => {
    if (k.profile !== 'sm2') throw new TypeError(`expected an SM2 key, got ${k.profile}`);
    return k.native as string;
  },
  importPrivateKey: (text) => privateHandle(text.trim()),
  publicJwk: (k) => ({ kty: 'EC', crv: 'SM2', x: b64url(k.raw.subarray(1, 33)), y: b64url(k.raw.subarray(33, 65)) }),
};

/**
 * An SM2 signature with a given nonce k (the private scalar of `nonce`), for published test vectors only: the same
 * signature is produced every time, so other implementations can compare bytes. Reusing k for two messages reveals
 * the private key — production signing (`sm2Profile.sign`) always draws a fresh k.
 */
export function sm2SignWithNonce(data: Uint8Array, privateKey: PrivateKeyHandle, nonce: PrivateKeyHandle): Uint8Array {
  if (privateKey.profile !== 'sm2' || nonce.profile !== 'sm2') throw new TypeError('expected SM2 keys');
  const kx = sm2Public(nonce.publicKey).hex.slice(2, 66);
  const sig = sm2.doSignature(data, privateKey.native as string, {
    hash: true,
    der: false,
    publicKey: sm2Public(privateKey.publicKey).hex,
    pointPool: [{ k: BigInt(`0x${nonce.native as string}`), x1: BigInt(`0x${kx}`) }],
  });
  return fromHex(sig.padStart(128, '0'));
}

/** Z_A of GB/T 32918.2 (SM3 over the user id, curve parameters and public key) for the default or a given user id. */
export function sm2UserHash(publicKey: PublicKeyHandle, userId?: string): Uint8Array {
  return sm2.getZ(sm2Public(publicKey).hex, userId);
}
