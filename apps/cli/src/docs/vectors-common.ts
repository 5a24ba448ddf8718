import { ed25519Profile, jwkThumbprint, seededRandomBytes, type KeyPair } from '@cpnet/security';

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** 2026-01-01T00:00:00Z: every vector is made at this fixed time. */
export const VECTOR_TIME_MS = Date.UTC(2026, 0, 1);

/** A fixed Ed25519 key from a fixed seed, with everything a verifier in another language needs. */
export function fixedKey(seed: number): { pair: KeyPair; json: Record<string, unknown> } {
  const secret = seededRandomBytes(seed)(32);
  const pair = ed25519Profile.generateKeyPair(secret);
  return {
    pair,
    json: {
      privateKeySeedHex: hex(secret),
      privateKeyPem: ed25519Profile.exportPrivateKey(pair.privateKey),
      publicKeyHex: hex(pair.publicKey.raw),
      publicKeyPem: ed25519Profile.exportPublicKey(pair.publicKey),
      jwk: ed25519Profile.publicJwk(pair.publicKey),
      jwkThumbprint: jwkThumbprint(pair.publicKey),
    },
  };
}

/** The keys of the vectors: the national node CPN and the regional node CPN.51. */
export function vectorKeys() {
  return { CPN: fixedKey(1), 'CPN.51': fixedKey(2) };
}
