import { err, ok, type Result } from '@cpnet/kernel';
import { identifierError, type IdentifierError } from './errors.ts';

/**
 * Applies the input rules in their order: trim ASCII spaces and tabs, reject anything outside printable
 * ASCII (0x21–0x7E), upper-case ASCII letters. No Unicode folding or trimming, no aliasing.
 */
export function normalise(input: string): Result<string, IdentifierError> {
  let start = 0;
  let end = input.length;
  while (start < end && isBlank(input.charCodeAt(start))) start++;
  while (end > start && isBlank(input.charCodeAt(end - 1))) end--;
  if (start === end)
    return err(
      identifierError('input', [
        'the identifier is empty',
        'a prefix such as CPN.51, then "/", then a suffix such as ND-1EJ',
      ]),
    );
  let lower = false;
  for (let i = start; i < end; i++) {
    const c = input.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return err(nonAscii(input, i, start));
    if (c >= 97 && c <= 122) lower = true;
  }
  const trimmed = start === 0 && end === input.length ? input : input.slice(start, end);
  return ok(lower ? trimmed.toUpperCase() : trimmed);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function nonAscii(input: string, i: number, start: number): IdentifierError {
  const cp = input.codePointAt(i) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  const shown = cp > 0x20 && cp !== 0x7f ? ` '${String.fromCodePoint(cp)}'` : '';
  const words = [
    `character U+${hex}${shown} at position ${i - start} is not printable ASCII`,
    'only printable ASCII characters (0x21–0x7E)',
  ] as const;
  return identifierError('input', words, i - start);
}
