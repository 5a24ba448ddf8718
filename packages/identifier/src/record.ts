import type { Kind } from './kinds.ts';

/** Who may read or write a value (Handle-style permission bits). */
export interface ValuePermissions {
  readonly publicRead: boolean;
  readonly adminRead: boolean;
  readonly adminWrite: boolean;
}

/** One typed value of a record, as in the Handle System: index, type, data, TTL, permissions. */
export interface RecordValue {
  readonly index: number;
  readonly type: string;
  readonly data: unknown;
  /** Seconds a resolver may cache this value. */
  readonly ttl: number;
  readonly permissions: ValuePermissions;
}

/** Lifecycle of a record. */
export type RecordStatus = 'active' | 'revoked';

/** An identifier record: what an identifier resolves to. */
export interface IdentifierRecord {
  readonly id: string;
  readonly kind: Kind;
  /** The prefix of the node that owns (issued) the record. */
  readonly owner: string;
  readonly version: number;
  readonly status: RecordStatus;
  readonly values: readonly RecordValue[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Default permissions: anyone may read, only the owner's administrators may write. */
export const DEFAULT_PERMISSIONS: ValuePermissions = { publicRead: true, adminRead: true, adminWrite: true };

/** The smallest TTL among a record's values, which bounds how long a whole answer may be cached. */
export function recordTtl(record: Pick<IdentifierRecord, 'values'>, fallback = 300): number {
  let ttl = Number.POSITIVE_INFINITY;
  for (const v of record.values) ttl = Math.min(ttl, v.ttl);
  return Number.isFinite(ttl) ? ttl : fallback;
}
