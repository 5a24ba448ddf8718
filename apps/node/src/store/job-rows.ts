// A job as the Job table holds it, and back: the mapping both databases' job stores share (jobs.ts for SQLite,
// postgres/jobs.ts for PostgreSQL). Each keeps its own SQL and its own way of binding parameters.
import { JobHistoryEntry, TaskTemplate, type JobState } from '@cpnet/protocol';
import { isFinal, type JobRecord } from '../scheduling/job-machine.ts';

/** A row of the Job table, as both databases' hot-path SQL reads it. */
export interface JobRow {
  id: string;
  tenant: string;
  origin: string;
  template: string;
  state: string;
  attempt: number;
  stateAttempt: number;
  upstream: string | null;
  downstream: string | null;
  owner: string | null;
  cluster: string | null;
  preferredCluster: string | null;
  submittedAt: number;
  finishedAt: number | null;
  dispatchedAt: number | null;
  costYuan: number;
}

/** The Job table's columns that a save writes, in the order of PostgreSQL's positional parameters. */
export const JOB_COLUMNS = [
  'id',
  'tenant',
  'origin',
  'template',
  'state',
  'attempt',
  'stateAttempt',
  'upstream',
  'downstream',
  'owner',
  'cluster',
  'preferredCluster',
  'submittedAt',
  'finishedAt',
  'dispatchedAt',
  'costYuan',
  'final',
] as const;

/** The job a row holds, with its history (read from the JobHistory table, in order). */
export function jobFromRow(row: JobRow, history: JobHistoryEntry[]): JobRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    origin: row.origin,
    template: TaskTemplate.parse(JSON.parse(row.template)),
    upstream: row.upstream,
    downstream: row.downstream,
    owner: row.owner,
    cluster: row.cluster,
    preferredCluster: row.preferredCluster,
    state: row.state as JobState,
    attempt: row.attempt,
    stateAttempt: row.stateAttempt,
    history,
    submittedAt: row.submittedAt,
    finishedAt: row.finishedAt,
    dispatchedAt: row.dispatchedAt,
    costYuan: row.costYuan,
  };
}

/** A history entry as the JobHistory table holds it (JSON text). */
export const historyFromText = (entry: string): JobHistoryEntry => JobHistoryEntry.parse(JSON.parse(entry));

/**
 * The row a save writes: every column of `JOB_COLUMNS`; `final` is a boolean here (SQLite binds it as 1 or 0,
 * PostgreSQL as is). The history is saved apart (JobHistory), one JSON text an entry.
 */
export function jobToRow(j: JobRecord): JobRow & { final: boolean } {
  return {
    id: j.id,
    tenant: j.tenant,
    origin: j.origin,
    template: JSON.stringify(j.template),
    state: j.state,
    attempt: j.attempt,
    stateAttempt: j.stateAttempt,
    upstream: j.upstream,
    downstream: j.downstream,
    owner: j.owner,
    cluster: j.cluster,
    preferredCluster: j.preferredCluster,
    submittedAt: j.submittedAt,
    finishedAt: j.finishedAt,
    dispatchedAt: j.dispatchedAt,
    costYuan: j.costYuan,
    final: isFinal(j.state),
  };
}

/**
 * How many history entries of each job record a store knows to be in the JobHistory table: set when a record is loaded
 * and when a save commits, so the next save of the same record inserts only the entries after that mark instead of
 * counting the stored rows first (a statement — on PostgreSQL a round trip inside the open transaction — per save).
 * A record the store has not seen (built from a request, say) is counted as before. The mark is never above what is
 * stored: it is raised only after a save's commit, to the length that save offered; saves racing each other offer
 * overlapping entries, which `(job, seq)`'s uniqueness ignores.
 */
export class StoredHistory {
  private readonly marks = new WeakMap<JobRecord, number>();
  /** The entries known to be stored, or undefined when the store must count them. */
  known(job: JobRecord): number | undefined {
    return this.marks.get(job);
  }
  /** A record just read from the store: its whole history is stored. */
  loaded(job: JobRecord): JobRecord {
    this.marks.set(job, job.history.length);
    return job;
  }
  /** A save of the first `stored` entries committed. */
  saved(job: JobRecord, stored: number): void {
    if ((this.marks.get(job) ?? 0) < stored) this.marks.set(job, stored);
  }
}
