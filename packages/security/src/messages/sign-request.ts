import { serializeInnerList } from 'structured-headers';
import type { TimeSource } from '@cpnet/kernel';
import type { PrivateKeyHandle } from '../crypto/profile.ts';
import { profileOf } from '../crypto/profiles.ts';
import { cryptoRandomBytes, type RandomBytes } from '../crypto/random.ts';
import { b64url, utf8 } from '../crypto/encoding.ts';
import { bodyBytes, headerValue, type HttpRequestLike } from './http.ts';
import { contentDigest } from './content-digest.ts';
import { byteSequenceMember, signatureBaseOf, signatureInputList } from './signature-base.ts';
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
  const components = ['@method', '@target-uri'];
  let digest: string | undefined;
  let headers = request.headers;
  if (body.length > 0) {
    if (headerValue(request.headers, 'content-type') === undefined)
      throw new TypeError('a request with a body must have a content-type to sign');
    digest = contentDigest(body, profile);
    headers = { ...request.headers, 'content-digest': digest };
    components.push('content-type', 'content-digest');
  }
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
  const base = signatureBaseOf({ ...request, headers }, components, params);
  if (!('base' in base)) throw new TypeError(`cannot sign: component ${base.missing} is missing`);
  const signature = profile.sign(utf8(base.base), options.privateKey);
  const out = {
    'signature-input': `${SIGNATURE_LABEL}=${params}`,
    signature: byteSequenceMember(SIGNATURE_LABEL, signature),
  };
  return digest === undefined ? out : { ...out, 'content-digest': digest };
}
