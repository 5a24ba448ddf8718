import { err, ok, type Result, type TimeSource } from '@cpnet/kernel';
import type { PrivateKeyHandle, PublicKeyHandle } from '../crypto/profile.ts';
import { signJwt, verifyJwt } from '../crypto/jwt.ts';
import { cryptoRandomBytes, type RandomBytes } from '../crypto/random.ts';
import { b64url } from '../crypto/encoding.ts';
import { PERSON_ROLES, ROLE_SCOPES, type Account, type PersonRole } from './roles.ts';

/** The JWS `typ` of an API token (RFC 9068's access-token type). */
export const API_TOKEN_TYP = 'at+jwt';
/** Default and longest API token lifetimes, in seconds. */
export const API_TOKEN_TTL_S = { default: 900, max: 3600 } as const;

/** The claims of an API token issued by a node (`iss`) to a person (`sub`). */
export interface ApiTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly role: PersonRole;
  /** Space-separated scopes, a subset of the role's. */
  readonly scope: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

/** Issues a short-lived API token for an active account, scoped by its role (optionally narrowed). */
export async function issueApiToken(
  account: Pick<Account, 'id' | 'role' | 'node' | 'status'>,
  options: {
    privateKey: PrivateKeyHandle;
    clock: TimeSource;
    ttlSeconds?: number;
    scopes?: readonly string[];
    randomBytes?: RandomBytes;
  },
): Promise<string> {
  if (account.status !== 'active') throw new Error(`account ${account.id} is ${account.status}; no token is issued`);
  const allowed = ROLE_SCOPES[account.role];
  const scopes = options.scopes ?? allowed;
  const extra = scopes.find((s) => !allowed.includes(s));
  if (extra) throw new RangeError(`scope ${extra} is beyond role ${account.role}`);
  const ttl = Math.min(options.ttlSeconds ?? API_TOKEN_TTL_S.default, API_TOKEN_TTL_S.max);
  const iat = Math.floor(options.clock.now() / 1000);
  const claims: ApiTokenClaims = {
    iss: account.node,
    sub: account.id,
    role: account.role,
    scope: scopes.join(' '),
    iat,
    exp: iat + ttl,
    jti: b64url((options.randomBytes ?? cryptoRandomBytes)(16)),
  };
  return signJwt({ ...claims }, { typ: API_TOKEN_TYP, privateKey: options.privateKey });
}

/** Verifies an API token from `issuer`: signature, claims, lifetime, scopes within the role, account not revoked. */
export async function verifyApiToken(
  token: string,
  options: {
    publicKey: PublicKeyHandle;
    issuer: string;
    clock: TimeSource;
    accountStatus?: (sub: string) => Account['status'] | null;
  },
): Promise<Result<ApiTokenClaims, string>> {
  const v = await verifyJwt(token, {
    typ: API_TOKEN_TYP,
    publicKey: options.publicKey,
    clock: options.clock,
    claims: ['role', 'scope'],
    maxLifetimeS: API_TOKEN_TTL_S.max,
  });
  if (!v.ok) return v;
  const c = v.value as unknown as ApiTokenClaims;
  if (c.iss !== options.issuer) return err(`the token was issued by ${c.iss}, not ${options.issuer}`);
  if (!PERSON_ROLES.includes(c.role)) return err(`unknown role ${String(c.role)}`);
  if (typeof c.scope !== 'string') return err('scope must be a string');
  const beyond = c.scope.split(' ').find((s) => !ROLE_SCOPES[c.role].includes(s));
  if (beyond !== undefined) return err(`scope ${beyond} is beyond role ${c.role}`);
  const status = options.accountStatus ? options.accountStatus(c.sub) : 'active';
  if (status !== 'active') return err(`account ${c.sub} is ${status ?? 'unknown'}`);
  return ok(c);
}

/** True when verified token claims include `scope`. */
export const hasScope = (claims: ApiTokenClaims, scope: string): boolean => claims.scope.split(' ').includes(scope);
