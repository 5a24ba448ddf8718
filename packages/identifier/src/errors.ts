/** The part of an identifier a rejection is about. */
export type Segment = 'input' | 'prefix' | 'region' | 'industry' | 'kind' | 'serial' | 'check';

/** Why a text is not a valid identifier or prefix: the failing segment and what was expected. */
export interface IdentifierError {
  readonly segment: Segment;
  readonly message: string;
  readonly expected: string;
  /** 0-based position in the trimmed input where the problem starts, when it has one. */
  readonly position?: number;
}

/**
 * A rejection whose words are written when first read: a validator flooded with garbage (the common attack on a
 * resolver) should not pay for formatting messages nobody reads. It serialises to the plain shape.
 */
class LazyIdentifierError implements IdentifierError {
  #text: readonly [string, string] | null = null;
  constructor(
    readonly segment: Segment,
    private readonly explain: () => readonly [string, string],
    readonly position?: number,
  ) {}
  get message(): string {
    return (this.#text ??= this.explain())[0];
  }
  get expected(): string {
    return (this.#text ??= this.explain())[1];
  }
  toJSON(): IdentifierError {
    return identifierError(this.segment, [this.message, this.expected], this.position);
  }
}

/** Builds an IdentifierError from the segment, its [message, expected] words, and the position if any. */
export function identifierError(
  segment: Segment,
  words: readonly [string, string],
  position?: number,
): IdentifierError {
  const [message, expected] = words;
  return position === undefined ? { segment, message, expected } : { segment, message, expected, position };
}

/** Builds an IdentifierError whose message and expectation are computed on first read. */
export function lazyError(
  segment: Segment,
  explain: () => readonly [string, string],
  position?: number,
): IdentifierError {
  return new LazyIdentifierError(segment, explain, position);
}
