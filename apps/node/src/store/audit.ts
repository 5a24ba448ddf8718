import type { SqliteConnection } from './connection.ts';

/** The audit log's rows, in Merkle-tree order (entries as JSON text; never deleted). */
export interface AuditStore {
  /** Every entry, oldest first. */
  entries(): Iterable<string>;
  /** Appends an entry (synchronous: inside `NodeStores.write` it commits with the write it audits). */
  append(entry: string): void;
}

/** The SQLite audit store. */
export function sqliteAuditStore({ sql }: SqliteConnection): AuditStore {
  return {
    *entries() {
      for (const row of sql.stmt('SELECT "entry" FROM "AuditRecord" ORDER BY "seq"').iterate() as Iterable<{
        entry: string;
      }>)
        yield row.entry;
    },
    append(entry) {
      sql.stmt('INSERT INTO "AuditRecord" ("entry") VALUES (?)').run(entry);
    },
  };
}
