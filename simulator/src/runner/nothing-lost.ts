// The `nothing-lost` expectation: every acknowledged registration and job is held by the node that acknowledged it, once,
// with at most one final state (see simulator/README.md, "The deciding experiment").
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunContext } from './context.ts';
import { isFinal, readJobs, type JobDigest } from './jobs.ts';

/** What a check found. */
export type Verdict = { passed: boolean; detail: string };

/** Judges every acknowledged registration and job against what the nodes hold now. */
export async function nothingLost(ctx: RunContext): Promise<Verdict> {
  // Every acknowledged registration is held exactly once by its owner (copies upward are checked by resolvable);
  // every acknowledged job exists at the node it was submitted to, and none has more than one final state.
  const counts = new Map<string, number>();
  const owners = [...new Set(ctx.registered.map((r) => r.node))];
  for (const code of owners) {
    const sim = ctx.net.nodes.get(code);
    if (!sim?.running) return { passed: false, detail: `${code} is not running, so its records cannot be counted` };
    let cursor: string | undefined;
    do {
      const page = await sim.anon().list({ prefix: code, cursor, limit: 1000 });
      if (!page.ok) return { passed: false, detail: `cannot list ${code}: ${page.error.message}` };
      for (const rec of page.value.items) {
        const op = (rec.values[0]?.data as { op?: unknown } | undefined)?.op;
        if (typeof op === 'string') counts.set(op, (counts.get(op) ?? 0) + 1);
      }
      cursor = page.value.next ?? undefined;
    } while (cursor);
  }
  const read = await readAllJobs(ctx);
  if (typeof read === 'string') return { passed: false, detail: read };
  const { views, late, unjudged } = read;
  for (const [id, v] of views) if (v) counts.set(`job:${id}`, 1);
  const finals = [...views.entries()].flatMap(([id, v]) =>
    v && isFinal(v.state) ? [{ id, finalStates: v.finals }] : [],
  );
  const open = [...views.values()].filter((v) => v && !isFinal(v.state)).length;
  const report = ctx.checker.verify({
    observations: [...counts].map(([key, count]) => ({ key, count })),
    jobs: finals,
    // Acknowledged after the last read began: nothing about them can be judged from these lists.
    unjudged: new Set(unjudged.map((id) => `job:${id}`)),
  });
  ctx.lastCheck = {
    lost: report.lost.length,
    duplicated: report.duplicated.length,
    severalFinal: report.jobsWithSeveralFinalStates.length,
    jobsLost: report.lost.filter((k) => k.startsWith('job:')).length,
  };
  const lostJobs = report.lost.filter((k) => k.startsWith('job:')).map((k) => k.slice(4));
  const probe = lostJobs.length ? await probeLost(ctx, lostJobs.slice(0, 20)) : '';
  return {
    passed: report.passed,
    detail:
      `${report.acknowledged} acknowledged (${ctx.registered.length} identifiers, ${ctx.jobs.length} jobs), ` +
      `${report.lost.length} lost, ${report.duplicated.length} duplicated, ${report.jobsWithSeveralFinalStates.length} ` +
      `jobs with several final states, ${open} jobs still open${report.lost.length ? ` (lost e.g. ${report.lost[0]})` : ''}` +
      (late ? `; ${late} acknowledged while the lists were read, read again` : '') +
      (unjudged.length ? `; ${unjudged.length} acknowledged after the last read began, not judged` : '') +
      probe,
  };
}

/**
 * Reads every acknowledged job back from its node's list. A job acknowledged while the lists are being read may sit
 * on a page already read (its id is older than its acknowledgement: the id is taken before placement), so such jobs
 * are read again, from just before the oldest of them, until a read begins with nothing newly acknowledged (three
 * rounds at most; what is acknowledged after the last round began is returned as `unjudged`).
 */
async function readAllJobs(ctx: RunContext): Promise<
  | string
  | {
      views: Map<string, JobDigest | null>;
      late: number;
      unjudged: string[];
    }
> {
  let judged = ctx.jobs.length;
  const first = await readJobs(ctx, { jobs: ctx.jobs.slice(0, judged) });
  const views = new Map(first);
  const listed = first.listed;
  let unreadable = first.unreadable;
  let late = 0;
  for (let round = 0; round < 3 && unreadable.length === 0 && ctx.jobs.length > judged; round++) {
    const more = ctx.jobs.slice(judged);
    judged += more.length;
    late += more.length;
    // Per list, from the last id it held below the oldest newly acknowledged job (ids order a node's list).
    const after = new Map<string, string>();
    const oldest = new Map<string, string>();
    for (const j of more) {
      const key = `${j.node}|${j.tenant}`;
      const o = oldest.get(key);
      if (o === undefined || j.id < o) oldest.set(key, j.id);
    }
    for (const [key, o] of oldest) {
      const below = (listed.get(key) ?? []).filter((id) => id < o).at(-1);
      if (below !== undefined) after.set(key, below);
    }
    const again = await readJobs(ctx, { jobs: more, after });
    for (const [id, v] of again) views.set(id, v);
    unreadable = again.unreadable;
  }
  if (unreadable.length > 0)
    return (
      `${unreadable.length} of ${ctx.jobs.length} jobs could not be read back (e.g. ` +
      `${unreadable[0]}), so losses cannot be judged`
    );
  return { views, late, unjudged: ctx.jobs.slice(judged).map((j) => j.id) };
}

/**
 * Asks the node for each of a few jobs the list did not hold, one by one: tells a job the list missed (the node
 * answers it) from one the node does not have at all. On SQLite it also reads the job's row from the node's own
 * database file, so the verdict names the cause: no row (not written), or a row the list's filter (origin, tenant)
 * does not match.
 */
async function probeLost(ctx: RunContext, ids: readonly string[]): Promise<string> {
  const answers = new Map<string, number>();
  const rows = new Map<string, number>();
  for (const id of ids) {
    const j = ctx.jobs.find((x) => x.id === id);
    if (!j) continue;
    const client = await ctx.tenantClient(j.node, j.tenant).catch(() => null);
    const r = client
      ? await client.request<{ state: string }>({ method: 'GET', path: `/cpn/v1/jobs/${encodeURIComponent(id)}` })
      : null;
    const what = !r ? 'no client' : r.ok ? `found (${r.value.state})` : `${r.status}`;
    answers.set(what, (answers.get(what) ?? 0) + 1);
    const row = storedRow(ctx, j.node, id);
    if (row !== undefined) rows.set(row, (rows.get(row) ?? 0) + 1);
  }
  const tally = (m: Map<string, number>) => [...m].map(([k, n]) => `${n} ${k}`).join(', ');
  return `; of ${ids.length} asked one by one: ${tally(answers)}${rows.size ? `; their rows in the node's database: ${tally(rows)}` : ''}`;
}

/** The job's row in its node's SQLite file, as the list's filter sees it; undefined when the node is not on SQLite. */
function storedRow(ctx: RunContext, node: string, id: string): string | undefined {
  const spec = ctx.net.nodes.get(node)?.spec;
  if (!spec || spec.database) return undefined;
  try {
    const db = new Database(path.join(spec.dataDir, 'node.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT "origin", "tenant", "state", "final" FROM "Job" WHERE "id" = ?').get(id) as
        { origin: string; tenant: string; state: string; final: number } | undefined;
      return row ? `row (origin ${row.origin}, tenant ${row.tenant}, ${row.state})` : 'no row';
    } finally {
      db.close();
    }
  } catch (e) {
    return `unreadable (${(e as Error).message})`;
  }
}
