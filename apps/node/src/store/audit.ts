import type { SqliteConnection } from './connection.ts';

/** The audit log's rows, in Merkle-tree order (entries as JSON text; never deleted). */
export interface AuditStore {
  /** Every entry, oldest first. */
  entries(): Promise<string[]>;
  /** Appends an entry (inside `NodeStores.write` it commits with the write it audits). */
  append(entry: string): Promise<void>;
}

/** The SQLite audit store. */
export function sqliteAuditStore({ sql }: SqliteConnection): AuditStore {
  return {
    entries: async () =>
      (sql.stmt('SELECT "entry" FROM "AuditRecord" ORDER BY "seq"').all() as { entry: string }[]).map((r) => r.entry),
    async append(entry) {
      sql.stmt('INSERT INTO "AuditRecord" ("entry") VALUES (?)').run(entry);
    },
  };
}
