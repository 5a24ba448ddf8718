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

/** Builds an IdentifierError. */
export function identifierError(segment: Segment, message: string, expected: string, position?: number): IdentifierError {
  return position === undefined ? { segment, message, expected } : { segment, message, expected, position };
}
