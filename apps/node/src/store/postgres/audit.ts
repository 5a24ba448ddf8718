// PostgreSQL: the audit log, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { AuditStore } from '../audit.ts';
import type { PgSql } from '../pg-sql.ts';

export function postgresAuditStore(sql: PgSql): AuditStore {
  return {
    entries: async () =>
      (await sql.query<{ entry: string }>('SELECT "entry" FROM "AuditRecord" ORDER BY "seq"')).rows.map((r) => r.entry),
    async append(entry) {
      await sql.hold('INSERT INTO "AuditRecord" ("entry") VALUES ($1)', [entry]);
    },
  };
}
