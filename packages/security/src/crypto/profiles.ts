import type { CryptoProfile, KeyPair, ProfileName, PublicKeyHandle } from './profile.ts';
import { ed25519Profile } from './ed25519.ts';
import { sm2Profile } from './sm2.ts';
import { cryptoRandomBytes, type RandomBytes } from './random.ts';

/** Every profile by name. */
export const PROFILES: Readonly<Record<ProfileName, CryptoProfile>> = { ed25519: ed25519Profile, sm2: sm2Profile };

/** The profile of a name ('ed25519' | 'sm2'). */
export function cryptoProfile(name: ProfileName): CryptoProfile {
  const p = PROFILES[name];
  if (!p) throw new RangeError(`unknown crypto profile "${String(name)}"; expected ed25519 or sm2`);
  return p;
}

/** Generates a key pair of a profile (default Ed25519) from an injected random source. */
export function generateKeyPair(options: { profile?: ProfileName; randomBytes?: RandomBytes } = {}): KeyPair {
  return cryptoProfile(options.profile ?? 'ed25519').generateKeyPair((options.randomBytes ?? cryptoRandomBytes)(32));
}

/** The profile a key belongs to. */
export const profileOf = (key: { readonly profile: ProfileName }): CryptoProfile => cryptoProfile(key.profile);

/** True when two public keys are the same key of the same profile. */
export function samePublicKey(a: PublicKeyHandle, b: PublicKeyHandle): boolean {
  return a.profile === b.profile && Buffer.from(a.raw).equals(Buffer.from(b.raw));
}
