import { err, ok, type Result, type TimeSource } from '@cpnet/kernel';
import { checkProtocolVersion, PROTOCOL_VERSION } from '@cpnet/protocol';
import type { PrivateKeyHandle, PublicKeyHandle } from '../crypto/profile.ts';
import { signJwt, verifyJwt } from '../crypto/jwt.ts';
import { cryptoRandomBytes, type RandomBytes } from '../crypto/random.ts';
import { b64url } from '../crypto/encoding.ts';
import type { NonceStore } from './nonce-store.ts';

/** The JWS `typ` of a socket.io handshake token. */
export const HANDSHAKE_TYP = 'cpn-handshake+jwt';
/** The longest a handshake token lives. */
export const HANDSHAKE_MAX_S = 60;

/** The claims of a handshake token: who connects (`iss` = `sub`), to which node (`aud`) and namespace. */
export interface HandshakeClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly ns: string;
  readonly protocol: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

/** Issues a signed, short-lived (≤ 60 s), single-use socket.io handshake token. */
export function issueHandshakeToken(
  request: { keyid: string; audience: string; namespace: string },
  options: { privateKey: PrivateKeyHandle; clock: TimeSource; lifetimeSeconds?: number; randomBytes?: RandomBytes },
): Promise<string> {
  const iat = Math.floor(options.clock.now() / 1000);
  const claims: HandshakeClaims = {
    iss: request.keyid,
    sub: request.keyid,
    aud: request.audience,
    ns: request.namespace,
    protocol: PROTOCOL_VERSION,
    iat,
    exp: iat + Math.min(options.lifetimeSeconds ?? HANDSHAKE_MAX_S, HANDSHAKE_MAX_S),
    jti: b64url((options.randomBytes ?? cryptoRandomBytes)(16)),
  };
  return signJwt({ ...claims }, { typ: HANDSHAKE_TYP, privateKey: options.privateKey });
}

/** Verifies a handshake token for this node and namespace; a token is accepted once (its jti goes to the replay store). */
export async function verifyHandshakeToken(
  token: string,
  options: {
    publicKey: PublicKeyHandle;
    audience: string;
    namespace: string;
    clock: TimeSource;
    nonceStore: NonceStore;
  },
): Promise<Result<HandshakeClaims, string>> {
  const v = await verifyJwt(token, {
    typ: HANDSHAKE_TYP,
    publicKey: options.publicKey,
    clock: options.clock,
    claims: ['aud', 'ns', 'protocol'],
    maxLifetimeS: HANDSHAKE_MAX_S,
  });
  if (!v.ok) return v;
  const c = v.value as unknown as HandshakeClaims;
  if (c.sub !== c.iss) return err('sub must equal iss');
  if (c.aud !== options.audience) return err(`the token is for ${String(c.aud)}, not ${options.audience}`);
  if (c.ns !== options.namespace) return err(`the token is for namespace ${String(c.ns)}, not ${options.namespace}`);
  const version = checkProtocolVersion(typeof c.protocol === 'string' ? c.protocol : null);
  if (!version.ok) return err(version.reason);
  if (await options.nonceStore.seen(c.iss, `hs:${c.jti}`, (c.exp + 30) * 1000))
    return err('the handshake token was already used');
  return ok(c);
}

/** Accepts control-message sequence numbers of one stream: each must be an integer above the last one seen. */
export interface SequenceValidator {
  /** ok with the number of skipped sequence numbers (0 when contiguous); err for a replayed or out-of-order seq. */
  accept(seq: number): Result<{ gap: number }, string>;
  readonly last: number;
}

/** A sequence validator starting after `last` (default −1, so the first message may be 0). */
export function createSequenceValidator(last = -1): SequenceValidator {
  let current = last;
  return {
    accept(seq) {
      if (!Number.isSafeInteger(seq) || seq < 0) return err(`seq ${String(seq)} is not a non-negative integer`);
      if (seq <= current)
        return err(seq === current ? `seq ${seq} replayed` : `seq ${seq} is out of order (last was ${current})`);
      const gap = seq - current - 1;
      current = seq;
      return ok({ gap });
    },
    get last() {
      return current;
    },
  };
}
