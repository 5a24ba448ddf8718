import { z } from 'zod';
import { Health, message, Prefix, ProvinceCode, Time, TraceParent } from './primitives.ts';
import { JobState } from './scheduling.ts';
import { MonitorEvent } from './events.ts';
import { SnapshotCluster } from './snapshot.ts';

/** Moving a job's input data to a cluster and its output back (data has weight): GiB, 元, seconds before it starts. */
export const DataTransfer = z.object({
  movedGib: z.number().nonnegative().describe('GiB crossing a province boundary (input in, output back)'),
  yuan: z.number().nonnegative().describe('what moving it costs, 元 (in the estimated cost)'),
  secondsToStart: z.number().nonnegative().describe('seconds the input takes to arrive before the job starts'),
});
export type DataTransfer = z.output<typeof DataTransfer>;

/** One cluster or subtree a placement did not take, with the reason. */
export const RejectedCandidate = z.object({
  target: z.string().describe('the cluster identifier or node prefix that was not taken'),
  reason: z.string(),
  transfer: DataTransfer.optional().describe("the job's data transfer had it gone there (jobs that name input data)"),
});

/** Why a job runs where it runs: the chosen cluster and the first ones rejected, with reasons. */
export const JobExplanation = z.object({
  chosen: z.string().nullable().describe('the cluster (or, above the owner, the subtree) the job went to'),
  rejected: z.array(RejectedCandidate).max(10).describe('the first candidates not taken, with reasons'),
  transfer: DataTransfer.optional().describe(
    "the job's data transfer to the chosen cluster (jobs that name input data)",
  ),
});
export type JobExplanation = z.output<typeof JobExplanation>;

/**
 * The `data` of every `job.*` event: where the job comes from and where it runs, whose it is, and its trace. Other
 * fields an event type adds (refusals, ranked subtrees, slices) may follow.
 */
export const JobEventData = z.looseObject({
  origin: Prefix.describe('the node the job was submitted at'),
  originProvince: ProvinceCode.nullable().describe("the origin node's province (null at the national node)"),
  tenant: z.string().describe('account@origin'),
  state: JobState.describe('the job state after the event'),
  cluster: z.string().nullable().describe('the cluster it runs on, when known'),
  province: ProvinceCode.nullable().describe("the cluster's province, when known"),
  owner: Prefix.nullable().describe('the node whose cluster runs it, when known'),
  traceparent: TraceParent.describe('W3C trace context of the job, the same trace id at every node'),
  explanation: JobExplanation.optional(),
  relayed: z.boolean().optional().describe('true at the origin for a step that happened at another node'),
});
export type JobEventData = z.output<typeof JobEventData>;

/** How a health change was noticed. */
export const HealthCause = z.enum(['connection', 'silence', 'report', 'restart', 'reconnect']);

/** The `data` of `node.health`, `link.health` and `cluster.health`. */
export const HealthEventData = z.looseObject({
  health: Health,
  was: Health.nullable(),
  cause: HealthCause,
  reason: z.string(),
  child: Prefix.optional().describe('link.health: the child end of the link'),
  parent: Prefix.optional().describe('link.health: the parent end of the link'),
});
export type HealthEventData = z.output<typeof HealthEventData>;

/**
 * Alert kinds. `probe` (joint-debugging sends forged and replayed requests on purpose) and `not-approved` (a node
 * whose application is not yet approved speaks before its grant) are classified apart from real threats.
 */
export const ALERT_KINDS = [
  'bad-signature',
  'replay',
  'forbidden',
  'implausible-time',
  'dead-letter',
  'probe',
  'not-approved',
] as const;
export const AlertKind = z.enum(ALERT_KINDS);

/** The `data` of `security.alert`. */
export const AlertEventData = z.looseObject({
  kind: AlertKind,
  reason: z.string(),
  source: z.string().describe('who caused it: a node prefix, an account, a provider or cluster'),
  target: z.string().describe('what it was aimed at: a route, a resource, a job'),
  threat: z.boolean().describe('false for probes and not-yet-approved nodes: recorded, not raised'),
});
export type AlertEventData = z.output<typeof AlertEventData>;

/** One province-to-province flow count. */
export const FlowCount = z.object({
  from: ProvinceCode.nullable().describe('the origin province (null: the national node)'),
  to: ProvinceCode.nullable().describe('the province of the cluster (null: not placed yet)'),
  state: JobState,
  count: z.number().int().nonnegative(),
});

/**
 * The `data` of `job.flows`: per-province flow counters and state counts of the jobs a node saw end a step in one
 * interval (virtual time). Every node emits one per interval when anything changed; it is forwarded to every ancestor.
 */
export const FlowEventData = z.looseObject({
  since: Time,
  until: Time,
  flows: z.array(FlowCount),
  states: z.record(z.string(), z.number().int().nonnegative()),
});
export type FlowEventData = z.output<typeof FlowEventData>;

/** A failure not yet recovered: a node, link or cluster down since a moment. */
export const FailoverEpisode = z.object({
  kind: z.enum(['node', 'link', 'cluster']),
  target: z.string(),
  since: Time,
  reason: z.string(),
});
export type FailoverEpisode = z.output<typeof FailoverEpisode>;

/**
 * The `history` message on `/monitor`, after the snapshot: the last `windowMs` of virtual time of events (oldest
 * first, at most `limit`) and every open failover episode, so that a page that connects late is not empty.
 */
export const MonitorHistory = message({
  protocol: z.string().optional(),
  since: Time,
  until: Time,
  windowMs: z.number().int().positive().describe('virtual ms covered'),
  truncated: z.boolean().describe('true when more events fell in the window than were sent'),
  events: z.array(MonitorEvent),
  episodes: z.array(FailoverEpisode),
});
export type MonitorHistory = z.output<typeof MonitorHistory>;

/**
 * The `events` message on `/monitor`, for a connection whose handshake `auth` has `batch: true`: the live events one
 * turn of the node's event loop published, in the order published, instead of one `event` message each.
 */
export const MonitorEventBatch = message({
  protocol: z.string().optional(),
  events: z.array(MonitorEvent).min(1),
});
export type MonitorEventBatch = z.output<typeof MonitorEventBatch>;

/** The `data` schema of each event type that has one (others carry free `data`). */
export function eventDataSchema(type: string): z.ZodType | null {
  if (type.startsWith('job.')) return type === 'job.flows' ? FlowEventData : JobEventData;
  if (type === 'node.health' || type === 'link.health' || type === 'cluster.health') return HealthEventData;
  if (type === 'security.alert') return AlertEventData;
  return null;
}

/** `GET /cpn/v1/monitor/clusters?node=`: one node's clusters, when its subtree snapshot sent per-node sums. */
export const NodeClusters = message({
  node: Prefix,
  items: z.array(SnapshotCluster),
});
export type NodeClusters = z.output<typeof NodeClusters>;
