import { err, ok, type Result, type TimeSource } from '@cpnet/kernel';
import type { PrivateKeyHandle, PublicKeyHandle } from './profile.ts';
import { signCompact, strictPayload, verifyCompact } from './jws.ts';
import { jcsBytes } from './encoding.ts';

/** Registered claims every cpnet token carries (Unix seconds). */
export interface BaseClaims {
  readonly iss: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

/** Signs a short-lived token (JWS compact, JCS payload; EdDSA or SM2SM3). */
export function signJwt(
  claims: BaseClaims & Record<string, unknown>,
  options: { typ: string; privateKey: PrivateKeyHandle },
): Promise<string> {
  return signCompact(jcsBytes(claims), { typ: options.typ, kid: claims.iss }, options.privateKey);
}

/** How to check a token. */
export interface JwtCheck {
  readonly typ: string;
  readonly publicKey: PublicKeyHandle;
  readonly clock: TimeSource;
  /** Claims beyond iss/sub/iat/exp/jti this token type carries (all required). */
  readonly claims: readonly string[];
  /** The longest exp − iat accepted, in seconds. */
  readonly maxLifetimeS: number;
  readonly skewS?: number;
}

/** Verifies a token's signature, strict claim set, types and time window. */
export async function verifyJwt(
  token: string,
  check: JwtCheck,
): Promise<Result<BaseClaims & Record<string, unknown>, string>> {
  const jws = await verifyCompact(token, check.publicKey, check.typ);
  if (!jws.ok) return jws;
  const fields = ['iss', 'sub', 'iat', 'exp', 'jti', ...check.claims];
  const payload = strictPayload(jws.value.payload, { allowed: fields, required: fields });
  if (!payload.ok) return payload;
  const c = payload.value;
  for (const k of ['iss', 'sub', 'jti'])
    if (typeof c[k] !== 'string' || c[k] === '') return err(`"${k}" must be a non-empty string`);
  if (!Number.isSafeInteger(c.iat) || !Number.isSafeInteger(c.exp)) return err('"iat" and "exp" must be integers');
  const iat = c.iat as number,
    exp = c.exp as number;
  if (jws.value.header.kid !== c.iss) return err('kid differs from iss');
  if (exp <= iat || exp - iat > check.maxLifetimeS) return err(`the token must live at most ${check.maxLifetimeS} s`);
  const now = check.clock.now() / 1000,
    skew = check.skewS ?? 30;
  if (iat > now + skew) return err('the token is issued in the future');
  if (exp <= now - skew) return err('the token has expired');
  return ok(c as BaseClaims & Record<string, unknown>);
}
