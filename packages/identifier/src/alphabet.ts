/**
 * Character tables shared by the grammar and the check-character algorithm.
 * Indexed by char code so that the hot path of validation never allocates.
 */

/** Value 0–35 of a canonical character (0-9, A-Z), or -1. */
export const CHAR_VALUE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let c = 48; c <= 57; c++) table[c] = c - 48;
  for (let c = 65; c <= 90; c++) table[c] = c - 55;
  return table;
})();

/** The 36 canonical characters by value. */
export const CANONICAL_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Crockford's base-32 alphabet: 0-9 A-Z without I L O U. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 1 for a Crockford base-32 character (upper case), else 0. */
export const IS_CROCKFORD: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (const ch of CROCKFORD_ALPHABET) table[ch.charCodeAt(0)] = 1;
  return table;
})();
