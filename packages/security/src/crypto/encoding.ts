import { canonicalJson } from './jcs.ts';

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** base64url without padding (RFC 7515 §2). */
export const b64url = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/** Standard base64 with padding (RFC 8941 byte sequences, RFC 9530 digests). */
export const b64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Decodes strict base64url (no padding, no other characters); null when malformed. */
export function fromB64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  const bytes = Buffer.from(s, 'base64url');
  // Reject non-canonical encodings (trailing bits set), so one value has one encoding.
  return b64url(bytes) === s ? new Uint8Array(bytes) : null;
}

/** RFC 8785 (JCS) canonical JSON text; throws on values JSON cannot hold. */
export function jcs(value: unknown): string {
  const text = canonicalJson(value);
  if (text === undefined) throw new TypeError('value cannot be canonicalised as JSON');
  return text;
}

/** RFC 8785 (JCS) canonical JSON as UTF-8 bytes. */
export const jcsBytes = (value: unknown): Uint8Array => utf8(jcs(value));

/** Constant-time equality of two byte strings (false when lengths differ). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Hex of bytes. */
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Bytes of a hex string. */
export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
