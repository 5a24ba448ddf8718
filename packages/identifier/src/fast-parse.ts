import { CANONICAL_ALPHABET, CHAR_VALUE, IS_CROCKFORD } from './alphabet.ts';
import { SECTION_OF_DIVISION } from './industries.ts';
import type { Kind } from './kinds.ts';
import { err, type Result } from '@cpnet/kernel';
import { identifierError, lazyError, type IdentifierError } from './errors.ts';
import { IS_PROVINCE_NUMBER } from './provinces.ts';

/** The segments of a valid identifier (the same shape ParsedIdentifier has). */
export interface FastParsed {
  readonly id: string;
  readonly prefix: string;
  readonly region: string | null;
  readonly industry: string | null;
  readonly kind: Kind;
  readonly serial: string;
  readonly check: string;
}

// The canonical texts the parser returns, made once: a valid identifier's result then shares these strings instead
// of allocating a slice per segment (allocation and the garbage collector were half of a validation's time).
/** A kind by its two upper-case letters, at (first - 65) * 26 + (second - 65). */
const KIND_AT: ReadonlyArray<Kind | undefined> = (() => {
  const table = new Array<Kind | undefined>(26 * 26).fill(undefined);
  for (const k of ['ND', 'PV', 'CL', 'RP', 'SV', 'JB'] as const)
    table[(k.charCodeAt(0) - 65) * 26 + k.charCodeAt(1) - 65] = k;
  return table;
})();
const REGION_TEXT: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const REGIONAL_PREFIX: readonly string[] = REGION_TEXT.map((r) => `CPN.${r}`);
/** The check pair by its value (first * 36 + second), in canonical characters. */
const CHECK_TEXT: readonly string[] = Array.from(
  { length: 36 * 36 },
  (_, v) => CANONICAL_ALPHABET[Math.floor(v / 36)]! + CANONICAL_ALPHABET[v % 36]!,
);
/**
 * Industry codes and industry prefixes met so far. A valid code's section letter follows from its division, so a
 * code is numbered by division * 10 + last digit (< 1,000) and a prefix by that within its region: bounded by the
 * grammar (873 codes, about 30,000 prefixes), so the caches cannot grow with the input.
 */
const INDUSTRY_TEXT: Array<string | undefined> = new Array<string | undefined>(1000).fill(undefined);
const INDUSTRY_PREFIX: Array<Array<string | undefined> | undefined> = new Array<Array<string | undefined> | undefined>(
  100,
).fill(undefined);

// The check value by weights instead of by Horner's rule. Horner's p = ((p + v) * 36) mod 1271, over characters
// c1 … cm, is Σ v(ci) · 36^(m − i + 1) mod 1271, and H(A B) = H(A) · 36^|B| + H(B). So the prefix's and the kind's
// parts come from tables, and the serial's characters are summed with weights 36^k mod 1271 — one reduction at the
// end instead of a division per character, each in the chain of the one before (that chain was the scan's cost).
const MOD = 1271;
/** 36^k mod 1271, for k up to the longest run an identifier has. */
const POW36: Int32Array = (() => {
  const t = new Int32Array(24);
  for (let k = 0, w = 1; k < t.length; k++, w = (w * 36) % MOD) t[k] = w;
  return t;
})();
/** The check value from Horner's value p of everything before it: (1272 − p · 36 mod 1271) mod 1271. */
const CHECK_OF: Int32Array = Int32Array.from({ length: MOD }, (_, p) => (MOD + 1 - ((p * 36) % MOD)) % MOD);
/** Horner's value of canonical characters (no separators). */
function horner(text: string): number {
  let p = 0;
  for (let i = 0; i < text.length; i++) p = ((p + CHAR_VALUE[text.charCodeAt(i)]!) * 36) % MOD;
  return p;
}
const H_CPN = horner('CPN');
/** Horner's value of "CPN" and a region's two digits, by the region's number. */
const H_REGION: Int32Array = Int32Array.from({ length: 100 }, (_, r) => horner(`CPN${REGION_TEXT[r]!}`));
/** Horner's value of an industry code (section letter, division, digit), by division * 10 + digit. */
const H_INDUSTRY: Int32Array = Int32Array.from({ length: 1000 }, (_, x) => {
  const letter = SECTION_OF_DIVISION[Math.floor(x / 10)] ?? 0;
  return letter === 0 ? 0 : horner(String.fromCharCode(letter) + String(x).padStart(3, '0'));
});
/** Horner's value of a kind's two letters, at the KIND_AT index. */
const H_KIND: Int32Array = Int32Array.from({ length: 26 * 26 }, (_, x) =>
  KIND_AT[x] === undefined ? 0 : horner(KIND_AT[x]!),
);
/** Marks a lower-case letter in SERIAL_VALUE (values are below 64). */
const LOWER = 64;
/**
 * The value of a serial character (Crockford's alphabet, either case) by char code below 128, plus LOWER for a
 * lower-case letter; -1 for anything else.
 */
const SERIAL_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let c = 0; c < 128; c++) {
    if (IS_CROCKFORD[c] !== 1) continue;
    t[c] = CHAR_VALUE[c]!;
    if (c >= 65) t[c + 32] = CHAR_VALUE[c]! + LOWER;
  }
  return t;
})();
/** The value of 0-9, A-Z or a-z by char code below 128, else -1 (the check pair). */
const ANY_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let c = 0; c < 128; c++) if (CHAR_VALUE[c]! >= 0) t[c] = t[c < 65 ? c : c + 32] = CHAR_VALUE[c]!;
  return t;
})();

const digit = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : -1);
/** ASCII upper-casing of one char code (the input rules upper-case ASCII letters only). */
const up = (c: number): number => (c >= 97 && c <= 122 ? c - 32 : c);

/**
 * The hot path: validates an identifier in one pass over its char codes — applying the ASCII trim and
 * upper-casing as it goes — and returns its canonical segments, or null for any failure (the detailed parser then
 * explains it); a wrong check pair — the common typo — is explained here. Valid input is a resolver's common case,
 * so this allocates only the result.
 */
export function fastParse(input: string): FastParsed | IdentifierError | null {
  const r = fastParseResult(input);
  return r === null ? null : r.ok ? r.value : r.error;
}

/**
 * `fastParse` as the Result `parseIdentifier` returns (made here, so that the caller need not tell a result from a
 * rejection by its shape).
 * @internal
 */
export function fastParseResult(input: string): Result<FastParsed, IdentifierError> | null {
  // Each character is read once (reading is most of a scan's cost): the blanks' ends give the first and last.
  let a = 0;
  let n = input.length;
  if (n < 10) return null;
  let c0 = input.charCodeAt(0);
  while (c0 === 32 || c0 === 9) {
    if (++a === n) return null;
    c0 = input.charCodeAt(a);
  }
  // input[a] is not blank, so this stops at a at the latest.
  let x2 = input.charCodeAt(n - 1);
  while (x2 === 32 || x2 === 9) x2 = input.charCodeAt(--n - 1);
  if (n - a < 10) return null;
  const c1 = input.charCodeAt(a + 1);
  const c2 = input.charCodeAt(a + 2);
  // Lower case anywhere is noted as the scan goes, so that upper-casing costs nothing when there is none.
  let lower = c0 !== 67 || c1 !== 80 || c2 !== 78;
  if (lower && (up(c0) !== 67 || up(c1) !== 80 || up(c2) !== 78)) return null;
  let h = H_CPN;
  let i = a + 3;
  let regionNumber = -1;
  let industry = -1;
  let c = input.charCodeAt(i);
  if (c === 46) {
    const d1 = digit(input.charCodeAt(i + 1));
    const d2 = digit(input.charCodeAt(i + 2));
    if (d1 < 0 || d2 < 0) return null;
    regionNumber = d1 * 10 + d2;
    // Not a province: whether that is the first thing wrong (the detailed scanner's answer) needs the rest read again,
    // so it is left to the detailed scanner, when the rejection is read.
    if (IS_PROVINCE_NUMBER[regionNumber] !== 1) return null;
    h = H_REGION[regionNumber]!;
    i += 3;
    c = input.charCodeAt(i);
    if (c === 46) {
      const raw = input.charCodeAt(i + 1);
      const e1 = digit(input.charCodeAt(i + 2));
      const e2 = digit(input.charCodeAt(i + 3));
      const e3 = digit(input.charCodeAt(i + 4));
      if (e1 < 0 || e2 < 0 || e3 < 1 || SECTION_OF_DIVISION[e1 * 10 + e2] !== up(raw)) return null;
      if (raw > 90) lower = true;
      industry = e1 * 100 + e2 * 10 + e3;
      h = (h * POW36[4]! + H_INDUSTRY[industry]!) % MOD;
      i += 5;
      c = input.charCodeAt(i);
    }
  }
  if (c !== 47 || input.charCodeAt(i + 3) !== 45) return null;
  const r1 = input.charCodeAt(i + 1);
  const r2 = input.charCodeAt(i + 2);
  const k1 = up(r1);
  const k2 = up(r2);
  const kindAt = k1 >= 65 && k1 <= 90 && k2 >= 65 && k2 <= 90 ? (k1 - 65) * 26 + k2 - 65 : 0;
  const kind = KIND_AT[kindAt];
  if (kind === undefined) return null;
  if (r1 !== k1 || r2 !== k2) lower = true;
  const serialAt = i + 4;
  const checkAt = n - 2;
  const length = checkAt - serialAt;
  if (length < 1 || length > 16) return null;
  let sum = 0;
  let marks = 0;
  for (let j = serialAt, k = length; k > 0; j++, k--) {
    const c = input.charCodeAt(j);
    const v = c < 128 ? SERIAL_VALUE[c]! : -1;
    if (v < 0) return printableFrom(input, j, n) ? err(serialFailure(input, { serialAt, checkAt, at: j, a })) : null;
    marks |= v;
    sum += (v & (LOWER - 1)) * POW36[k]!;
  }
  if ((marks & LOWER) !== 0) lower = true;
  const p = (h * POW36[length + 2]! + H_KIND[kindAt]! * POW36[length]! + sum) % MOD;
  const expected = CHECK_OF[p]!;
  const x1 = input.charCodeAt(checkAt);
  const v1 = x1 < 128 ? ANY_VALUE[x1]! : -1;
  const v2 = x2 < 128 ? ANY_VALUE[x2]! : -1;
  if (v1 < 0 || v2 < 0) return null;
  if (v1 * 36 + v2 !== expected) return err(new WrongCheckPair(input, n - a - 2, expected));
  let id = a === 0 && n === input.length ? input : input.slice(a, n);
  if (lower || x1 > 90 || x2 > 90) id = id.toUpperCase();
  const prefixEnd = i - a;
  let prefix = 'CPN';
  let industryText: string | null = null;
  if (industry >= 0) {
    const at = prefixEnd - 4;
    industryText = INDUSTRY_TEXT[industry] ??= id.slice(at, prefixEnd);
    prefix = (INDUSTRY_PREFIX[regionNumber] ??= new Array<string | undefined>(1000).fill(undefined))[industry] ??=
      id.slice(0, prefixEnd);
  } else if (regionNumber >= 0) prefix = REGIONAL_PREFIX[regionNumber]!;
  return {
    ok: true,
    value: {
      id,
      prefix,
      region: regionNumber < 0 ? null : REGION_TEXT[regionNumber]!,
      industry: industryText,
      kind,
      serial: id.slice(prefixEnd + 4, id.length - 2),
      check: CHECK_TEXT[expected]!,
    },
  };
}

/** True when nothing in input[from, n) is outside printable ASCII (what the input rules refuse before the grammar). */
function printableFrom(input: string, from: number, n: number): boolean {
  for (let j = from; j < n; j++) {
    const c = input.charCodeAt(j);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

export const SERIAL_ALONE = "1 to 16 characters of Crockford's base-32 (0-9 A-Z without I L O U)";
export const EXPECTED_SERIAL = `${SERIAL_ALONE}, then 2 check characters`;

/** Names a character of the serial by its place in the serial (1-based), as the user typed it. */
export function badSerialCharacter(serial: string, index: number): string {
  return `serial "${serial}" has "${serial[index]}" at character ${index + 1} of the serial`;
}

/**
 * The detailed scanner's rejection of a serial character outside Crockford's alphabet: the serial is
 * input[serialAt, checkAt), the bad character at `at`, the trimmed input starting at `a`.
 */
function serialFailure(
  input: string,
  { serialAt, checkAt, at, a }: { serialAt: number; checkAt: number; at: number; a: number },
): IdentifierError {
  return lazyError(
    'serial',
    () => [badSerialCharacter(input.slice(serialAt, checkAt).toUpperCase(), at - serialAt), EXPECTED_SERIAL],
    at - a,
  );
}

/**
 * A wrong check pair, found by the scanner: the pair is at `position` in the trimmed input, which starts past the
 * leading blanks of `input`; its words are written when first read, like every lazy rejection.
 */
class WrongCheckPair implements IdentifierError {
  readonly segment = 'check';
  readonly #input: string;
  readonly #expected: number;
  constructor(
    input: string,
    readonly position: number,
    expected: number,
  ) {
    this.#input = input;
    this.#expected = expected;
  }
  get message(): string {
    const pair = this.#input
      .trimStart()
      .slice(this.position, this.position + 2)
      .toUpperCase();
    return `check characters "${pair}" are wrong`;
  }
  get expected(): string {
    return `"${CHECK_TEXT[this.#expected]!}" (ISO/IEC 7064 MOD 1271-36)`;
  }
  toJSON(): IdentifierError {
    return identifierError(this.segment, [this.message, this.expected], this.position);
  }
}

/** The rejection for wrong check characters, naming the expected pair. */
export function checkFailure(canonical: string, expected: number): IdentifierError {
  const at = canonical.length - 2;
  return lazyError(
    'check',
    () => [
      `check characters "${canonical.slice(at)}" are wrong`,
      `"${CANONICAL_ALPHABET[Math.floor(expected / 36)]!}${CANONICAL_ALPHABET[expected % 36]!}" (ISO/IEC 7064 MOD 1271-36)`,
    ],
    at,
  );
}

const EXPECTED_REGION = 'a GB/T 2260 province-level code (11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82)';

/** The rejection for two digits that are not a province-level code. */
export function regionFailure(region: string, position: number): IdentifierError {
  return lazyError(
    'region',
    () => [`region "${region}" is not a GB/T 2260 province-level code`, EXPECTED_REGION],
    position,
  );
}
