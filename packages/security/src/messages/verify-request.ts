import { parseDictionary, serializeInnerList, type InnerList, type Dictionary } from 'structured-headers';
import type { TimeSource } from '@cpnet/kernel';
import { checkProtocolVersion, PROTOCOL_HEADER } from '@cpnet/protocol';
import type { CryptoProfile, ProfileName, PublicKeyHandle } from '../crypto/profile.ts';
import { cryptoProfile } from '../crypto/profiles.ts';
import { bodyBytes, headerValue, transientUtf8, type HttpRequestLike } from './http.ts';
import { checkContentDigest, digestOf } from './content-digest.ts';
import { ALLOWED_COMPONENTS, signatureBaseOf, type SignatureParams } from './signature-base.ts';
import { parseCanonicalByteMember, parseCanonicalInput } from './canonical-fields.ts';
import { MAX_SIGNATURE_LIFETIME_S, SIGNATURE_LABEL, SIGNATURE_TAG } from './sign-request.ts';
import type { NonceStore } from './nonce-store.ts';

/** What a key lookup yields: the accepted keys (two during a rotation), a revocation, or nothing. */
export type KeyResolution = PublicKeyHandle | readonly PublicKeyHandle[] | { readonly revoked: string } | null;

/** The verifier's verdict, mapped by the node to 401 (UNAUTHENTICATED, REPLAYED) or 400 (UNSUPPORTED_VERSION). */
export type VerifyResult =
  | { readonly ok: true; readonly keyid: string; readonly created: number; readonly nonce: string }
  | {
      readonly ok: false;
      readonly code: 'UNAUTHENTICATED' | 'REPLAYED' | 'UNSUPPORTED_VERSION';
      readonly reason: string;
      /** What helps the sender find its mistake: the verifier's clock, and the base it verified when the bytes differ. */
      readonly detail?: RefusalDetail;
    };

/** Shown to the sender of a refused request (nothing secret: the base is built from what it sent). */
export interface RefusalDetail {
  /** The verifier's time (RFC 3339), on every refusal about time or the signature. */
  readonly serverTime: string;
  /** The RFC 9421 signature base the verifier rebuilt and checked, when the signature did not verify. */
  readonly signatureBase?: string;
}

/** Dependencies of a verifier. */
export interface VerifierOptions {
  resolveKey(keyid: string): KeyResolution | Promise<KeyResolution>;
  readonly nonceStore: NonceStore;
  readonly clock: TimeSource;
  /** Unix ms the node started; with a non-durable store, messages created before it are refused. */
  readonly startedAt?: number;
  readonly profile?: ProfileName;
  /** Allowed clock skew (default 30 000 ms). */
  readonly skewMs?: number;
  /** Also require a `cpn-protocol` header of our major version (checked after the signature). */
  readonly requireProtocolVersion?: boolean;
  /**
   * The origins (`scheme://host[:port]`) the verifying node answers at, its own first: a signature whose
   * `@target-uri` names another authority was meant for another node and is refused. Absent: not checked.
   */
  readonly authorities?: readonly string[];
  /**
   * Verify the signature on libuv's thread pool when the profile can (`verifyAsync`): the same check, off the event
   * loop, so a server keeps parsing and answering other requests meanwhile. Default false (synchronous).
   */
  readonly verifyOffLoop?: boolean;
}

const PARAMS = ['created', 'expires', 'nonce', 'keyid', 'alg', 'tag'];
type Failure = Extract<VerifyResult, { ok: false }>;
const unauth = (reason: string, detail?: RefusalDetail): Failure =>
  detail ? { ok: false, code: 'UNAUTHENTICATED', reason, detail } : { ok: false, code: 'UNAUTHENTICATED', reason };

function parseDict(value: string | undefined, name: string): Dictionary | string {
  if (value === undefined) return `missing ${name} header`;
  try {
    return parseDictionary(value);
  } catch {
    return `${name} is not a structured dictionary`;
  }
}

/** The covered components (`?` for one that is not a plain name), the parameters, and the inner list's text. */
interface SignedInput {
  readonly components: readonly string[];
  readonly params: ReadonlyMap<string, unknown>;
  /** The `@signature-params` value when the canonical text was read; else null, and `list` is what was parsed. */
  readonly text: string | null;
  readonly list: InnerList | null;
}

/** The `@signature-params` value: the canonical text read, or the library's serialisation of what it parsed. */
const paramsText = (input: SignedInput): string => input.text ?? serializeInnerList(input.list!);

/** The `label` member of a Signature-Input header: by the canonical fast path, else through `structured-headers`. */
function signedInput(value: string | undefined): SignedInput | string {
  const fast = value === undefined ? null : parseCanonicalInput(value, SIGNATURE_LABEL);
  if (fast) return { components: fast.components, params: fast.params, text: fast.text, list: null };
  const inputs = parseDict(value, 'Signature-Input');
  if (typeof inputs === 'string') return inputs;
  const input = inputs.get(SIGNATURE_LABEL);
  if (!input || !Array.isArray(input[0])) return `Signature-Input has no "${SIGNATURE_LABEL}" inner list`;
  const list = input as InnerList;
  return {
    components: list[0].map(([n, params]) => (typeof n === 'string' && params.size === 0 ? n : '?')),
    params: list[1],
    text: null,
    list,
  };
}

/** The `label` member of a Signature header, or why there is none. */
function signatureBytes(value: string | undefined): Uint8Array | string {
  const fast = value === undefined ? null : parseCanonicalByteMember(value, SIGNATURE_LABEL);
  if (fast) return fast;
  const sigs = parseDict(value, 'Signature');
  if (typeof sigs === 'string') return sigs;
  const sig = sigs.get(SIGNATURE_LABEL);
  if (!sig || !(sig[0] instanceof ArrayBuffer)) return `Signature has no "${SIGNATURE_LABEL}" byte sequence`;
  return new Uint8Array(sig[0]);
}

function checkParams(input: SignedInput, profile: CryptoProfile): SignatureParams | string {
  const p = input.params;
  for (const k of p.keys()) if (!PARAMS.includes(k)) return `unexpected signature parameter "${k}"`;
  const created = p.get('created'),
    expires = p.get('expires'),
    nonce = p.get('nonce'),
    keyid = p.get('keyid'),
    alg = p.get('alg'),
    tag = p.get('tag');
  if (!Number.isSafeInteger(created) || !Number.isSafeInteger(expires)) return 'created and expires must be integers';
  if (typeof nonce !== 'string' || nonce.length < 8 || nonce.length > 128)
    return 'nonce must be a string of 8 to 128 characters';
  if (typeof keyid !== 'string' || keyid.length === 0 || keyid.length > 256) return 'keyid must be a non-empty string';
  if (alg !== profile.httpAlg) return `alg ${JSON.stringify(alg)} is not allowed; expected "${profile.httpAlg}"`;
  if (tag !== SIGNATURE_TAG) return `tag ${JSON.stringify(tag)} is not "${SIGNATURE_TAG}"`;
  return { created: created as number, expires: expires as number, nonce, keyid, alg, tag };
}

/** A request whose body is not read yet: `hasBody` from its framing (Content-Length > 0, Transfer-Encoding). */
export type HttpRequestHead = Omit<HttpRequestLike, 'body'> & { readonly hasBody: boolean };

/** True for the components cpnet's signer covers, with a body or without. */
const isSignersList = (names: readonly string[]): boolean =>
  (names.length === 2 || (names.length === 4 && names[2] === 'content-type' && names[3] === 'content-digest')) &&
  names[0] === '@method' &&
  names[1] === '@target-uri';

function checkComponents(
  names: readonly string[],
  request: HttpRequestLike | HttpRequestHead,
  profile: CryptoProfile,
): string | null {
  // What cpnet's signer covers passes these checks; only another list needs them spelt out.
  if (!isSignersList(names)) {
    if (new Set(names).size !== names.length) return 'a component is covered twice';
    const bad = names.find((n) => !ALLOWED_COMPONENTS.includes(n));
    if (bad) return `component ${bad} may not be covered`;
    for (const need of ['@method', '@target-uri'])
      if (!names.includes(need)) return `the signature does not cover ${need}`;
  }
  const body = 'hasBody' in request ? null : bodyBytes(request.body);
  const digestHeader = headerValue(request.headers, 'content-digest');
  const hasBody = 'hasBody' in request ? request.hasBody : body!.length > 0;
  if (hasBody || digestHeader !== undefined) {
    for (const need of ['content-type', 'content-digest'])
      if (!names.includes(need)) return `a request with a body must cover ${need}`;
    // Before the body arrives, the digest is only checked for form; the bytes are compared by `checkBody`.
    if (body === null) {
      const d = digestOf(digestHeader ?? '', profile);
      return 'problem' in d ? d.problem : null;
    }
    return checkContentDigest(digestHeader ?? '', body, profile);
  }
  return null;
}

function checkTime(p: SignatureParams, options: VerifierOptions, durable: boolean): string | null {
  const now = options.clock.now();
  const skew = options.skewMs ?? 30_000;
  if (p.expires <= p.created || p.expires - p.created > MAX_SIGNATURE_LIFETIME_S)
    return `expires must be within ${MAX_SIGNATURE_LIFETIME_S} s after created`;
  if (p.created * 1000 > now + skew) return 'created is in the future beyond the allowed clock skew';
  if (p.expires * 1000 < now - skew) return 'the signature has expired';
  if (!durable && options.startedAt !== undefined && p.created * 1000 < options.startedAt)
    return 'created before this node started and its replay memory does not survive restarts';
  return null;
}

/** The origin of a URL (`http://h:1`, default port dropped, host lower-cased), or null when it is not an http(s) URL. */
function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * The verifier's own authorities come from configuration (a handful of URLs), parsed on every signed request before
 * (issue 26): their origins are kept, up to a bound, so that no input can grow the table. The signed URL is not.
 */
const ownOrigins = new Map<string, string | null>();
const OWN_ORIGINS_MAX = 256;
function ownOrigin(url: string): string | null {
  let o = ownOrigins.get(url);
  if (o === undefined) {
    o = originOf(url);
    if (ownOrigins.size < OWN_ORIGINS_MAX) ownOrigins.set(url, o);
  }
  return o;
}

/** Null when the signed `@target-uri` names one of `authorities`, else why not (naming both sides). */
function checkAuthority(url: string, authorities: readonly string[]): string | null {
  const signed = originOf(url);
  if (signed === null) return `@target-uri ${JSON.stringify(url.slice(0, 200))} is not an http(s) URL`;
  const own = authorities.map(ownOrigin).filter((o): o is string => o !== null);
  if (own.includes(signed)) return null;
  const others = own.length > 1 ? ` or one of its ${own.length - 1} aliases` : '';
  return `the signature is for ${signed}, not for this node (${own[0] ?? 'no authority configured'}${others})`;
}

function candidates(resolution: KeyResolution, profile: CryptoProfile): readonly PublicKeyHandle[] | string {
  if (resolution === null) return 'unknown keyid';
  if ('revoked' in resolution) return `the key is ${resolution.revoked}`;
  const keys = Array.isArray(resolution) ? resolution : [resolution as PublicKeyHandle];
  const usable = keys.filter((k) => k.profile === profile.name);
  return usable.length > 0 ? usable : 'no key of this profile is valid for keyid now';
}

/** The verdict on a request's headers: on success, `checkBody` compares the body, once read, with `Content-Digest`. */
export type HeadVerifyResult =
  Failure | (Extract<VerifyResult, { ok: true }> & { checkBody(body: Uint8Array): Failure | null });

/** A verifier of RFC 9421 signatures. */
export interface Verifier {
  /** Verifies a whole request, body included. */
  verify(request: HttpRequestLike): Promise<VerifyResult>;
  /**
   * Verifies a request before its body is read: everything but the body's bytes (the signature covers the
   * `Content-Digest` header, so a bad signature is refused without reading a byte). The nonce is spent on success.
   */
  verifyHead(request: HttpRequestHead): Promise<HeadVerifyResult>;
}

/** The verifier's time, shown on a refusal: written only when one is made (verification runs on every request). */
const serverTime = (options: VerifierOptions): string => new Date(options.clock.now()).toISOString();

/**
 * True for a promise (or any thenable). A plain answer — an in-memory key table or nonce store — is used as it is:
 * awaiting it would still cost a turn of the microtask queue on every request.
 */
const isThenable = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/** True when the signature verifies under one of the keys, tried in order off the event loop. */
async function someVerifiesAsync(
  verifyAsync: NonNullable<CryptoProfile['verifyAsync']>,
  { data, signature, keys }: { data: Uint8Array; signature: Uint8Array; keys: readonly PublicKeyHandle[] },
): Promise<boolean> {
  for (const k of keys) if (await verifyAsync(data, signature, k)) return true;
  return false;
}

/** Builds a verifier of RFC 9421 signatures with replay protection; it never throws for bad input. */
export function createVerifier(options: VerifierOptions): Verifier {
  const profile = cryptoProfile(options.profile ?? 'ed25519');
  const offLoop = (options.verifyOffLoop && profile.verifyAsync) || null;
  async function verify(request: HttpRequestLike | HttpRequestHead): Promise<VerifyResult> {
    const input = signedInput(headerValue(request.headers, 'signature-input'));
    if (typeof input === 'string') return unauth(input);
    const signature = signatureBytes(headerValue(request.headers, 'signature'));
    if (typeof signature === 'string') return unauth(signature);
    const params = checkParams(input, profile);
    if (typeof params === 'string') return unauth(params);
    const components = checkComponents(input.components, request, profile);
    if (components) return unauth(components);
    const time = checkTime(params, options, options.nonceStore.durable);
    if (time) return unauth(time, { serverTime: serverTime(options) });
    const authority = options.authorities ? checkAuthority(request.url, options.authorities) : null;
    if (authority) return unauth(authority);
    const resolution = options.resolveKey(params.keyid);
    const keys = candidates(isThenable(resolution) ? await resolution : resolution, profile);
    if (typeof keys === 'string') return unauth(`${keys}: ${params.keyid}`);
    const base = signatureBaseOf(request, input.components, paramsText(input));
    if (!('base' in base)) return unauth(`covered component ${base.missing} is missing from the request`);
    const data = transientUtf8(base.base);
    if (
      !(offLoop
        ? await someVerifiesAsync(offLoop, { data, signature, keys })
        : keys.some((k) => profile.verify(data, signature, k)))
    )
      return unauth('the signature does not verify', { serverTime: serverTime(options), signatureBase: base.base });
    // The version before the nonce: a request refused for its version has not spent its nonce.
    if (options.requireProtocolVersion) {
      const v = checkProtocolVersion(headerValue(request.headers, PROTOCOL_HEADER));
      if (!v.ok) return { ok: false, code: 'UNSUPPORTED_VERSION', reason: v.reason };
    }
    const expiresAt = params.expires * 1000 + (options.skewMs ?? 30_000);
    const seen = options.nonceStore.seen(params.keyid, params.nonce, expiresAt);
    if (isThenable(seen) ? await seen : seen)
      return { ok: false, code: 'REPLAYED', reason: `nonce already seen for ${params.keyid}` };
    return { ok: true, keyid: params.keyid, created: params.created, nonce: params.nonce };
  }
  return {
    verify,
    async verifyHead(request) {
      const v = await verify(request);
      if (!v.ok) return v;
      const digest = headerValue(request.headers, 'content-digest');
      return {
        ...v,
        checkBody(body) {
          if (digest === undefined)
            return body.length === 0 ? null : unauth('a request with a body must cover content-digest');
          const problem = checkContentDigest(digest, body, profile);
          return problem ? unauth(problem) : null;
        },
      };
    },
  };
}
