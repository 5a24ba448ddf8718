import { CANONICAL_ALPHABET, CHAR_VALUE } from './alphabet.ts';

const MODULUS = 1271;
const RADIX = 36;

/**
 * ISO/IEC 7064 MOD 1271-36 over canonical characters, skipping the separators '.', '/', '-'.
 * Returns the check value c (0–1270); its characters are c div 36 and c mod 36.
 * Returns -1 when a character outside 0-9 A-Z (other than a separator) is met.
 */
export function checkValue(text: string, end: number = text.length): number {
  let p = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 || code === 47 || code === 45) continue;
    const v = code < 128 ? (CHAR_VALUE[code] ?? -1) : -1;
    if (v < 0) return -1;
    p = ((p + v) * RADIX) % MODULUS;
  }
  p = (p * RADIX) % MODULUS;
  return (MODULUS + 1 - p) % MODULUS;
}

/** The two check characters for `text` (prefix + kind + serial; separators are ignored). */
export function checkCharacters(text: string): string {
  const c = checkValue(text);
  if (c < 0) throw new RangeError(`check characters are defined over 0-9 A-Z only, got ${JSON.stringify(text)}`);
  return CANONICAL_ALPHABET[Math.floor(c / RADIX)]! + CANONICAL_ALPHABET[c % RADIX]!;
}
