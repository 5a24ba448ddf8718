import { err, ok, type Result } from '@cpnet/kernel';
import { x509 } from './x509-setup.ts';

/** When a certificate starts and stops being valid (epoch ms). */
export interface Validity {
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The validity period of a PEM certificate, or why it cannot be read. */
export function certificateValidity(pem: string): Result<Validity, string> {
  try {
    const c = new x509.X509Certificate(pem);
    return ok({ notBefore: c.notBefore.getTime(), notAfter: c.notAfter.getTime() });
  } catch {
    return err('not a parseable X.509 certificate');
  }
}

/** Renewal starts once this share of a certificate's life has passed (a third is left to renew in). */
export const RENEW_AFTER_SHARE = 2 / 3;

/**
 * Whether a node should renew: some certificate of its chain below the root (its own, or an issuer's that its parent
 * renews and hands down with the next renewal) has lived past RENEW_AFTER_SHARE of its life at `now`, or cannot be
 * read. The root is renewed by the national node itself and is not asked for.
 */
export function renewalDue(chainBelowRoot: readonly string[], now: number): boolean {
  return chainBelowRoot.some((pem) => {
    const v = certificateValidity(pem);
    if (!v.ok) return true;
    return now >= v.value.notBefore + (v.value.notAfter - v.value.notBefore) * RENEW_AFTER_SHARE;
  });
}
