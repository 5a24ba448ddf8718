// PostgreSQL: identifier records: resolve, put, serials, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { IdentifierStore } from '../identifiers.ts';
import { iso, type PgSql } from '../pg-sql.ts';
import { rawParams, rawToWire, type RawRecordRow } from '../records.ts';

const RECORD_COLUMNS = `"id", "prefix", "kind", "serial", "ownerNode", "version", "status", "values", "createdAt", "updatedAt"`;
const RECORD_VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10';

export function postgresIdentifierStore(sql: PgSql, cold: IdentifierStore): IdentifierStore {
  return {
    ...cold,
    async byId(id) {
      const { rows } = await sql.query<RawRecordRow>('SELECT * FROM "IdentifierRecord" WHERE "id" = $1', [id]);
      return rows[0] ? rawToWire(rows[0]) : null;
    },
    async versionOf(id) {
      const { rows } = await sql.query<{ version: number }>(
        'SELECT "version" FROM "IdentifierRecord" WHERE "id" = $1',
        [id],
      );
      return rows[0]?.version;
    },
    async insert(record, parts) {
      await sql.hold(
        `INSERT INTO "IdentifierRecord" (${RECORD_COLUMNS}) VALUES (${RECORD_VALUES})`,
        rawParams(record, parts),
      );
    },
    async put(record, parts) {
      await sql.query(
        `INSERT INTO "IdentifierRecord" (${RECORD_COLUMNS}) VALUES (${RECORD_VALUES}) ON CONFLICT ("id") DO UPDATE SET
          "prefix" = excluded."prefix", "kind" = excluded."kind", "serial" = excluded."serial",
          "ownerNode" = excluded."ownerNode", "version" = excluded."version", "status" = excluded."status",
          "values" = excluded."values", "createdAt" = excluded."createdAt", "updatedAt" = excluded."updatedAt"`,
        rawParams(record, parts),
      );
    },
    async takeSerial(i) {
      const r = await sql.query(
        `INSERT INTO "AllocatedSerial" ("prefix", "serial", "kind", "allocatedAt") VALUES ($1, $2, $3, $4)
          ON CONFLICT DO NOTHING`,
        [i.prefix, i.serial, i.kind, iso(i.at)],
      );
      return r.rowCount === 1;
    },
  };
}
