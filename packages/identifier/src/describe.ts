import { groupName } from './industries.ts';
import type { ParsedIdentifier } from './identifier.ts';
import { province } from './provinces.ts';

/** A parsed identifier with the names from the code tables. */
export interface IdentifierDescription {
  readonly id: string;
  readonly prefix: string;
  readonly region: { readonly code: string; readonly name: string } | null;
  readonly industry: { readonly code: string; readonly name: string | null } | null;
  readonly kind: string;
  readonly serial: string;
  readonly check: string;
}

/** Adds province and 中类 names to a parsed identifier. */
export function describeIdentifier(parsed: ParsedIdentifier): IdentifierDescription {
  return {
    id: parsed.id,
    prefix: parsed.prefix,
    region: parsed.region === null ? null : { code: parsed.region, name: province(parsed.region)?.name ?? '' },
    industry: parsed.industry === null ? null : { code: parsed.industry, name: groupName(parsed.industry) },
    kind: parsed.kind,
    serial: parsed.serial,
    check: parsed.check,
  };
}
