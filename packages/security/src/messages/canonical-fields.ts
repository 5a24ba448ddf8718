/**
 * Fast paths for the structured fields cpnet writes itself (issue 26: the CPU a signed request costs beyond its
 * Ed25519 operations). Each reads or writes only the canonical form — the exact text `structured-headers` serialises —
 * and answers null for anything else, which then goes through `structured-headers` as before. So nothing is accepted
 * here that the library would refuse, and the `@signature-params` line is the canonical serialisation either way.
 * `canonical-fields.test.ts` holds both sides equal to the library with fast-check.
 */
import type { SignatureParams } from './signature-base.ts';

/** Characters of an sf-string that serialise as themselves: printable ASCII but `"` and `\`. */
const PLAIN = '[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]*';
const PLAIN_RE = new RegExp(`^${PLAIN}$`);
/** An sf-integer as serialised: no sign, no leading zero, at most 15 digits. */
const INT = '(0|[1-9][0-9]{0,14})';
const MAX_SF_INTEGER = 999_999_999_999_999;

const plain = (s: string): boolean => PLAIN_RE.test(s);
const sfInt = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= MAX_SF_INTEGER;

/**
 * The serialisation of a Signature-Input inner list of cpnet's shape — the components, then created, expires, nonce,
 * keyid, alg and tag in that order — or null when a value needs escaping or is out of range (then the caller
 * serialises through the library).
 */
export function signatureParamsText(components: readonly string[], p: SignatureParams): string | null {
  if (!sfInt(p.created) || !sfInt(p.expires)) return null;
  const items = componentsText(components);
  if (items === null || !plain(p.nonce) || !plain(p.keyid) || !plain(p.alg) || !plain(p.tag)) return null;
  return `(${items});created=${p.created};expires=${p.expires};nonce="${p.nonce}";keyid="${p.keyid}";alg="${p.alg}";tag="${p.tag}"`;
}

/** Serialised frozen component lists (the signer's constants), made once each. */
const frozenLists = new WeakMap<readonly string[], string | null>();

/** The inner list's items, `"@method" "@target-uri" …`, or null when one needs escaping. */
function componentsText(components: readonly string[]): string | null {
  const known = frozenLists.get(components);
  if (known !== undefined) return known;
  let text: string | null = components.map((c) => `"${c}"`).join(' ');
  for (const s of components) if (!plain(s)) text = null;
  if (Object.isFrozen(components)) frozenLists.set(components, text);
  return text;
}

/** A Signature-Input member read by the fast path. */
export interface CanonicalInput {
  /** The covered components, in order. */
  readonly components: readonly string[];
  readonly params: ReadonlyMap<string, string | number>;
  /** The inner list's text: the `@signature-params` value. */
  readonly text: string;
}

const inputPatterns = new Map<string, RegExp>();
function inputPattern(label: string): RegExp {
  let re = inputPatterns.get(label);
  if (!re) {
    const item = `"${PLAIN}"`;
    const list = `\\(((?:${item}(?: ${item})*)?)\\)`;
    const params = `;created=${INT};expires=${INT};nonce="(${PLAIN})";keyid="(${PLAIN})";alg="(${PLAIN})";tag="(${PLAIN})"`;
    re = new RegExp(`^${label}=(${list}${params})$`);
    inputPatterns.set(label, re);
  }
  return re;
}

/**
 * A Signature-Input header that is exactly one member, `label`, in canonical form with cpnet's parameters in cpnet's
 * order; null for anything else.
 */
export function parseCanonicalInput(value: string, label: string): CanonicalInput | null {
  const m = inputPattern(label).exec(value);
  if (!m) return null;
  const list = m[2]!;
  const components = list === '' ? [] : list.slice(1, -1).split('" "');
  const params = new Map<string, string | number>([
    ['created', Number(m[3])],
    ['expires', Number(m[4])],
    ['nonce', m[5]!],
    ['keyid', m[6]!],
    ['alg', m[7]!],
    ['tag', m[8]!],
  ]);
  return { components, params, text: m[1]! };
}

const bytePatterns = new Map<string, RegExp>();
/** Base64 characters whose value is a multiple of 16 (last before "=="), or of 4 (last before "="). */
const LAST_BEFORE_2 = 'AQgw';
const LAST_BEFORE_1 = 'AEIMQUYcgkosw048';
/**
 * The bytes of a dictionary that is exactly one member, `key=:base64:` (Signature, Content-Digest), in canonical
 * form; null for anything else.
 */
export function parseCanonicalByteMember(value: string, key: string): Uint8Array | null {
  let re = bytePatterns.get(key);
  if (!re) {
    re = new RegExp(
      `^${key.replace(/[^a-z0-9]/g, '\\$&')}=:((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?):$`,
    );
    bytePatterns.set(key, re);
  }
  const m = re.exec(value);
  if (!m) return null;
  const text = m[1]!;
  // Canonical base64 only: the bits the last character carries past the bytes must be zero — 4 of them before "==",
  // 2 before "=" (the characters whose value is a multiple of 16, or of 4); the same as a re-encoding reproducing it.
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (pad > 0 && !(pad === 2 ? LAST_BEFORE_2 : LAST_BEFORE_1).includes(text[text.length - pad - 1]!)) return null;
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
