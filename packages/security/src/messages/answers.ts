import { err, ok, type Result } from '@cpnet/kernel';
import type { PrivateKeyHandle, PublicKeyHandle } from '../crypto/profile.ts';
import { signCompact, verifyCompact } from '../crypto/jws.ts';
import { b64url, jcsBytes } from '../crypto/encoding.ts';

/** The JWS `typ` of a signed answer. */
export const ANSWER_TYP = 'cpn-answer+jws';

/** An answer body with a detached JWS (RFC 7515 Appendix F) over its JCS form: `header..signature`. */
export interface SignedAnswer<T> {
  readonly answer: T;
  readonly signature: string;
}

/** Signs an answer (e.g. a resolution answer) as the node `keyid`: a detached JWS over the JCS bytes of the body. */
export async function signAnswer<T>(
  answer: T,
  signer: { keyid: string; privateKey: PrivateKeyHandle },
): Promise<SignedAnswer<T>> {
  const jws = await signCompact(jcsBytes(answer), { typ: ANSWER_TYP, kid: signer.keyid }, signer.privateKey);
  const [h, , s] = jws.split('.');
  return { answer, signature: `${h}..${s}` };
}

/**
 * Verifies a signed answer: the detached JWS must verify over the JCS form of the answer as received, with the key
 * of `keyid` (the node that claims to have answered). Returns who signed.
 */
export async function verifyAnswer<T>(
  signed: SignedAnswer<T>,
  options: { keyid: string; publicKey: PublicKeyHandle },
): Promise<Result<{ keyid: string }, string>> {
  const parts = typeof signed?.signature === 'string' ? signed.signature.split('.') : [];
  if (parts.length !== 3 || parts[1] !== '')
    return err('the answer signature is not a detached JWS (header..signature)');
  let payload: string;
  try {
    payload = b64url(jcsBytes(signed.answer));
  } catch {
    return err('the answer is not JSON');
  }
  const v = await verifyCompact(`${parts[0]}.${payload}.${parts[2]}`, options.publicKey, ANSWER_TYP);
  if (!v.ok) return v;
  if (v.value.header.kid !== options.keyid)
    return err(`the answer was signed by ${String(v.value.header.kid)}, not ${options.keyid}`);
  return ok({ keyid: options.keyid });
}
