import type { z } from 'zod';
import {
  FINAL_JOB_STATES,
  formatTime,
  type Job,
  type JobHistoryEntry,
  type JobState,
  type TaskTemplate,
} from '@cpnet/protocol';

/**
 * A tenant is the pair (node, account): `account@node`, as metering lines and totals name it everywhere, so that the
 * `tenanta` of CPN.51 and the `tenanta` of CPN.44 are never summed together nor read by each other.
 */
export function tenantKey(node: string, account: string): string {
  return `${account}@${node}`;
}

/** A job as one node holds it. The origin holds the full story; brokers and owners hold their part and relay it. */
export interface JobRecord {
  readonly id: string;
  readonly tenant: string;
  /** The node the tenant submitted to. */
  readonly origin: string;
  readonly template: TaskTemplate;
  /** The node that asked this one to place the job (null at the origin): updates are relayed to it. */
  upstream: string | null;
  /** The node this one passed the job to (parent or child), or null when placed here or not placed. */
  downstream: string | null;
  /** The node whose cluster runs the job. */
  owner: string | null;
  cluster: string | null;
  /** The first cluster the job ran on: failback returns it there. */
  preferredCluster: string | null;
  state: JobState;
  /** Placement attempt: a re-placement or preemption starts the next one. */
  attempt: number;
  /** Attempt of the entry that set `state`. */
  stateAttempt: number;
  history: JobHistoryEntry[];
  readonly submittedAt: number;
  finishedAt: number | null;
  /** When the current attempt was dispatched (for availability accounting and metering). */
  dispatchedAt: number | null;
  costYuan: number;
}

const FINAL = new Set<string>(FINAL_JOB_STATES);
const RANK: Record<JobState, number> = {
  submitted: 0,
  queued: 1,
  escalated: 2,
  scheduled: 3,
  confirmed: 4,
  dispatched: 5,
  running: 6,
  preempted: 7,
  replaced: 7,
  finished: 9,
  failed: 9,
  cancelled: 9,
};

/** Whether a state is final (finished, failed, cancelled). */
export const isFinal = (s: JobState): boolean => FINAL.has(s);

/** A new job record in state `submitted` (or holding the first entry given). */
export function newJob(o: {
  id: string;
  tenant: string;
  origin: string;
  template: TaskTemplate;
  at: number;
  node: string;
  upstream?: string | null;
  attempt?: number;
}): JobRecord {
  const attempt = o.attempt ?? 1;
  const first: JobHistoryEntry = { state: 'submitted', at: formatTime(o.at), node: o.node, attempt };
  return {
    id: o.id,
    tenant: o.tenant,
    origin: o.origin,
    template: o.template,
    upstream: o.upstream ?? null,
    downstream: null,
    owner: null,
    cluster: null,
    preferredCluster: null,
    state: 'submitted',
    attempt,
    stateAttempt: attempt,
    history: o.upstream ? [] : [first],
    submittedAt: o.at,
    finishedAt: null,
    dispatchedAt: null,
    costYuan: 0,
  };
}

const key = (e: JobHistoryEntry): string =>
  `${e.state}|${e.attempt ?? ''}|${e.node}|${e.cluster ?? ''}|${e.detail ?? ''}`;

/** What applying an entry did. */
export interface Applied {
  /** The entry was new (appended to the history). */
  readonly appended: boolean;
  /** The job's state changed. */
  readonly changed: boolean;
  /** The job reached its final state with this entry. */
  readonly finalised: boolean;
}

/**
 * Applies one history entry. Idempotent (a repeated entry changes nothing); a final job never changes again, so
 * every job has exactly one final state; entries of an older attempt (a cluster the job has left) are kept as history
 * but move nothing; within an attempt the state only moves forward (updates may arrive out of order).
 */
export function applyEntry(job: JobRecord, entry: JobHistoryEntry): Applied {
  const none: Applied = { appended: false, changed: false, finalised: false };
  if (isFinal(job.state)) return none;
  const e: JobHistoryEntry = entry.attempt === undefined ? { ...entry, attempt: job.attempt } : entry;
  const k = key(e);
  if (job.history.some((h) => key(h) === k)) return none;
  const attempt = e.attempt!;
  if (attempt < job.attempt) {
    if (isFinal(e.state)) return none;
    job.history.push(e);
    return { appended: true, changed: false, finalised: false };
  }
  job.history.push(e);
  const at = Date.parse(e.at);
  if (e.state === 'replaced' || e.state === 'preempted') {
    job.state = e.state;
    job.stateAttempt = attempt;
    job.attempt = attempt + 1;
    job.cluster = null;
    job.owner = null;
    job.dispatchedAt = null;
    return { appended: true, changed: true, finalised: false };
  }
  const fresh = attempt > job.attempt || job.stateAttempt < attempt;
  const forward =
    RANK[e.state] >= RANK[job.state] || (e.state === 'queued' && RANK[job.state] < RANK.confirmed) || isFinal(e.state);
  if (!fresh && !forward) return { appended: true, changed: false, finalised: false };
  job.attempt = attempt;
  job.stateAttempt = attempt;
  job.state = e.state;
  if (e.cluster && (e.state === 'confirmed' || e.state === 'dispatched' || e.state === 'running')) {
    job.cluster = e.cluster;
    job.preferredCluster ??= e.cluster;
  }
  if (e.state === 'confirmed') job.owner = e.node;
  if (e.state === 'dispatched') job.dispatchedAt = at;
  if (isFinal(e.state)) {
    job.finishedAt = at;
    return { appended: true, changed: true, finalised: true };
  }
  return { appended: true, changed: true, finalised: false };
}

/** The job as `GET /cpn/v1/jobs/<id>` answers. */
export function jobView(job: JobRecord): z.input<typeof Job> {
  return {
    id: job.id,
    tenant: job.tenant,
    template: job.template,
    state: job.state,
    cluster: job.cluster,
    history: job.history,
    submittedAt: formatTime(job.submittedAt),
    finishedAt: job.finishedAt === null ? null : formatTime(job.finishedAt),
    owner: job.owner,
    attempt: job.attempt,
  };
}
