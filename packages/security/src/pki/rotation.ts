import type { TimeSource } from '@cpnet/kernel';
import type { PublicKeyHandle } from '../crypto/profile.ts';
import type { RandomBytes } from '../crypto/random.ts';
import { issueCertificate, type Issuer } from './certificates.ts';
import { certificateName } from './chain.ts';
import { x509 } from './x509-setup.ts';
import type { KeyRing } from './key-ring.ts';

/** A renewed certificate and until when the old one stays accepted. */
export interface Renewal {
  readonly certificate: string;
  /** Unix ms: the end of the overlap, never later than the old certificate's own expiry. */
  readonly oldAcceptedUntil: number;
}

/**
 * Renews a certificate for a new key, before the old one expires: the new one is valid from now for `lifetimeMs`,
 * and the old key stays accepted for `overlapMs` so messages in flight and peers' caches keep working.
 */
export async function renewCertificate(
  current: string,
  options: {
    issuer: Issuer;
    newPublicKey: PublicKeyHandle;
    clock: TimeSource;
    lifetimeMs: number;
    overlapMs: number;
    randomBytes?: RandomBytes;
  },
): Promise<Renewal> {
  const old = new x509.X509Certificate(current);
  const name = certificateName(old);
  if (!name.ok) throw new TypeError(`cannot renew: ${name.error}`);
  const now = options.clock.now();
  if (now > old.notAfter.getTime())
    throw new RangeError(
      `cannot renew ${name.value.name}: it expired at ${old.notAfter.toISOString()}; issue a new one`,
    );
  const certificate = await issueCertificate(
    { subject: name.value.name, publicKey: options.newPublicKey, notBefore: now, notAfter: now + options.lifetimeMs },
    options.issuer,
    { randomBytes: options.randomBytes },
  );
  return { certificate, oldAcceptedUntil: Math.min(now + options.overlapMs, old.notAfter.getTime()) };
}

/** Records a rotation in a key ring: the new key from now, the old key until the overlap ends. */
export function recordRotation(
  ring: KeyRing,
  rotation: {
    keyid: string;
    oldKey: PublicKeyHandle;
    newKey: PublicKeyHandle;
    from: number;
    until: number;
    oldUntil: number;
  },
): void {
  ring.add(rotation.keyid, { publicKey: rotation.newKey, notBefore: rotation.from, notAfter: rotation.until });
  ring.retire(rotation.keyid, rotation.oldKey, rotation.oldUntil);
}
