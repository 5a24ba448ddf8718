/** One audit entry: who did what on which resource, the decision, the request id and the time (RFC 3339 UTC). */
export interface AuditEntry {
  readonly who: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: 'allow' | 'deny';
  readonly requestId: string;
  readonly time: string;
}

const FIELDS = ['who', 'action', 'resource', 'decision', 'requestId', 'time'] as const;
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Checks an entry's shape strictly: exactly the six fields, strings, a known decision, an RFC 3339 UTC time with ms. */
export function checkEntry(value: unknown): Result<AuditEntry, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return err('an audit entry is an object');
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown) return err(`unknown audit field "${unknown}"`);
  for (const f of FIELDS)
    if (typeof o[f] !== 'string' || o[f] === '') return err(`audit field "${f}" must be a non-empty string`);
  if (o.decision !== 'allow' && o.decision !== 'deny') return err('decision must be allow or deny');
  if (!RFC3339_MS.test(o.time as string)) return err('time must be RFC 3339 UTC with milliseconds');
  return ok(o as unknown as AuditEntry);
}
import { err, ok, type Result } from '@cpnet/kernel';
