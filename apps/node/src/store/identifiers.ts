import type { IdentifierRecord } from '@cpnet/protocol';
import type { SqliteConnection } from './connection.ts';
import { rawParams, rawToWire, toWire, type RawRecordRow } from './records.ts';
import { sqlTime } from './sql.ts';

/** Where an identifier is filed: its prefix and serial (parsed from the identifier by the caller). */
export interface RecordParts {
  readonly prefix: string;
  readonly serial: string;
}

/**
 * Identifier records (own and copies from descendants) and the serials ever issued. Called inside
 * `NodeStores.write`, the methods join its transaction.
 */
export interface IdentifierStore {
  /** A stored record (own or a copy), or null. */
  byId(id: string): Promise<IdentifierRecord | null>;
  /** The stored version of a record, if held. */
  versionOf(id: string): Promise<number | undefined>;
  /** Inserts a new record (fails if the id exists). */
  insert(record: IdentifierRecord, parts: RecordParts): Promise<void>;
  /** Inserts or replaces a record. */
  put(record: IdentifierRecord, parts: RecordParts): Promise<void>;
  /** Takes a serial under a prefix for a kind; false when it was issued before (a serial is never reused). */
  takeSerial(input: { prefix: string; serial: string; kind: string; at: number }): Promise<boolean>;
  /** Records ordered by identifier, optionally under one prefix and after a cursor, at most `take`. */
  page(q: { prefix?: string; after?: string; take: number }): Promise<IdentifierRecord[]>;
  /** How many records a node owns. */
  countOwnedBy(owner: string): Promise<number>;
}

const COLUMNS = `"id", "prefix", "kind", "serial", "ownerNode", "version", "status", "values", "createdAt", "updatedAt"`;
const INSERT = `INSERT INTO "IdentifierRecord" (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const REPLACE = `INSERT OR REPLACE INTO "IdentifierRecord" (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const TAKE_SERIAL =
  'INSERT OR IGNORE INTO "AllocatedSerial" ("prefix", "serial", "kind", "allocatedAt") VALUES (?, ?, ?, ?)';

/** The SQLite identifier store. */
export function sqliteIdentifierStore({ prisma, sql }: SqliteConnection): IdentifierStore {
  return {
    async byId(id) {
      const row = sql.stmt('SELECT * FROM "IdentifierRecord" WHERE "id" = ?').get(id) as RawRecordRow | undefined;
      return row ? rawToWire(row) : null;
    },
    versionOf: async (id) =>
      (sql.stmt('SELECT "version" FROM "IdentifierRecord" WHERE "id" = ?').get(id) as { version: number } | undefined)
        ?.version,
    async insert(record, parts) {
      sql.stmt(INSERT).run(...rawParams(record, parts));
    },
    async put(record, parts) {
      sql.stmt(REPLACE).run(...rawParams(record, parts));
    },
    takeSerial: async (i) => sql.stmt(TAKE_SERIAL).run(i.prefix, i.serial, i.kind, sqlTime(i.at)).changes === 1,
    async page(q) {
      const rows = await prisma.identifierRecord.findMany({
        where: { ...(q.prefix ? { prefix: q.prefix } : {}), ...(q.after ? { id: { gt: q.after } } : {}) },
        orderBy: { id: 'asc' },
        take: q.take,
      });
      return rows.map(toWire);
    },
    countOwnedBy: (owner) => prisma.identifierRecord.count({ where: { ownerNode: owner } }),
  };
}
