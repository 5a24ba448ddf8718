import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { CryptoProfile, PrivateKeyHandle, PublicKeyHandle } from './profile.ts';
import { b64url } from './encoding.ts';
import { hash as nodeHash } from 'node:crypto';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function publicHandle(key: KeyObject): PublicKeyHandle {
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType !== 'ed25519' || typeof jwk.x !== 'string')
    throw new TypeError('not an Ed25519 public key');
  return { profile: 'ed25519', raw: new Uint8Array(Buffer.from(jwk.x, 'base64url')), native: key };
}

function privateHandle(key: KeyObject): PrivateKeyHandle {
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 private key');
  return { profile: 'ed25519', publicKey: publicHandle(createPublicKey(key)), native: key };
}

/** Wraps a node:crypto Ed25519 KeyObject (public or private) as a handle. */
export function ed25519Handle(key: KeyObject): PublicKeyHandle | PrivateKeyHandle {
  return key.type === 'private' ? privateHandle(key) : publicHandle(key);
}

/** The node:crypto KeyObject behind an Ed25519 handle. */
export function keyObject(handle: PublicKeyHandle | PrivateKeyHandle): KeyObject {
  if (handle.profile !== 'ed25519') throw new TypeError(`expected an Ed25519 key, got ${handle.profile}`);
  return handle.native as KeyObject;
}

/** Ed25519 signatures (RFC 8032) and SHA-256, via node:crypto. */
export const ed25519Profile: CryptoProfile = {
  name: 'ed25519',
  httpAlg: 'ed25519',
  jwsAlg: 'EdDSA',
  digestName: 'sha-256',
  generateKeyPair(seed) {
    if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
    const privateKey = privateHandle(
      createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
    );
    return { privateKey, publicKey: privateKey.publicKey };
  },
  sign: (data, privateKey) => new Uint8Array(sign(null, data, keyObject(privateKey))),
  verify(data, signature, publicKey) {
    if (publicKey.profile !== 'ed25519' || signature.length !== 64) return false;
    try {
      return verify(null, data, keyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
  verifyAsync(data, signature, publicKey) {
    if (publicKey.profile !== 'ed25519' || signature.length !== 64) return Promise.resolve(false);
    return new Promise((resolve) => {
      try {
        // With a callback, node:crypto copies the inputs and runs the verification on libuv's thread pool.
        verify(null, data, keyObject(publicKey), signature, (error, ok) => resolve(!error && ok));
      } catch {
        resolve(false);
      }
    });
  },
  // One-shot hashing (Node ≥ 20.12): no Hash object per call, which cost as much as the digest of a small body.
  hash: (data) => new Uint8Array(nodeHash('sha256', data, 'buffer')),
  hashBase64: (data) => nodeHash('sha256', data, 'base64'),
  exportPublicKey: (k) => keyObject(k).export({ format: 'pem', type: 'spki' }).toString(),
  importPublicKey: (text) => publicHandle(createPublicKey(text)),
  exportPrivateKey: (k) => keyObject(k).export({ format: 'pem', type: 'pkcs8' }).toString(),
  importPrivateKey: (text) => privateHandle(createPrivateKey(text)),
  publicJwk: (k) => ({ kty: 'OKP', crv: 'Ed25519', x: b64url(k.raw) }),
};
