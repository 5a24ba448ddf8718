import { CANONICAL_ALPHABET, CHAR_VALUE, IS_CROCKFORD } from './alphabet.ts';
import { SECTION_OF_DIVISION } from './industries.ts';
import type { Kind } from './kinds.ts';
import { lazyError, type IdentifierError } from './errors.ts';
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
 * Industry codes and industry prefixes met so far, keyed by number. Bounded by the grammar: a code is a section
 * letter, one of the 97 divisions of that section and a digit 1–9 (873 codes), a prefix one of those in one of the
 * 34 provinces (about 30,000), so the caches cannot grow with the input.
 */
const INDUSTRY_TEXT = new Map<number, string>();
const INDUSTRY_PREFIX = new Map<number, string>();

const step = (p: number, v: number): number => ((p + v) * 36) % 1271;
// Deferred reduction: mod is a ring homomorphism, so reducing only when the accumulator nears 2^53 is exact
// (2e14 + 35, times 36, stays below 2^53 ≈ 9.007e15) and saves a division per character.
const LAZY_LIMIT = 2e14;
const P_CPN = step(step(step(0, 12), 25), 23);
const digit = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : -1);
/** ASCII upper-casing of one char code (the input rules upper-case ASCII letters only). */
const up = (c: number): number => (c >= 97 && c <= 122 ? c - 32 : c);
const value = (c: number): number => (c < 128 ? CHAR_VALUE[up(c)]! : -1);

/**
 * The hot path: validates an identifier in one pass over its char codes — applying the ASCII trim and
 * upper-casing as it goes — and returns its canonical segments, or null for any failure (the detailed parser then
 * explains it); a wrong check pair — the common typo — is explained here. Valid input is a resolver's common case,
 * so this allocates only the result.
 */
export function fastParse(input: string): FastParsed | IdentifierError | null {
  let a = 0;
  let n = input.length;
  while (a < n && (input.charCodeAt(a) === 32 || input.charCodeAt(a) === 9)) a++;
  while (n > a && (input.charCodeAt(n - 1) === 32 || input.charCodeAt(n - 1) === 9)) n--;
  if (
    n - a < 10 ||
    up(input.charCodeAt(a)) !== 67 ||
    up(input.charCodeAt(a + 1)) !== 80 ||
    up(input.charCodeAt(a + 2)) !== 78
  )
    return null;
  let p = P_CPN;
  let i = a + 3;
  let regionNumber = -1;
  let industryAt = -1;
  if (input.charCodeAt(i) === 46) {
    const d1 = digit(input.charCodeAt(i + 1));
    const d2 = digit(input.charCodeAt(i + 2));
    if (d1 < 0 || d2 < 0) return null;
    if (IS_PROVINCE_NUMBER[d1 * 10 + d2] !== 1) {
      // Explained here only when it is the detailed scanner's first complaint too; else that scanner explains.
      return regionComesFirst(input, i + 3, n) ? regionFailure(input.slice(i + 1, i + 3), i + 1 - a) : null;
    }
    regionNumber = d1 * 10 + d2;
    p = step(step(p, d1), d2);
    i += 3;
    if (input.charCodeAt(i) === 46) {
      const letter = up(input.charCodeAt(i + 1));
      const e1 = digit(input.charCodeAt(i + 2));
      const e2 = digit(input.charCodeAt(i + 3));
      const e3 = digit(input.charCodeAt(i + 4));
      if (e1 < 0 || e2 < 0 || e3 < 1 || SECTION_OF_DIVISION[e1 * 10 + e2] !== letter) return null;
      industryAt = i + 1 - a;
      p = step(step(step(step(p, letter - 55), e1), e2), e3);
      i += 5;
    }
  }
  if (input.charCodeAt(i) !== 47 || input.charCodeAt(i + 3) !== 45) return null;
  const k1 = up(input.charCodeAt(i + 1));
  const k2 = up(input.charCodeAt(i + 2));
  const kind = k1 >= 65 && k1 <= 90 && k2 >= 65 && k2 <= 90 ? KIND_AT[(k1 - 65) * 26 + k2 - 65] : undefined;
  if (kind === undefined) return null;
  p = step(step(p, k1 - 55), k2 - 55);
  const serialAt = i + 4;
  const checkAt = n - 2;
  if (checkAt - serialAt < 1 || checkAt - serialAt > 16) return null;
  // Upper-casing is needed only when some letter was lower case; note it while scanning instead of rescanning.
  let lower =
    k1 !== input.charCodeAt(i + 1) ||
    k2 !== input.charCodeAt(i + 2) ||
    input.charCodeAt(a) !== 67 ||
    input.charCodeAt(a + 1) !== 80 ||
    input.charCodeAt(a + 2) !== 78 ||
    (industryAt >= 0 && input.charCodeAt(a + industryAt) > 90);
  for (let j = serialAt; j < checkAt; j++) {
    const raw = input.charCodeAt(j);
    const c = up(raw);
    if (c !== raw) lower = true;
    if (c >= 128 || IS_CROCKFORD[c] !== 1)
      return printableFrom(input, j, n) ? serialFailure(input, { serialAt, checkAt, at: j, a }) : null;
    p = (p + CHAR_VALUE[c]!) * 36;
    if (p > LAZY_LIMIT) p %= 1271;
  }
  const expected = (1272 - (((p % 1271) * 36) % 1271)) % 1271;
  const v1 = value(input.charCodeAt(checkAt));
  const v2 = value(input.charCodeAt(checkAt + 1));
  if (v1 < 0 || v2 < 0) return null;
  if (v1 * 36 + v2 !== expected) return lazyCheckFailure(input, n - a - 2, expected);
  let id = a === 0 && n === input.length ? input : input.slice(a, n);
  if (lower || input.charCodeAt(checkAt) > 90 || input.charCodeAt(checkAt + 1) > 90) id = id.toUpperCase();
  const prefixEnd = i - a;
  let prefix = 'CPN';
  let industry: string | null = null;
  if (industryAt >= 0) {
    // The code's number: section letter, then the three digits (all checked above).
    const code = (id.charCodeAt(industryAt) - 65) * 1000 + codeDigits(id, industryAt + 1);
    industry = INDUSTRY_TEXT.get(code) ?? cache(INDUSTRY_TEXT, code, id.slice(industryAt, industryAt + 4));
    const key = regionNumber * 26_000 + code;
    prefix = INDUSTRY_PREFIX.get(key) ?? cache(INDUSTRY_PREFIX, key, id.slice(0, prefixEnd));
  } else if (regionNumber >= 0) prefix = REGIONAL_PREFIX[regionNumber]!;
  return {
    id,
    prefix,
    region: regionNumber < 0 ? null : REGION_TEXT[regionNumber]!,
    industry,
    kind,
    serial: id.slice(prefixEnd + 4, id.length - 2),
    check: CHECK_TEXT[expected]!,
  };
}

/**
 * True when a bad region is what the detailed scanner reports first: the two digits end the region ('.' or '/'
 * follows), the text has a '/', and nothing in it is outside printable ASCII (which the input rules refuse first).
 */
function regionComesFirst(input: string, from: number, n: number): boolean {
  const after = input.charCodeAt(from);
  if (after !== 46 && after !== 47) return false;
  let slash = false;
  for (let j = from; j < n; j++) {
    const c = input.charCodeAt(j);
    if (c < 0x21 || c > 0x7e) return false;
    if (c === 47) slash = true;
  }
  return slash;
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

const codeDigits = (s: string, at: number): number =>
  (s.charCodeAt(at) - 48) * 100 + (s.charCodeAt(at + 1) - 48) * 10 + s.charCodeAt(at + 2) - 48;

function cache(map: Map<number, string>, key: number, text: string): string {
  map.set(key, text);
  return text;
}

/**
 * `checkFailure` of the trimmed input, whose check pair is at `at` (counted in it) and ends `at + 2` characters into
 * `input` past its leading blanks; the text is made only when the rejection is read.
 */
function lazyCheckFailure(input: string, at: number, expected: number): IdentifierError {
  return lazyError(
    'check',
    () => [
      `check characters "${input
        .trimStart()
        .slice(at, at + 2)
        .toUpperCase()}" are wrong`,
      `"${CHECK_TEXT[expected]!}" (ISO/IEC 7064 MOD 1271-36)`,
    ],
    at,
  );
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
