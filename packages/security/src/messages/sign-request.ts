import { serializeInnerList } from 'structured-headers';
import type { TimeSource } from '@cpnet/kernel';
import type { PrivateKeyHandle } from '../crypto/profile.ts';
import { profileOf } from '../crypto/profiles.ts';
import { cryptoRandomBytes, type RandomBytes } from '../crypto/random.ts';
import { b64url } from '../crypto/encoding.ts';
import { bodyBytes, headerValue, transientUtf8, type HttpRequestLike } from './http.ts';
import { contentDigest } from './content-digest.ts';
import { byteSequenceMember, signatureInputList } from './signature-base.ts';
import { signatureParamsText } from './canonical-fields.ts';

/** The signature label cpnet uses. */
export const SIGNATURE_LABEL = 'cpn';
/** The `tag` parameter of every cpnet signature. */
export const SIGNATURE_TAG = 'cpn';
/** The longest a signature may live: `expires` ≤ `created` + 60 s. */
export const MAX_SIGNATURE_LIFETIME_S = 60;

/** Headers to add to a signed request (lower-case names). */
export interface SignatureHeaders {
  readonly 'signature-input': string;
  readonly signature: string;
  readonly 'content-digest'?: string;
}

/** Who signs and how. */
export interface SignOptions {
  /** The signer's identity: a node prefix or a provider/gateway identifier. */
  readonly keyid: string;
  readonly privateKey: PrivateKeyHandle;
  readonly clock: TimeSource;
  /** A fresh nonce; by default 16 random bytes, base64url. */
  readonly nonce?: string;
  readonly randomBytes?: RandomBytes;
  /** Seconds until `expires` (default and maximum 60). */
  readonly lifetimeSeconds?: number;
}

/**
 * Signs a request per RFC 9421: covers @method and @target-uri, plus content-type and an RFC 9530 Content-Digest
 * when there is a body. Returns the headers to add; retries must call it again (new nonce, new `created`).
 */
export function signRequest(request: HttpRequestLike, options: SignOptions): SignatureHeaders {
  const profile = profileOf(options.privateKey);
  const body = bodyBytes(request.body);
  const lifetime = Math.min(options.lifetimeSeconds ?? MAX_SIGNATURE_LIFETIME_S, MAX_SIGNATURE_LIFETIME_S);
  if (!(lifetime > 0)) throw new RangeError('lifetimeSeconds must be positive');
  let digest: string | undefined;
  let contentType: string | undefined;
  if (body.length > 0) {
    contentType = headerValue(request.headers, 'content-type');
    if (contentType === undefined) throw new TypeError('a request with a body must have a content-type to sign');
    digest = contentDigest(body, profile);
  }
  const components = digest === undefined ? COVERED_WITHOUT_BODY : COVERED_WITH_BODY;
  const created = Math.floor(options.clock.now() / 1000);
  const p = {
    created,
    expires: created + lifetime,
    nonce: options.nonce ?? b64url((options.randomBytes ?? cryptoRandomBytes)(16)),
    keyid: options.keyid,
    alg: profile.httpAlg,
    tag: SIGNATURE_TAG,
  };
  // Serialised once: the same text is the base's @signature-params line and the Signature-Input member's value.
  const params = signatureParamsText(components, p) ?? serializeInnerList(signatureInputList(components, p));
  // The RFC 9421 §2.5 base of exactly these components, written in one piece (what `signatureBaseOf` builds from a
  // request carrying the Content-Digest header; messages.test.ts checks the verifier rebuilds the same).
  const head = `"@method": ${request.method.toUpperCase()}\n"@target-uri": ${request.url}\n`;
  const base =
    digest === undefined
      ? `${head}"@signature-params": ${params}`
      : `${head}"content-type": ${contentType}\n"content-digest": ${digest}\n"@signature-params": ${params}`;
  const signature = byteSequenceMember(SIGNATURE_LABEL, profile.sign(transientUtf8(base), options.privateKey));
  const input = `${SIGNATURE_LABEL}=${params}`;
  return digest === undefined
    ? { 'signature-input': input, signature }
    : { 'signature-input': input, signature, 'content-digest': digest };
}

/** The components cpnet signs, with a body and without (shared, so their serialisation is made once). */
const COVERED_WITH_BODY: readonly string[] = Object.freeze([
  '@method',
  '@target-uri',
  'content-type',
  'content-digest',
]);
const COVERED_WITHOUT_BODY: readonly string[] = Object.freeze(['@method', '@target-uri']);
