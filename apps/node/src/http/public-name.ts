import type { Principal } from '@cpnet/security';

/**
 * How a principal is named in public events: nodes, providers and gateways by their identifiers; a person by role and
 * node only (an account name is personal data; the audit log, which is not public, keeps it).
 */
export function publicName(p: Principal): string {
  return p.kind === 'person' ? `${p.role ?? 'person'}@${p.prefix}` : p.id;
}
