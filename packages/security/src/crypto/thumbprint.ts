import { createHash } from 'node:crypto';
import type { PublicKeyHandle } from './profile.ts';
import { profileOf } from './profiles.ts';
import { b64url, jcs } from './encoding.ts';

const REQUIRED: Record<string, readonly string[]> = { OKP: ['crv', 'kty', 'x'], EC: ['crv', 'kty', 'x', 'y'] };

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key — the `sub_jkt` of a delegation. */
export function jwkThumbprint(publicKey: PublicKeyHandle): string {
  const jwk = profileOf(publicKey).publicJwk(publicKey) as Record<string, unknown>;
  const members = REQUIRED[String(jwk.kty)] ?? [];
  // The required members in lexicographic order without whitespace are exactly their JCS form.
  const subset = Object.fromEntries(members.map((m) => [m, jwk[m]]));
  return b64url(createHash('sha256').update(jcs(subset)).digest());
}
