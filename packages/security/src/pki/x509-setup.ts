import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPublicKey, webcrypto } from 'node:crypto';
import type { PrivateKeyHandle, PublicKeyHandle } from '../crypto/profile.ts';
import { ed25519Handle, keyObject } from '../crypto/ed25519.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

/** The WebCrypto algorithm of every cpnet certificate. */
export const ED25519 = { name: 'Ed25519' } as const;

/** Imports an Ed25519 public handle as a WebCrypto key for @peculiar/x509. */
export async function toCryptoPublic(key: PublicKeyHandle): Promise<CryptoKey> {
  const der = keyObject(key).export({ format: 'der', type: 'spki' });
  return (await webcrypto.subtle.importKey('spki', der, ED25519, true, ['verify'])) as unknown as CryptoKey;
}

/** Imports an Ed25519 private handle as a WebCrypto key for @peculiar/x509. */
export async function toCryptoPrivate(key: PrivateKeyHandle): Promise<CryptoKey> {
  const der = keyObject(key).export({ format: 'der', type: 'pkcs8' });
  return (await webcrypto.subtle.importKey('pkcs8', der, ED25519, false, ['sign'])) as unknown as CryptoKey;
}

/** The public key of a certificate as a handle; throws for non-Ed25519 keys. */
export function certificatePublicKey(cert: x509.X509Certificate): PublicKeyHandle {
  return ed25519Handle(
    createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' }),
  ) as PublicKeyHandle;
}
