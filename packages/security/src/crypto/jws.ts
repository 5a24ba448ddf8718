import { err, ok, type Result } from '@cpnet/kernel';
import type { PrivateKeyHandle, PublicKeyHandle } from './profile.ts';
import { profileOf } from './profiles.ts';
import { b64url, fromB64url, utf8 } from './encoding.ts';

/** A verified compact JWS: its protected header and payload bytes. */
export interface VerifiedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Uint8Array;
}

const ALLOWED_HEADER = new Set(['alg', 'typ', 'kid']);

/**
 * Signs a compact JWS (RFC 7515): Ed25519 keys with alg EdDSA (RFC 8037), SM2 keys the same structure with alg
 * SM2SM3 (not a registered JOSE algorithm: a cpnet convention, see README). One synchronous signature of the profile
 * (node:crypto for Ed25519) over `header.payload`; byte-equal to jose's `CompactSign` (a test holds the two together).
 */
export async function signCompact(
  payload: Uint8Array,
  header: { typ: string; kid?: string },
  privateKey: PrivateKeyHandle,
): Promise<string> {
  const profile = profileOf(privateKey);
  const protectedHeader = { alg: profile.jwsAlg, ...header };
  const input = `${b64url(utf8(JSON.stringify(protectedHeader)))}.${b64url(payload)}`;
  return `${input}.${b64url(profile.sign(utf8(input), privateKey))}`;
}

function parseHeader(part: string): Record<string, unknown> | null {
  const bytes = fromB64url(part);
  if (!bytes) return null;
  try {
    const h: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return h !== null && typeof h === 'object' && !Array.isArray(h) ? (h as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a compact JWS against one public key (synchronously inside: no WebCrypto promise or thread-pool job): the
 * alg must be the key's profile algorithm (so `none`, HS256 and algorithm confusion are refused), the typ must match,
 * and no header beyond alg/typ/kid (no crit, jwk, jku, b64) is allowed.
 */
export async function verifyCompact(
  token: string,
  publicKey: PublicKeyHandle,
  typ: string,
): Promise<Result<VerifiedJws, string>> {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return err('not a compact JWS (three base64url parts)');
  const [h, p, s] = parts as [string, string, string];
  const header = parseHeader(h);
  if (!header) return err('the JWS header is not base64url JSON');
  const profile = profileOf(publicKey);
  if (header.alg !== profile.jwsAlg)
    return err(`alg "${String(header.alg)}" is not allowed; expected ${profile.jwsAlg}`);
  const extra = Object.keys(header).find((k) => !ALLOWED_HEADER.has(k));
  if (extra) return err(`JWS header "${extra}" is not allowed`);
  if (header.typ !== typ) return err(`typ "${String(header.typ)}" is not ${typ}`);
  const payload = fromB64url(p);
  const signature = fromB64url(s);
  if (!payload || !signature) return err('the JWS payload or signature is not base64url');
  // The header is checked above (alg of the key's profile, typ, nothing beyond alg/typ/kid), the parts are canonical
  // base64url: what is left is the signature over the ASCII `header.payload`, one node:crypto call for Ed25519.
  if (!profile.verify(utf8(`${h}.${p}`), signature, publicKey)) return err('the JWS signature does not verify');
  return ok({ header, payload });
}

/** Parses a JSON object payload and refuses any member outside `allowed` or missing from `required`. */
export function strictPayload(
  payload: Uint8Array,
  spec: { allowed: readonly string[]; required: readonly string[] },
): Result<Record<string, unknown>, string> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return err('the payload is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return err('the payload is not a JSON object');
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).find((k) => !spec.allowed.includes(k));
  if (unknown) return err(`unknown field "${unknown}"`);
  const missing = spec.required.find((k) => obj[k] === undefined);
  if (missing) return err(`missing field "${missing}"`);
  return ok(obj);
}
