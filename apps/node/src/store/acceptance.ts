import type { AcceptanceCase } from '@cpnet/protocol';
import type { SqliteConnection } from './connection.ts';

/** The acceptance cases this node keeps as the authority of the nodes it approved. */
export interface AcceptanceStore {
  byNode(node: string): Promise<AcceptanceCase | null>;
  all(): Promise<AcceptanceCase[]>;
  /** Writes the case whole (the document is small: tens of milestones, runs and orders). */
  put(c: AcceptanceCase, at: string): Promise<void>;
}

/** The SQLite acceptance store. */
export function sqliteAcceptanceStore({ prisma }: SqliteConnection): AcceptanceStore {
  return {
    async byNode(node) {
      const row = await prisma.acceptanceCase.findUnique({ where: { node } });
      return row ? (JSON.parse(row.document) as AcceptanceCase) : null;
    },
    async all() {
      const rows = await prisma.acceptanceCase.findMany({ orderBy: { node: 'asc' } });
      return rows.map((r) => JSON.parse(r.document) as AcceptanceCase);
    },
    async put(c, at) {
      const data = { status: c.status, document: JSON.stringify(c), updatedAt: at };
      await prisma.acceptanceCase.upsert({ where: { node: c.node }, create: { node: c.node, ...data }, update: data });
    },
  };
}
