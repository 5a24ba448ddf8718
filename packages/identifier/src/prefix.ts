import { err, ok, type Result } from '@cpnet/kernel';
import { lazyError, type IdentifierError } from './errors.ts';
import { IS_PROVINCE_NUMBER } from './provinces.ts';
import { SECTION_OF_DIVISION } from './industries.ts';
import { normalise } from './normalise.ts';
import { regionFailure } from './fast-parse.ts';

/** The level of a naming authority. */
export type PrefixLevel = 'national' | 'regional' | 'industry';

/** A parsed prefix: `CPN`, `CPN.51` or `CPN.51.C151`. */
export interface ParsedPrefix {
  readonly prefix: string;
  readonly level: PrefixLevel;
  readonly region: string | null;
  readonly industry: string | null;
}

/** The national prefix. */
export const ROOT_PREFIX = 'CPN';

const EXPECTED_PREFIX = '"CPN", "CPN.<region>" or "CPN.<region>.<industry>"';
const EXPECTED_REGION = 'a GB/T 2260 province-level code (11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82)';
const EXPECTED_INDUSTRY =
  'a GB/T 4754-2017 中类: section letter, 2-digit division of that section, digit 1–9 (e.g. C151)';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Parses the prefix in s[0, end) of an already normalised string. Allocation-free until success.
 * @internal used by the identifier parser.
 */
export function scanPrefix(s: string, end: number): Result<ParsedPrefix, IdentifierError> {
  if (end < 3 || s.charCodeAt(0) !== 67 || s.charCodeAt(1) !== 80 || s.charCodeAt(2) !== 78) {
    return err(lazyError('prefix', () => [`prefix "${s.slice(0, end)}" does not start with CPN`, EXPECTED_PREFIX], 0));
  }
  if (end === 3) return ok({ prefix: 'CPN', level: 'national', region: null, industry: null });
  if (s.charCodeAt(3) !== 46) {
    return err(
      lazyError(
        'prefix',
        () => [`prefix "${s.slice(0, end)}" has "${s[3]}" after CPN`, `"." then a region code, or "/"`],
        3,
      ),
    );
  }
  if (end < 6 || !isDigit(s.charCodeAt(4)) || !isDigit(s.charCodeAt(5)) || (end > 6 && s.charCodeAt(6) !== 46)) {
    const stop = s.indexOf('.', 4);
    const got = s.slice(4, stop < 0 || stop > end ? end : stop);
    return err(lazyError('region', () => [`region "${got}" is not 2 digits`, EXPECTED_REGION], 4));
  }
  const regionNumber = (s.charCodeAt(4) - 48) * 10 + (s.charCodeAt(5) - 48);
  if (IS_PROVINCE_NUMBER[regionNumber] !== 1) {
    return err(regionFailure(s.slice(4, 6), 4));
  }
  const region = s.slice(4, 6);
  if (end === 6) return ok({ prefix: s.slice(0, 6), level: 'regional', region, industry: null });
  return scanIndustry(s, end, region);
}

function scanIndustry(s: string, end: number, region: string): Result<ParsedPrefix, IdentifierError> {
  // A dot after the industry's start is a fourth part: the fault is the prefix's shape, not the industry code.
  const extra = s.indexOf('.', 7);
  if (extra >= 0 && extra < end) {
    return err(
      lazyError(
        'prefix',
        () => [
          `prefix "${s.slice(0, end)}" has ${s.slice(0, end).split('.').length} parts; a prefix has at most 3`,
          EXPECTED_PREFIX,
        ],
        extra,
      ),
    );
  }
  const got = s.slice(7, end);
  const letter = s.charCodeAt(7);
  if (end !== 11 || letter < 65 || letter > 90 || !isDigit(s.charCodeAt(8)) || !isDigit(s.charCodeAt(9))) {
    return err(
      lazyError(
        'industry',
        () => [`industry "${got}" is not a letter, 2 digits and a digit 1–9`, EXPECTED_INDUSTRY],
        7,
      ),
    );
  }
  const last = s.charCodeAt(10);
  if (last < 49 || last > 57) {
    return err(
      lazyError(
        'industry',
        () => [`industry "${got}" ends in "${s[10]}"; its last digit must be 1–9`, EXPECTED_INDUSTRY],
        10,
      ),
    );
  }
  const division = (s.charCodeAt(8) - 48) * 10 + (s.charCodeAt(9) - 48);
  const sectionCode = SECTION_OF_DIVISION[division] ?? 0;
  if (sectionCode === 0) {
    return err(
      lazyError(
        'industry',
        () => [`industry "${got}": division ${s.slice(8, 10)} does not exist in GB/T 4754-2017`, 'a division 01–97'],
        8,
      ),
    );
  }
  if (sectionCode !== letter) {
    const want = String.fromCharCode(sectionCode);
    return err(
      lazyError(
        'industry',
        () => [
          `industry "${got}": division ${s.slice(8, 10)} belongs to section ${want}, not ${s[7]}`,
          `${want}${s.slice(8, 11)}`,
        ],
        7,
      ),
    );
  }
  return ok({ prefix: s.slice(0, 11), level: 'industry', region, industry: got });
}

/** Parses and canonicalises a prefix (input rules as for identifiers). */
export function parsePrefix(input: string): Result<ParsedPrefix, IdentifierError> {
  const n = normalise(input);
  if (!n.ok) return n;
  return scanPrefix(n.value, n.value.length);
}

/** True when `prefix` equals `ancestor` or lies inside it (`CPN.51.C151` is within `CPN.51` and `CPN`). */
export function isWithin(prefix: string, ancestor: string): boolean {
  return (
    prefix === ancestor ||
    (prefix.length > ancestor.length && prefix.startsWith(ancestor) && prefix.charCodeAt(ancestor.length) === 46)
  );
}

/** The parent prefix (`CPN.51.C151` → `CPN.51` → `CPN` → null). */
export function parentPrefix(prefix: string): string | null {
  const dot = prefix.lastIndexOf('.');
  return dot < 0 ? null : prefix.slice(0, dot);
}

/** The level of a canonical prefix, from its number of segments. */
export function prefixLevel(prefix: string): PrefixLevel {
  const dots = prefix.split('.').length - 1;
  return dots === 0 ? 'national' : dots === 1 ? 'regional' : 'industry';
}

/** The immediate child of `ancestor` on the way down to `prefix`, or null when `prefix` is not strictly inside it. */
export function childToward(ancestor: string, prefix: string): string | null {
  if (prefix === ancestor || !isWithin(prefix, ancestor)) return null;
  const next = prefix.indexOf('.', ancestor.length + 1);
  return next < 0 ? prefix : prefix.slice(0, next);
}
