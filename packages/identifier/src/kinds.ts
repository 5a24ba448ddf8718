/** The record kinds an identifier's suffix can name. */
export const KINDS = {
  ND: 'node',
  PV: 'provider',
  CL: 'cluster',
  RP: 'resource pool',
  SV: 'service',
  JB: 'job',
} as const;

/** A two-letter kind code. */
export type Kind = keyof typeof KINDS;

/** All kind codes. */
export const KIND_CODES = Object.keys(KINDS) as Kind[];

/** True for one of ND PV CL RP SV JB. */
export function isKind(text: string): text is Kind {
  return Object.hasOwn(KINDS, text);
}
