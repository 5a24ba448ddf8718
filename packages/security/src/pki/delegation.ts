import { err, ok, type Result, type TimeSource } from '@cpnet/kernel';
import { parentPrefix, parsePrefix, ROOT_PREFIX } from '@cpnet/identifier';
import type { PrivateKeyHandle, PublicKeyHandle } from '../crypto/profile.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { signCompact, strictPayload, verifyCompact } from '../crypto/jws.ts';
import { jcsBytes } from '../crypto/encoding.ts';

/** The JWS `typ` of a prefix delegation. */
export const DELEGATION_TYP = 'cpn-delegation+jwt';

/** A prefix delegation: the parent `iss` delegates `prefix` to the key whose RFC 7638 thumbprint is `sub_jkt`. */
export interface Delegation {
  readonly iss: string;
  readonly prefix: string;
  readonly sub_jkt: string;
  readonly serial: string;
  /** Unix seconds. */
  readonly nbf: number;
  /** Unix seconds. */
  readonly exp: number;
}

/** Why a delegation was refused. */
export type DelegationErrorCode =
  | 'MALFORMED'
  | 'BAD_SIGNATURE'
  | 'WRONG_ISSUER'
  | 'WRONG_KEY'
  | 'NOT_YET_VALID'
  | 'EXPIRED'
  | 'CODE_MISMATCH'
  | 'REVOKED';

/** A refused delegation, with the reason a node prints before refusing to start. */
export interface DelegationError {
  readonly code: DelegationErrorCode;
  readonly reason: string;
}

const FIELDS = ['iss', 'prefix', 'sub_jkt', 'serial', 'nbf', 'exp'] as const;
const SKEW_S = 30;

/** Signs a delegation of `prefix` to `childPublicKey` by the parent's key (JWS, EdDSA or SM2SM3, JCS payload). */
export async function signDelegation(
  claims: { iss: string; prefix: string; serial: string; nbf: number; exp: number },
  keys: { parentKey: PrivateKeyHandle; childPublicKey: PublicKeyHandle },
): Promise<string> {
  const payload: Delegation = { ...claims, sub_jkt: jwkThumbprint(keys.childPublicKey) };
  return signCompact(jcsBytes(payload), { typ: DELEGATION_TYP, kid: claims.iss }, keys.parentKey);
}

function checkShape(obj: Record<string, unknown>): Result<Delegation, DelegationError> {
  const bad = (reason: string) => err<DelegationError>({ code: 'MALFORMED', reason });
  for (const k of ['iss', 'prefix', 'sub_jkt', 'serial'] as const)
    if (typeof obj[k] !== 'string' || obj[k] === '') return bad(`"${k}" must be a non-empty string`);
  for (const k of ['nbf', 'exp'] as const)
    if (!Number.isSafeInteger(obj[k])) return bad(`"${k}" must be an integer (Unix seconds)`);
  const d = obj as unknown as Delegation;
  const parsed = parsePrefix(d.prefix);
  if (!parsed.ok || parsed.value.prefix !== d.prefix) return bad(`prefix "${d.prefix}" is not a canonical prefix`);
  const parent = parentPrefix(d.prefix) ?? ROOT_PREFIX; // the national root delegates its own prefix to itself
  if (d.iss !== parent)
    return err({ code: 'WRONG_ISSUER', reason: `prefix ${d.prefix} can only be delegated by ${parent}, not ${d.iss}` });
  if (d.exp <= d.nbf) return bad('"exp" must be after "nbf"');
  return ok(d);
}

/**
 * Verifies a delegation: the parent's signature, the shape, the issuer is the prefix's parent, the key is the child's,
 * it is valid now (±30 s), it is not revoked, and — when `configuredCode` is given — the node's configured code equals it.
 */
export async function verifyDelegation(
  token: string,
  options: {
    parentPublicKey: PublicKeyHandle;
    childPublicKey: PublicKeyHandle;
    clock: TimeSource;
    configuredCode?: string;
    isRevoked?: (serial: string) => string | null;
  },
): Promise<Result<Delegation, DelegationError>> {
  const jws = await verifyCompact(token, options.parentPublicKey, DELEGATION_TYP);
  if (!jws.ok) return err({ code: jws.error.includes('signature') ? 'BAD_SIGNATURE' : 'MALFORMED', reason: jws.error });
  const payload = strictPayload(jws.value.payload, { allowed: FIELDS, required: FIELDS });
  if (!payload.ok) return err({ code: 'MALFORMED', reason: payload.error });
  const shaped = checkShape(payload.value);
  if (!shaped.ok) return shaped;
  const d = shaped.value;
  if (jws.value.header.kid !== undefined && jws.value.header.kid !== d.iss)
    return err({ code: 'WRONG_ISSUER', reason: `kid "${String(jws.value.header.kid)}" differs from iss ${d.iss}` });
  if (d.sub_jkt !== jwkThumbprint(options.childPublicKey))
    return err({
      code: 'WRONG_KEY',
      reason: `delegation of ${d.prefix} is bound to another key (sub_jkt ${d.sub_jkt})`,
    });
  const now = options.clock.now() / 1000;
  if (now + SKEW_S < d.nbf)
    return err({
      code: 'NOT_YET_VALID',
      reason: `delegation of ${d.prefix} is not valid before ${new Date(d.nbf * 1000).toISOString()}`,
    });
  if (now - SKEW_S >= d.exp)
    return err({
      code: 'EXPIRED',
      reason: `delegation of ${d.prefix} expired at ${new Date(d.exp * 1000).toISOString()}`,
    });
  const revoked = options.isRevoked?.(d.serial) ?? null;
  if (revoked !== null)
    return err({ code: 'REVOKED', reason: `delegation ${d.serial} of ${d.prefix} is revoked: ${revoked}` });
  if (options.configuredCode !== undefined && options.configuredCode !== d.prefix) {
    return err({
      code: 'CODE_MISMATCH',
      reason: `configured code ${options.configuredCode} differs from the delegated prefix ${d.prefix}; refusing to start`,
    });
  }
  return ok(d);
}
