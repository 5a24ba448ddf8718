import type { JobHistoryEntry, MeteringLine, MeteringTotals } from '@cpnet/protocol';
import type { SqliteConnection } from './connection.ts';
import { historyFromText, jobFromRow, jobToRow, StoredHistory, type JobRow } from './job-rows.ts';
import type { JobRecord } from '../scheduling/job-machine.ts';
import { matches } from '../scheduling/metering.ts';
import type { JobStore, TotalsBy } from '../scheduling/ports.ts';

/**
 * The node's jobs: the scheduling service's `JobStore` (jobs, their history, metering lines) and the metering totals
 * received from children.
 */
export interface NodeJobStore extends JobStore {
  /** Whether a job is held (in any state). */
  has(id: string): Promise<boolean>;
  /** Keeps a child's latest metering totals (JSON text). */
  putChildMetering(input: { node: string; at: string; summary: string }): Promise<void>;
  /** The children's latest metering totals (JSON text), by node. */
  childMetering(): Promise<string[]>;
}

const UPSERT = `INSERT INTO "Job" ("id","tenant","origin","template","state","attempt","stateAttempt","upstream",
  "downstream","owner","cluster","preferredCluster","submittedAt","finishedAt","dispatchedAt","costYuan","final")
  VALUES (@id,@tenant,@origin,@template,@state,@attempt,@stateAttempt,@upstream,@downstream,@owner,@cluster,
  @preferredCluster,@submittedAt,@finishedAt,@dispatchedAt,@costYuan,@final)
  ON CONFLICT("id") DO UPDATE SET "state"=excluded."state","attempt"=excluded."attempt",
  "stateAttempt"=excluded."stateAttempt","upstream"=excluded."upstream",
  "downstream"=excluded."downstream","owner"=excluded."owner","cluster"=excluded."cluster","preferredCluster"=excluded."preferredCluster",
  "finishedAt"=excluded."finishedAt","dispatchedAt"=excluded."dispatchedAt","costYuan"=excluded."costYuan","final"=excluded."final"`;
const HISTORY = 'INSERT OR IGNORE INTO "JobHistory" ("job","seq","entry") VALUES (?,?,?)';
const METER = `INSERT OR IGNORE INTO "MeteringRecord"
  ("job","tenant","provider","cluster","coreHours","cardHours","amountYuan","from","to") VALUES (?,?,?,?,?,?,?,?,?)`;
// A job has one tenant: a job with no line yet is new to its tenant's totals. Both use the (job, cluster, from) index.
const JOB_METERED = 'SELECT 1 FROM "MeteringRecord" WHERE "job" = ? LIMIT 1';
const JOB_METERED_BY = 'SELECT 1 FROM "MeteringRecord" WHERE "job" = ? AND "provider" = ? LIMIT 1';

/** A tenant's or provider's metering totals, summed by SQLite over the whole table. */
function sumBy(sql: SqliteConnection['sql'], column: 'tenant' | 'provider'): Record<string, MeteringTotals> {
  const rows = sql
    .stmt(
      `SELECT "${column}" AS k, COUNT(DISTINCT "job") AS jobs, SUM("coreHours") AS coreHours,
        SUM("cardHours") AS cardHours, SUM("amountYuan") AS amountYuan FROM "MeteringRecord" GROUP BY "${column}"`,
    )
    .all() as ({ k: string } & MeteringTotals)[];
  return Object.fromEntries(rows.map(({ k, ...t }) => [k, t]));
}

/** Adds one new line to a tenant's or provider's totals (`newJob`: its job had no line counted there yet). */
function count(at: { m: Record<string, MeteringTotals>; key: string }, l: MeteringLine, newJob: boolean): void {
  const t = (at.m[at.key] ??= { jobs: 0, coreHours: 0, cardHours: 0, amountYuan: 0 });
  if (newJob) t.jobs += 1;
  t.coreHours += l.coreHours;
  t.cardHours += l.cardHours;
  t.amountYuan += l.amountYuan;
}

/**
 * The SQLite job store on the synchronous connection (the tables are Prisma's `Job`, `JobHistory`,
 * `MeteringRecord`): a save is one statement group joining the node's group commit, acknowledged once durable.
 */
export function sqliteJobStore({ sql }: SqliteConnection): NodeJobStore {
  /**
   * The metering totals, summed once from the table on first use — a `totals()` before any line was added here, or
   * the first `addMetering` before its line is written (so no line is both in the sum and added) — and moved by each
   * line added after.
   */
  let held: TotalsBy | null = null;
  const sums = (): TotalsBy => (held ??= { byTenant: sumBy(sql, 'tenant'), byProvider: sumBy(sql, 'provider') });
  const marks = new StoredHistory();
  /** Jobs with their histories: one statement for all the rows' histories (a page of a listing, the active jobs). */
  const load = (rows: JobRow[]): JobRecord[] => {
    if (rows.length === 0) return [];
    const byJob = new Map<string, JobHistoryEntry[]>();
    const history = (
      rows.length === 1
        ? sql.stmt('SELECT "job", "entry" FROM "JobHistory" WHERE "job" = ? ORDER BY "seq"').all(rows[0]!.id)
        : sql
            .stmt(
              `SELECT "job", "entry" FROM "JobHistory" WHERE "job" IN (SELECT "value" FROM json_each(?))
                ORDER BY "job", "seq"`,
            )
            .all(JSON.stringify(rows.map((r) => r.id)))
    ) as { job: string; entry: string }[];
    for (const h of history) {
      const list = byJob.get(h.job);
      if (list) list.push(historyFromText(h.entry));
      else byJob.set(h.job, [historyFromText(h.entry)]);
    }
    return rows.map((row) => marks.loaded(jobFromRow(row, byJob.get(row.id) ?? [])));
  };
  return {
    has: async (id) => sql.stmt('SELECT 1 FROM "Job" WHERE "id" = ?').get(id) !== undefined,
    async putChildMetering(m) {
      await sql.write(() =>
        sql
          .stmt(
            `INSERT INTO "ChildMetering" ("node", "at", "summary") VALUES (?, ?, ?)
              ON CONFLICT("node") DO UPDATE SET "at" = excluded."at", "summary" = excluded."summary"`,
          )
          .run(m.node, m.at, m.summary),
      );
    },
    childMetering: async () =>
      (sql.stmt('SELECT "summary" FROM "ChildMetering" ORDER BY "node"').all() as { summary: string }[]).map(
        (r) => r.summary,
      ),
    active: () => Promise.resolve(load(sql.stmt('SELECT * FROM "Job" WHERE "final" = 0').all() as JobRow[])),
    get: (id) => {
      const row = sql.stmt('SELECT * FROM "Job" WHERE "id" = ?').get(id) as JobRow | undefined;
      return Promise.resolve(row ? load([row])[0]! : null);
    },
    list(q) {
      // The primary key orders and bounds the scan; origin and tenant filter on the way.
      const rows = sql
        .stmt(
          'SELECT * FROM "Job" WHERE "id" > ? AND "origin" = ? AND (? IS NULL OR "tenant" = ?) ORDER BY "id" LIMIT ?',
        )
        .all(q.after ?? '', q.origin, q.tenant ?? null, q.tenant ?? null, q.limit) as JobRow[];
      return Promise.resolve(load(rows));
    },
    save(j) {
      // The history after what is known to be stored (all of it for a record not seen before) is offered; (job, seq)
      // is unique, so what is stored already is ignored. Captured now: the record may move on before the commit.
      const known = marks.known(j);
      const from = known ?? 0;
      const total = j.history.length;
      const history = j.history.slice(from).map((e) => JSON.stringify(e));
      const saved = jobToRow(j);
      const row = { ...saved, final: saved.final ? 1 : 0 };
      return sql
        .write(() => {
          sql.stmt(UPSERT).run(row);
          const stored =
            known ?? (sql.stmt('SELECT COUNT(*) AS n FROM "JobHistory" WHERE "job" = ?').get(j.id) as { n: number }).n;
          for (let i = Math.max(stored, from); i < total; i++) sql.stmt(HISTORY).run(j.id, i, history[i - from]);
        })
        .then(() => marks.saved(j, total));
    },
    addMetering(l) {
      // Whether the line is new, and whether its job is new to its tenant's and its provider's totals, are learnt in
      // its own unit of work; the totals held in memory move once it committed.
      let added: { tenantJob: boolean; providerJob: boolean } | null = null;
      const totals = sums();
      return sql
        .write(() => {
          const tenantJob = sql.stmt(JOB_METERED).get(l.job) === undefined;
          const providerJob = tenantJob || sql.stmt(JOB_METERED_BY).get(l.job, l.provider) === undefined;
          const r = sql
            .stmt(METER)
            .run(l.job, l.tenant, l.provider, l.cluster, l.coreHours, l.cardHours, l.amountYuan, l.from, l.to);
          added = r.changes > 0 ? { tenantJob, providerJob } : null;
        })
        .then(() => {
          if (!added) return;
          count({ m: totals.byTenant, key: l.tenant }, l, added.tenantJob);
          count({ m: totals.byProvider, key: l.provider }, l, added.providerJob);
        });
    },
    totals() {
      // Summed by SQLite over the table once (a busy node meters tens of thousands of runs, and this is asked every
      // metering interval), then kept in memory as lines are added: the same figures as the GROUP BY.
      return Promise.resolve(structuredClone(sums()));
    },
    metering(q) {
      const rows = sql
        .stmt(
          'SELECT "job","tenant","provider","cluster","coreHours","cardHours","amountYuan","from","to" FROM "MeteringRecord" ORDER BY "id"',
        )
        .all() as MeteringLine[];
      return Promise.resolve(rows.filter((l) => matches(l, q)));
    },
  };
}
