/** Rejection reasons naming the failing segment. */
export { identifierError, type IdentifierError, type Segment } from './errors.ts';
/** The input rules: trim, printable ASCII only, ASCII upper-casing. */
export { normalise } from './normalise.ts';
/** ISO/IEC 7064 MOD 1271-36 check characters. */
export { checkCharacters, checkValue } from './check.ts';
/** Alphabets used by the scheme. */
export { CANONICAL_ALPHABET, CROCKFORD_ALPHABET } from './alphabet.ts';
/** Record kinds (ND PV CL RP SV JB). */
export { KINDS, KIND_CODES, isKind, type Kind } from './kinds.ts';
/** Identifier parsing, validation, canonicalisation and formatting. */
export {
  parseIdentifier,
  isIdentifier,
  canonicalise,
  formatIdentifier,
  type ParsedIdentifier,
  type IdentifierParts,
} from './identifier.ts';
/** Prefix parsing and relations. */
export {
  parsePrefix,
  isWithin,
  parentPrefix,
  prefixLevel,
  childToward,
  ROOT_PREFIX,
  type ParsedPrefix,
  type PrefixLevel,
} from './prefix.ts';
/** The grammar's shapes as regular-expression sources (canonical form; the check pair is the parser's business). */
export { IDENTIFIER_PATTERN, PREFIX_PATTERN, INDUSTRY_PATTERN } from './pattern.ts';
/** Resolution routing: local, down or up. */
export { route, ancestry, inSubtree, type Route } from './routing.ts';
/** Time-ordered 12-character serial allocation with an injected clock. */
export { createSerialAllocator, decodeSerial, type SerialAllocator } from './serial.ts';
/** GB/T 2260 province-level codes. */
export { PROVINCES, province, type Province, type MacroRegion } from './provinces.ts';
/** GB/T 4754-2017 sections, divisions and all 473 中类 names. */
export { SECTIONS, DIVISION_NAMES, GROUP_NAMES, section, groupName, divisionName, type Section } from './industries.ts';
/** 统一社会信用代码 (GB 32100) validation. */
export {
  parseCreditCode,
  creditCodeCheck,
  CREDIT_CODE_ALPHABET,
  type ParsedCreditCode,
  type CreditCodeError,
} from './credit-code.ts';
/** The Handle-like record model. */
export {
  DEFAULT_PERMISSIONS,
  recordTtl,
  type IdentifierRecord,
  type RecordValue,
  type RecordStatus,
  type ValuePermissions,
} from './record.ts';
/** A human-readable description of a parsed identifier, with code-table names. */
export { describeIdentifier, type IdentifierDescription } from './describe.ts';
