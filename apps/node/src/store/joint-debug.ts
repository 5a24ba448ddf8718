import type { SqliteConnection } from './connection.ts';

/** A joint-debugging result run by or against this node (`result` is the JSON text of the whole result). */
export interface JointDebugRun {
  readonly target: string;
  readonly by: string;
  readonly listVersion: string;
  readonly passed: boolean;
  readonly result: string;
  readonly at: string;
}

/** Joint-debugging (联调) results. */
export interface JointDebugStore {
  add(run: JointDebugRun): Promise<void>;
  /** Every run, oldest first. */
  all(): Promise<JointDebugRun[]>;
  /** The newest run by one node against another, if any. */
  latest(q: { by: string; target: string }): Promise<JointDebugRun | null>;
}

/** The SQLite joint-debugging store. */
export function sqliteJointDebugStore({ prisma }: SqliteConnection): JointDebugStore {
  return {
    async add(run) {
      await prisma.jointDebugRun.create({ data: run });
    },
    all: () => prisma.jointDebugRun.findMany({ orderBy: { id: 'asc' } }),
    latest: (q) => prisma.jointDebugRun.findFirst({ where: q, orderBy: { id: 'desc' } }),
  };
}
