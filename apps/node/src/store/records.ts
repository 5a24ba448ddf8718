import type { IdentifierRecord } from '@cpnet/protocol';
import type { IdentifierRecord as Row } from '../generated/prisma/client.ts';

/** The wire form of a stored row. */
export function toWire(row: Row): IdentifierRecord {
  return rawToWire({ ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() });
}

/** A row read on the synchronous connection: dates are stored as text (Prisma's ISO form) or, bulk-loaded, numbers. */
export interface RawRecordRow {
  id: string;
  prefix: string;
  kind: string;
  serial: string;
  ownerNode: string;
  version: number;
  status: string;
  values: string;
  createdAt: string | number;
  updatedAt: string | number;
}

const isoOf = (v: string | number) => new Date(v).toISOString();

/** The wire form of a row read on the synchronous connection. */
export function rawToWire(row: RawRecordRow): IdentifierRecord {
  return {
    id: row.id,
    kind: row.kind,
    owner: row.ownerNode,
    version: row.version,
    status: row.status as IdentifierRecord['status'],
    values: JSON.parse(row.values) as IdentifierRecord['values'],
    createdAt: isoOf(row.createdAt),
    updatedAt: isoOf(row.updatedAt),
  };
}

/** The positional parameters of an IdentifierRecord insert or replace on the synchronous connection. */
export function rawParams(record: IdentifierRecord, parts: { prefix: string; serial: string }): unknown[] {
  const t = (iso: string) => iso.replace('Z', '+00:00');
  return [
    record.id,
    parts.prefix,
    record.kind,
    parts.serial,
    record.owner,
    record.version,
    record.status,
    JSON.stringify(record.values),
    t(record.createdAt),
    t(record.updatedAt),
  ];
}
