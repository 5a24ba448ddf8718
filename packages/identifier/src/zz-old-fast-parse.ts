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

const KIND_BY_PAIR: ReadonlyMap<number, Kind> = new Map(
  (['ND', 'PV', 'CL', 'RP', 'SV', 'JB'] as const).map((k) => [k.charCodeAt(0) * 128 + k.charCodeAt(1), k]),
);
const REGION_TEXT: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

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
    if (IS_PROVINCE_NUMBER[d1 * 10 + d2] !== 1) return regionFailure(input.slice(i + 1, i + 3), i + 1 - a);
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
  const kind = KIND_BY_PAIR.get(k1 * 128 + k2);
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
    if (c >= 128 || IS_CROCKFORD[c] !== 1) return null;
    p = (p + CHAR_VALUE[c]!) * 36;
    if (p > LAZY_LIMIT) p %= 1271;
  }
  const expected = (1272 - (((p % 1271) * 36) % 1271)) % 1271;
  const v1 = value(input.charCodeAt(checkAt));
  const v2 = value(input.charCodeAt(checkAt + 1));
  if (v1 < 0 || v2 < 0) return null;
  if (v1 * 36 + v2 !== expected) return checkFailure(input.slice(a, n).toUpperCase(), expected);
  let id = a === 0 && n === input.length ? input : input.slice(a, n);
  if (lower || input.charCodeAt(checkAt) > 90 || input.charCodeAt(checkAt + 1) > 90) id = id.toUpperCase();
  const prefixEnd = i - a;
  return {
    id,
    prefix: id.slice(0, prefixEnd),
    region: regionNumber < 0 ? null : REGION_TEXT[regionNumber]!,
    industry: industryAt < 0 ? null : id.slice(industryAt, industryAt + 4),
    kind,
    serial: id.slice(prefixEnd + 4, id.length - 2),
    check: id.slice(id.length - 2),
  };
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
