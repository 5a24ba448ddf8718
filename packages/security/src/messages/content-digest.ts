import { parseDictionary } from 'structured-headers';
import type { CryptoProfile } from '../crypto/profile.ts';
import { bytesEqual } from '../crypto/encoding.ts';
import { byteSequenceMember } from './signature-base.ts';
import { parseCanonicalByteMember } from './canonical-fields.ts';

/** The RFC 9530 Content-Digest value of a body, e.g. `sha-256=:base64:` (`sm3=:…:` under the 国密 profile). */
export function contentDigest(body: Uint8Array, profile: CryptoProfile): string {
  return profile.hashBase64
    ? `${profile.digestName}=:${profile.hashBase64(body)}:`
    : byteSequenceMember(profile.digestName, profile.hash(body));
}

/** The digest a Content-Digest value carries for the profile, or why it carries none. */
export function digestOf(value: string, profile: CryptoProfile): { digest: Uint8Array } | { problem: string } {
  const fast = parseCanonicalByteMember(value, profile.digestName);
  if (fast) return { digest: fast };
  let dict;
  try {
    dict = parseDictionary(value);
  } catch {
    return { problem: 'Content-Digest is not a structured dictionary' };
  }
  const member = dict.get(profile.digestName);
  if (!member) return { problem: `Content-Digest carries no ${profile.digestName} digest` };
  const digest = member[0];
  if (!(digest instanceof ArrayBuffer)) return { problem: `the ${profile.digestName} digest is not a byte sequence` };
  return { digest: new Uint8Array(digest) };
}

/** Checks a Content-Digest value against a body; null when it matches, else why not. */
export function checkContentDigest(value: string, body: Uint8Array, profile: CryptoProfile): string | null {
  // The header as cpnet writes it — exactly the canonical member of the body's digest — matches without decoding;
  // anything else (another member order, a wrong digest) is parsed and its bytes compared as before.
  if (value === contentDigest(body, profile)) return null;
  const d = digestOf(value, profile);
  if ('problem' in d) return d.problem;
  return bytesEqual(d.digest, profile.hash(body)) ? null : 'Content-Digest does not match the body';
}
