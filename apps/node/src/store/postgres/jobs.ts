// PostgreSQL: jobs, their history and metering, in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { JobHistoryEntry, MeteringLine } from '@cpnet/protocol';
import type { JobRecord } from '../../scheduling/job-machine.ts';
import { matches } from '../../scheduling/metering.ts';
import { historyFromText, JOB_COLUMNS, jobFromRow, jobToRow, StoredHistory, type JobRow } from '../job-rows.ts';
import type { NodeJobStore } from '../jobs.ts';
import type { PgSql } from '../pg-sql.ts';

const UPSERT_JOB = `INSERT INTO "Job" (${JOB_COLUMNS.map((c) => `"${c}"`).join(', ')})
  VALUES (${JOB_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT ("id") DO UPDATE SET ${JOB_COLUMNS.filter(
    (c) => !['id', 'tenant', 'origin', 'template', 'submittedAt'].includes(c),
  )
    .map((c) => `"${c}" = excluded."${c}"`)
    .join(', ')}`;

export function postgresJobStore(sql: PgSql): NodeJobStore {
  const marks = new StoredHistory();
  const load = async (rows: JobRow[]): Promise<JobRecord[]> => {
    if (rows.length === 0) return [];
    const { rows: history } = await sql.query<{ job: string; entry: string }>(
      'SELECT "job", "entry" FROM "JobHistory" WHERE "job" = ANY($1::text[]) ORDER BY "job", "seq"',
      [rows.map((r) => r.id)],
    );
    const byJob = new Map<string, JobHistoryEntry[]>();
    for (const h of history) {
      const list = byJob.get(h.job) ?? [];
      list.push(historyFromText(h.entry));
      byJob.set(h.job, list);
    }
    return rows.map((row) => marks.loaded(jobFromRow(row, byJob.get(row.id) ?? [])));
  };
  return {
    has: async (id) => (await sql.query('SELECT 1 FROM "Job" WHERE "id" = $1', [id])).rows.length > 0,
    async putChildMetering(m) {
      await sql.write(() =>
        sql.query(
          `INSERT INTO "ChildMetering" ("node", "at", "summary") VALUES ($1, $2, $3)
            ON CONFLICT ("node") DO UPDATE SET "at" = excluded."at", "summary" = excluded."summary"`,
          [m.node, m.at, m.summary],
        ),
      );
    },
    childMetering: async () =>
      (await sql.query<{ summary: string }>('SELECT "summary" FROM "ChildMetering" ORDER BY "node"')).rows.map(
        (r) => r.summary,
      ),
    active: async () => load((await sql.query<JobRow>('SELECT * FROM "Job" WHERE NOT "final"')).rows),
    get: async (id) =>
      (await load((await sql.query<JobRow>('SELECT * FROM "Job" WHERE "id" = $1', [id])).rows))[0] ?? null,
    list: async (q) =>
      load(
        (
          await sql.query<JobRow>(
            `SELECT * FROM "Job" WHERE "id" > $1 AND "origin" = $2 AND ($3::text IS NULL OR "tenant" = $3)
              ORDER BY "id" LIMIT $4`,
            [q.after ?? '', q.origin, q.tenant ?? null, q.limit],
          )
        ).rows,
      ),
    save(j) {
      // The history after what is known to be stored (all of it for a record not seen before, after a count) is
      // offered; (job, seq) is unique, so what is stored already is ignored. Captured now: the record may move on.
      const known = marks.known(j);
      const from = known ?? 0;
      const total = j.history.length;
      const history = j.history.slice(from).map((e) => JSON.stringify(e));
      const row = jobToRow(j);
      const values = JOB_COLUMNS.map((c) => row[c]);
      return sql
        .write(async () => {
          await sql.query(UPSERT_JOB, values);
          const stored =
            known ??
            (await sql.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM "JobHistory" WHERE "job" = $1', [j.id]))
              .rows[0]!.n;
          const first = Math.max(stored, from);
          if (first < total) {
            const seqs = Array.from({ length: total - first }, (_, i) => first + i);
            await sql.query(
              `INSERT INTO "JobHistory" ("job", "seq", "entry") SELECT $1, * FROM unnest($2::int[], $3::text[])
                ON CONFLICT DO NOTHING`,
              [j.id, seqs, history.slice(first - from)],
            );
          }
        })
        .then(() => marks.saved(j, total));
    },
    addMetering: (l) =>
      sql.write(async () => {
        await sql.query(
          `INSERT INTO "MeteringRecord" ("job", "tenant", "provider", "cluster", "coreHours", "cardHours",
            "amountYuan", "from", "to") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [l.job, l.tenant, l.provider, l.cluster, l.coreHours, l.cardHours, l.amountYuan, l.from, l.to],
        );
      }),
    async totals() {
      const by = async (column: 'tenant' | 'provider') =>
        Object.fromEntries(
          (
            await sql.query<{ k: string; jobs: number; coreHours: number; cardHours: number; amountYuan: number }>(
              `SELECT "${column}" AS k, COUNT(DISTINCT "job")::int AS jobs, SUM("coreHours") AS "coreHours",
                SUM("cardHours") AS "cardHours", SUM("amountYuan") AS "amountYuan"
                FROM "MeteringRecord" GROUP BY "${column}"`,
            )
          ).rows.map(({ k, ...t }) => [k, t]),
        );
      return { byTenant: await by('tenant'), byProvider: await by('provider') };
    },
    async metering(q) {
      const { rows } = await sql.query<MeteringLine>(
        `SELECT "job", "tenant", "provider", "cluster", "coreHours", "cardHours", "amountYuan", "from", "to"
          FROM "MeteringRecord" ORDER BY "id"`,
      );
      return rows.filter((l) => matches(l, q));
    },
  };
}
