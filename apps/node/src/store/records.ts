import type { z } from 'zod';
import type { IdentifierRecord } from '@cpnet/protocol';
import type { IdentifierRecord as Row } from '../generated/prisma/client.ts';

/** A record as on the wire. */
export type WireRecord = z.output<typeof IdentifierRecord>;

/** The wire form of a stored row. */
export function toWire(row: Row): WireRecord {
  return {
    id: row.id,
    kind: row.kind,
    owner: row.ownerNode,
    version: row.version,
    status: row.status as WireRecord['status'],
    values: JSON.parse(row.values) as WireRecord['values'],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The row data of a wire record. */
export function toRow(record: WireRecord, parts: { prefix: string; serial: string }) {
  return {
    id: record.id,
    prefix: parts.prefix,
    kind: record.kind,
    serial: parts.serial,
    ownerNode: record.owner,
    version: record.version,
    status: record.status,
    values: JSON.stringify(record.values),
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}
