import { serializeInnerList, type InnerList, type Item } from 'structured-headers';
import { headerValue, type HttpRequestLike } from './http.ts';

/** The RFC 9421 parameters cpnet signs. */
export interface SignatureParams {
  /** Unix seconds. */
  readonly created: number;
  /** Unix seconds, at most 60 s after `created`. */
  readonly expires: number;
  readonly nonce: string;
  readonly keyid: string;
  readonly alg: string;
  readonly tag: string;
}

/** Components cpnet may cover: the derived ones of the wire contract and a few header fields. */
export const ALLOWED_COMPONENTS: readonly string[] = [
  '@method',
  '@target-uri',
  'content-type',
  'content-digest',
  'cpn-protocol',
  'idempotency-key',
];

/** The inner list of a Signature-Input member. */
export function signatureInputList(components: readonly string[], params: SignatureParams): InnerList {
  const items: Item[] = components.map((c) => [c, new Map()]);
  const p = new Map<string, string | number>([
    ['created', params.created],
    ['expires', params.expires],
    ['nonce', params.nonce],
    ['keyid', params.keyid],
    ['alg', params.alg],
    ['tag', params.tag],
  ]);
  return [items, p];
}

function componentValue(request: HttpRequestLike, component: string): string | null {
  if (component === '@method') return request.method.toUpperCase();
  if (component === '@target-uri') return request.url;
  if (component.startsWith('@')) return null;
  return headerValue(request.headers, component) ?? null;
}

/**
 * The RFC 9421 §2.5 signature base: one line per covered component, then `"@signature-params"`.
 * Null (with the component) when a covered component is absent from the request.
 */
export function signatureBase(
  request: HttpRequestLike,
  list: InnerList,
  /** `serializeInnerList(list)` when the caller has it already (the signer puts it in Signature-Input too). */
  params: string = serializeInnerList(list),
): { base: string } | { missing: string } {
  return signatureBaseOf(
    request,
    list[0].map(([name]) => String(name)),
    params,
  );
}

/** The signature base from the covered components' names and the `@signature-params` text. */
export function signatureBaseOf(
  request: HttpRequestLike,
  components: readonly string[],
  params: string,
): { base: string } | { missing: string } {
  let base = '';
  for (const c of components) {
    const value = componentValue(request, c);
    if (value === null) return { missing: c };
    base += `"${c}": ${value}\n`;
  }
  return { base: `${base}"@signature-params": ${params}` };
}

/**
 * An RFC 8941 dictionary of one member whose value is a byte sequence without parameters — `key=:base64:` — as
 * `serializeDictionary` writes it (`key` is a constant token of cpnet's: a signature label or a digest algorithm).
 */
export function byteSequenceMember(key: string, bytes: Uint8Array): string {
  return `${key}=:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}:`;
}
