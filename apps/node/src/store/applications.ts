import type { SqliteConnection } from './connection.ts';

/** An application (申报) received by this node, or forwarded to it for the final decision. */
export interface ApplicationRow {
  readonly id: string;
  readonly applicant: string;
  readonly role: string;
  readonly region: string;
  readonly industry: string | null;
  /** JSON text of the application as submitted. */
  readonly body: string;
  /** submitted | reviewing | forwarded | approved | rejected */
  readonly status: string;
  /** The node whose reviewers decide next. */
  readonly routedTo: string;
  readonly forwardedBy: string | null;
  readonly originId: string | null;
  /** JSON text of the rule violations found. */
  readonly reasons: string;
  /** JSON text of the reviews so far. */
  readonly reviews: string;
  /** JSON text of the grant on approval. */
  readonly grant: string | null;
  readonly submittedAt: Date;
  readonly updatedAt: Date;
}

/** A new application. */
export type NewApplication = Omit<ApplicationRow, 'updatedAt' | 'grant' | 'industry'> & {
  readonly industry?: string | null;
};

/** What a review changes. */
export type ApplicationChange = Partial<Pick<ApplicationRow, 'status' | 'routedTo' | 'reviews' | 'grant'>>;

/** Applications (申报) and their reviews. */
export interface ApplicationStore {
  byId(id: string): Promise<ApplicationRow | null>;
  /** The applicant's application that is not rejected, if any. */
  openOf(applicant: string): Promise<ApplicationRow | null>;
  /** The applicant's most recent application, whatever its status. */
  latestOf(applicant: string): Promise<ApplicationRow | null>;
  /** Every application, oldest first. */
  all(): Promise<ApplicationRow[]>;
  /** Applications not rejected (for the uniqueness rules). */
  notRejected(): Promise<ApplicationRow[]>;
  /** Applications submitted and routed to `node`, waiting for a decision. */
  waitingAt(node: string): Promise<ApplicationRow[]>;
  create(row: NewApplication): Promise<ApplicationRow>;
  update(id: string, change: ApplicationChange): Promise<ApplicationRow>;
  /**
   * Keeps the newest `keep` applications refused on arrival (rejected by the rules, no review, not forwarded) and
   * deletes the older ones: a bounded log of refusals, so a flood of rule-breaking applications cannot fill the disk.
   */
  pruneRefusals(keep: number): Promise<number>;
}

/** The SQLite application store: Prisma's, with the one polled read answered by a prepared statement. */
export function sqliteApplicationStore({ prisma, sql }: SqliteConnection): ApplicationStore {
  const base = prismaApplicationStore(prisma);
  return {
    ...base,
    // Asked every few seconds by the auto-review retries and almost always empty: a prepared statement answers "none"
    // without a Prisma query (~170–300 µs of CPU each against 3–7 µs; issue 26, the time-driven floor).
    waitingAt: async (node) =>
      sql.stmt(`SELECT 1 FROM "Application" WHERE "status" = 'submitted' AND "routedTo" = ? LIMIT 1`).get(node)
        ? base.waitingAt(node)
        : [],
  };
}

/** Applications through Prisma (either database). */
export function prismaApplicationStore(prisma: SqliteConnection['prisma']): ApplicationStore {
  return {
    byId: (id) => prisma.application.findUnique({ where: { id } }),
    openOf: (applicant) => prisma.application.findFirst({ where: { applicant, status: { not: 'rejected' } } }),
    latestOf: (applicant) => prisma.application.findFirst({ where: { applicant }, orderBy: { submittedAt: 'desc' } }),
    all: () => prisma.application.findMany({ orderBy: { submittedAt: 'asc' } }),
    notRejected: () => prisma.application.findMany({ where: { status: { not: 'rejected' } } }),
    waitingAt: (node) => prisma.application.findMany({ where: { status: 'submitted', routedTo: node } }),
    create: (row) => prisma.application.create({ data: row }),
    update: (id, change) => prisma.application.update({ where: { id }, data: change }),
    async pruneRefusals(keep) {
      const refusal = { status: 'rejected', reviews: '[]', forwardedBy: null };
      const old = await prisma.application.findMany({
        where: refusal,
        orderBy: { submittedAt: 'desc' },
        skip: keep,
        select: { id: true },
      });
      if (old.length === 0) return 0;
      const r = await prisma.application.deleteMany({ where: { ...refusal, id: { in: old.map((o) => o.id) } } });
      return r.count;
    },
  };
}
