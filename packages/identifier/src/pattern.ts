import { CROCKFORD_ALPHABET } from './alphabet.ts';
import { SECTIONS } from './industries.ts';
import { KIND_CODES } from './kinds.ts';
import { PROVINCES } from './provinces.ts';

/*
 * The grammar of ARCHITECTURE.md as regular expressions over the canonical form (what remains after the input
 * rules: trimmed, upper case). Built from the same code tables the parser reads, so there is one truth. A regular
 * expression checks the shape only: the check characters (ISO/IEC 7064 MOD 1271-36) are any two of 0-9 A-Z here,
 * and only the parser knows whether they are the right pair.
 */

/** `(?:1[1-5]|2[1-3]|…)` for a set of 2-digit numbers: tens digits with the same units share one branch. */
function twoDigits(numbers: readonly number[]): string {
  const unitsByTens = new Map<number, number[]>();
  for (const n of [...numbers].sort((a, b) => a - b)) {
    const tens = Math.floor(n / 10);
    unitsByTens.set(tens, [...(unitsByTens.get(tens) ?? []), n % 10]);
  }
  const tensByUnits = new Map<string, number[]>();
  for (const [tens, units] of unitsByTens) {
    const key = digitClass(units);
    tensByUnits.set(key, [...(tensByUnits.get(key) ?? []), tens]);
  }
  const branches = [...tensByUnits].map(([units, tens]) => digitClass(tens) + units);
  return branches.length === 1 ? branches[0]! : `(?:${branches.join('|')})`;
}

/** `7`, `[12]`, `[1-5]` or `[125]` for a sorted set of digits. */
function digitClass(digits: readonly number[]): string {
  if (digits.length === 1) return String(digits[0]);
  const first = digits[0]!;
  const last = digits[digits.length - 1]!;
  if (digits.length > 2 && last - first + 1 === digits.length) return `[${first}-${last}]`;
  return `[${digits.join('')}]`;
}

/** `[0-9A-HJKMNP-TV-Z]`: a character class of an alphabet, with its runs as ranges. */
function alphabetClass(alphabet: string): string {
  const codes = [...alphabet].map((c) => c.charCodeAt(0));
  let out = '';
  for (let i = 0; i < codes.length;) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === codes[j]! + 1) j++;
    const from = String.fromCharCode(codes[i]!);
    const to = String.fromCharCode(codes[j]!);
    out += j === i ? from : j === i + 1 ? from + to : `${from}-${to}`;
    i = j + 1;
  }
  return `[${out}]`;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A region: a GB/T 2260 province-level code. */
const REGION = twoDigits(PROVINCES.map((p) => Number(p.code)));
/** An industry: a section letter, a division of that section, a digit 1–9. */
const INDUSTRY = `(?:${SECTIONS.map((s) => s.letter + twoDigits(range(s.from, s.to))).join('|')})[1-9]`;
const PREFIX = `CPN(?:\\.${REGION}(?:\\.${INDUSTRY})?)?`;
const KIND = `(?:${KIND_CODES.join('|')})`;
const SERIAL = `${alphabetClass(CROCKFORD_ALPHABET)}{1,16}`;
const CHECK = '[0-9A-Z]{2}';

/**
 * The shape of a canonical industry segment (GB/T 4754-2017 中类 as the grammar allows it), e.g. `C151`. An unknown
 * but well-formed 中类 matches: the grammar checks the section↔division rule, not the table of names.
 */
export const INDUSTRY_PATTERN = `^${INDUSTRY}$`;

/** The shape of a canonical prefix: `CPN`, `CPN.51` or `CPN.51.C151` (ECMA-262 source, as JSON Schema uses it). */
export const PREFIX_PATTERN = `^${PREFIX}$`;

/**
 * The shape of a canonical identifier, `prefix "/" kind "-" serial check` (ECMA-262 source, as JSON Schema uses it).
 * Every identifier `parseIdentifier` accepts matches it in its canonical form; a string that matches is accepted
 * unless its check characters are the wrong pair, which no regular expression can tell.
 */
export const IDENTIFIER_PATTERN = `^${PREFIX}/${KIND}-${SERIAL}${CHECK}$`;
