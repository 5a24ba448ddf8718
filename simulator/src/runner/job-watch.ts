// The reads of a `jobs` expectation that polls (issue 26): a job in a final state stays in it, so once a poll has seen
// a job final, later polls need not read it again. At `speed: max` a check that waits for 100,000 jobs polls every
// 250 ms of virtual time while the nodes catch up; reading every job's view each time made the check itself a large
// part of the run's work (in bench/src/one-job.ts, 70 reads of the whole list for 160 jobs).
import type { RunContext } from './context.ts';
import { isFinal, readJobs, type JobDigest } from './jobs.ts';

/**
 * Returns a reader of every acknowledged job's digest, as `readJobs` gives it, that keeps the views it has seen final
 * and asks each node's list (a tenant's, in id order) only from the last id of its longest prefix of jobs already seen
 * final. A job whose list could not be read is left out, as `readJobs` leaves it out.
 */
export function watchJobs(ctx: RunContext): () => Promise<Map<string, JobDigest | null>> {
  const final = new Map<string, JobDigest>();
  return async () => {
    const jobs = ctx.jobs.slice();
    const groups = new Map<string, string[]>();
    for (const j of jobs) {
      const key = `${j.node}|${j.tenant}`;
      const ids = groups.get(key) ?? [];
      ids.push(j.id);
      groups.set(key, ids);
    }
    const after = new Map<string, string>();
    for (const [key, ids] of groups) {
      // A list is in id order (the node's primary key); ids are ASCII, so the default sort is the same order.
      ids.sort();
      let last: string | undefined;
      for (const id of ids) {
        if (!final.has(id)) break;
        last = id;
      }
      if (last !== undefined) after.set(key, last);
    }
    const read = await readJobs(ctx, { jobs: jobs.filter((j) => !final.has(j.id)), after });
    for (const [id, view] of read) if (view && isFinal(view.state)) final.set(id, view);
    const out = new Map<string, JobDigest | null>();
    for (const j of jobs) {
      const view = final.get(j.id) ?? read.get(j.id);
      if (view !== undefined) out.set(j.id, view);
    }
    return out;
  };
}
