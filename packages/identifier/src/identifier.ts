import { err, ok, type Result } from '@cpnet/kernel';
import { CANONICAL_ALPHABET, CHAR_VALUE, IS_CROCKFORD } from './alphabet.ts';
import { checkValue } from './check.ts';
import { identifierError, lazyError, type IdentifierError } from './errors.ts';
import { isKind, type Kind } from './kinds.ts';
import { normalise } from './normalise.ts';
import {
  badSerialCharacter,
  checkFailure,
  EXPECTED_SERIAL,
  fastParseResult,
  SERIAL_ALONE,
  type FastParsed,
} from './fast-parse.ts';
import { scanPrefix } from './prefix.ts';

/** A valid identifier in canonical form, split into its segments. */
export type ParsedIdentifier = FastParsed;

const EXPECTED_KIND = 'one of ND (node), PV (provider), CL (cluster), RP (resource pool), SV (service), JB (job)';

/**
 * Parses, validates and canonicalises an identifier `prefix "/" kind "-" serial check`.
 * Every rejection names the failing segment and what was expected.
 */
export function parseIdentifier(input: string): Result<ParsedIdentifier, IdentifierError> {
  // Valid input takes one pass; invalid input is normalised and explained by the detailed scanner below.
  return fastParseResult(input) ?? { ok: false, error: new DeferredRejection(input) };
}

/**
 * The deferred rejection of `input` as `parseIdentifier` makes it (exported for its test: what a reader of its fields
 * sees if the scanners ever disagreed).
 * @internal
 */
export const deferredRejection = (input: string): IdentifierError => new DeferredRejection(input);

/**
 * The rejection of text the one-pass scanner refused without explaining. The text is invalid — the scanner declines
 * only what the detailed scanner refuses (fast-parse.test.ts holds them to it) — and the detailed scanner's
 * explanation is made when one of its fields is first read: a caller that only asks whether text is valid (a filter,
 * `isIdentifier`, a validator flooded with garbage) does not pay for it, one that reports it gets the same fields.
 */
class DeferredRejection implements IdentifierError {
  readonly #input: string;
  #error: IdentifierError | null = null;
  constructor(input: string) {
    this.#input = input;
  }
  #explained(): IdentifierError {
    if (this.#error === null) {
      const r = parseIdentifierDetailed(this.#input);
      // Never expected (the property tests hold the scanners to each other), but a reader of the fields must not
      // throw: the caller already answered "invalid", so the explanation says which scanner refused and asks for a
      // report, instead of turning a 4xx into a 500.
      this.#error = r.ok
        ? identifierError('input', [
            `${JSON.stringify(this.#input)} was refused by the one-pass scanner though the detailed scanner accepts it`,
            'a defect in @cpnet/identifier: please report this text',
          ])
        : r.error;
    }
    return this.#error;
  }
  get segment(): IdentifierError['segment'] {
    return this.#explained().segment;
  }
  get message(): string {
    return this.#explained().message;
  }
  get expected(): string {
    return this.#explained().expected;
  }
  get position(): number | undefined {
    return this.#explained().position;
  }
  toJSON(): IdentifierError {
    const e = this.#explained();
    return identifierError(e.segment, [e.message, e.expected], e.position);
  }
}

/**
 * The detailed scanner alone: normalises, then checks segment by segment and explains the first failure. The
 * reference the one-pass `fastParse` is property-tested against (identifier.test.ts).
 * @internal
 */
export function parseIdentifierDetailed(input: string): Result<ParsedIdentifier, IdentifierError> {
  const n = normalise(input);
  if (!n.ok) return n;
  const s = n.value;
  const slash = s.indexOf('/');
  if (slash < 0)
    return err(
      lazyError('input', () => [
        `"${s}" has no "/" between prefix and suffix`,
        'prefix "/" kind "-" serial check, e.g. CPN.51/ND-1EJ',
      ]),
    );
  const prefix = scanPrefix(s, slash);
  if (!prefix.ok) return prefix;
  return scanSuffix(s, slash, prefix.value);
}

function scanSuffix(
  s: string,
  slash: number,
  prefix: { prefix: string; region: string | null; industry: string | null },
): Result<ParsedIdentifier, IdentifierError> {
  const kindAt = slash + 1;
  const kind = s.slice(kindAt, kindAt + 2);
  if (kind.length < 2 || !isKind(kind)) {
    return err(
      lazyError('kind', () => [`kind "${s.slice(kindAt, dashOrEnd(s, kindAt))}" is unknown`, EXPECTED_KIND], kindAt),
    );
  }
  if (s.charCodeAt(kindAt + 2) !== 45) {
    return err(
      lazyError(
        'kind',
        () => [`kind "${s.slice(kindAt, dashOrEnd(s, kindAt))}" is not followed by "-"`, `${kind}-<serial><check>`],
        kindAt + 2,
      ),
    );
  }
  const serialAt = kindAt + 3;
  const length = s.length - serialAt;
  if (length < 3 || length > 18) {
    return err(
      lazyError(
        'serial',
        () => [`serial and check "${s.slice(serialAt)}" have ${length} characters`, EXPECTED_SERIAL],
        serialAt,
      ),
    );
  }
  const checkAt = s.length - 2;
  for (let i = serialAt; i < checkAt; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || IS_CROCKFORD[c] !== 1) {
      return err(
        lazyError('serial', () => [badSerialCharacter(s.slice(serialAt, checkAt), i - serialAt), EXPECTED_SERIAL], i),
      );
    }
  }
  const c1 = s.charCodeAt(checkAt);
  const c2 = s.charCodeAt(checkAt + 1);
  const expected = checkValue(s, checkAt);
  if (
    c1 >= 128 ||
    c2 >= 128 ||
    (CHAR_VALUE[c1] ?? -1) * 36 + (CHAR_VALUE[c2] ?? -1) !== expected ||
    CHAR_VALUE[c1] === -1 ||
    CHAR_VALUE[c2] === -1
  ) {
    return err(checkFailure(s, expected));
  }
  return ok({
    id: s,
    prefix: prefix.prefix,
    region: prefix.region,
    industry: prefix.industry,
    kind,
    serial: s.slice(serialAt, checkAt),
    check: s.slice(checkAt),
  });
}

function dashOrEnd(s: string, from: number): number {
  const dash = s.indexOf('-', from);
  return dash < 0 ? s.length : dash;
}

/** True when `input` is a valid identifier (any case, trimmed). */
export function isIdentifier(input: string): boolean {
  return parseIdentifier(input).ok;
}

/** The canonical form of an identifier, or the reason it is invalid. */
export function canonicalise(input: string): Result<string, IdentifierError> {
  const r = parseIdentifier(input);
  return r.ok ? ok(r.value.id) : r;
}

/** The parts needed to write an identifier; the check characters are computed. */
export interface IdentifierParts {
  readonly prefix: string;
  readonly kind: Kind;
  readonly serial: string;
}

/**
 * Writes an identifier from canonical parts, computing its check characters. Validates the result; a bad serial's
 * error position is its 0-based place in `parts.serial`.
 */
export function formatIdentifier(parts: IdentifierParts): Result<string, IdentifierError> {
  // The serial is checked on its own first, so a rejection points into the serial given, not into the assembled text.
  const { serial } = parts;
  if (serial.length < 1 || serial.length > 16)
    return err(identifierError('serial', [`serial "${serial}" has ${serial.length} characters`, SERIAL_ALONE]));
  for (let i = 0; i < serial.length; i++) {
    const c = serial.charCodeAt(i);
    if (c >= 128 || IS_CROCKFORD[c] !== 1)
      return err(identifierError('serial', [badSerialCharacter(serial, i), SERIAL_ALONE], i));
  }
  const body = `${parts.prefix}/${parts.kind}-${parts.serial}`;
  const c = checkValue(body);
  if (c < 0) {
    const parsed = parseIdentifier(body + '00');
    if (!parsed.ok && parsed.error.segment !== 'check') return parsed;
    return err(identifierError('input', [`"${body}" is not in canonical form`, 'upper-case ASCII letters and digits']));
  }
  const id = body + CANONICAL_ALPHABET[Math.floor(c / 36)]! + CANONICAL_ALPHABET[c % 36]!;
  const parsed = parseIdentifier(id);
  if (!parsed.ok) return parsed;
  if (parsed.value.id !== id)
    return err(identifierError('input', [`"${body}" is not in canonical form`, parsed.value.id]));
  return ok(id);
}
