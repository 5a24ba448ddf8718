import { z } from 'zod';
import {
  Health,
  Identifier,
  message,
  NonNegative,
  Prefix,
  ProvinceCode,
  Share,
  Time,
  TraceParent,
} from './primitives.ts';
import { JobHistoryEntry, MeteringLine, SelectionAnswer, TaskTemplate } from './scheduling.ts';

/**
 * Node-to-node scheduling messages (互联调度 across the hierarchy). A node that cannot place a job escalates it to its
 * parent (`direction: 'up'`); a parent asks the child owning a subtree (`'down'`), which confirms capacity with its
 * cluster's gateway before answering — summaries are approximate, so a refusal makes the parent try the next child.
 */

const Free = message({ cpuCores: NonNegative, memoryGib: NonNegative, cards: z.record(z.string(), NonNegative) });

/**
 * The largest single cluster of a subtree per resource: its capacity (K1), whatever its load. Children send theirs
 * with their summaries; the parent answers with the whole hierarchy's, so every node can refuse at submission what no
 * cluster anywhere could ever hold.
 */
export const Ceiling = Free;
export type Ceiling = z.output<typeof Ceiling>;

/**
 * What a parent needs to choose a child subtree without seeing every cluster (the scheduler's subtree summary), and
 * takes as the child's heartbeat: the figures of one subtree, without who sent them and when. A child sends them in
 * `ext.scheduling` of its `SubtreeSummary` (the one summary upward) to a parent that advertised `one-summary`, else
 * as a `SchedulingSummary`.
 */
const FIGURES = {
  provinces: z.array(ProvinceCode),
  archs: z.array(z.enum(['x86_64', 'aarch64', 'loongarch64', 'sw_64'])),
  clusters: z.number().int().nonnegative(),
  available: Free,
  largest: Free,
  minPricePerCoreHourYuan: NonNegative.nullable(),
  minPricePerCardHourYuan: NonNegative.nullable(),
  kgCo2PerItKwh: NonNegative,
  maxSecurityLevel: z.number().int().min(0).max(5),
  meanReliability: Share,
  minLatencyMsTo: z.record(z.string(), NonNegative),
  health: Health,
  ceiling: Ceiling.optional(),
};

/** A subtree's scheduling figures (free capacity, largest cluster, prices, carbon, latency, health, ceiling). */
export const SchedulingFigures = message(FIGURES);
export type SchedulingFigures = z.output<typeof SchedulingFigures>;

/**
 * A child's scheduling summary on its own (`POST /cpn/v1/scheduling/summaries`, as 1.0 nodes send it): who, when and
 * the figures, defined from `SchedulingFigures` so that the two cannot drift.
 */
export const SchedulingSummary = message({ node: Prefix, at: Time, ...FIGURES });
export type SchedulingSummary = z.output<typeof SchedulingSummary>;

/**
 * The scheduling figures a `SubtreeSummary` carries in `ext.scheduling` (the one summary upward), or null when it
 * carries none (a 1.0 node) or something malformed — read, like `capabilitiesOf`, without trusting `ext`.
 */
export function schedulingFiguresOf(summary: unknown): SchedulingFigures | null {
  const ext = (summary as { ext?: unknown } | null | undefined)?.ext;
  const figures = (ext as { scheduling?: unknown } | null | undefined)?.scheduling;
  if (figures === undefined || figures === null) return null;
  const parsed = SchedulingFigures.safeParse(figures);
  return parsed.success ? parsed.data : null;
}

/**
 * The hierarchy's ceiling a parent answers to the one summary upward, in `ext.ceiling` of its `BatchAnswer` (absent
 * while it knows none, and from a 1.0 parent); null when absent or malformed.
 */
export function summaryCeilingOf(answer: unknown): Ceiling | null {
  const ext = (answer as { ext?: unknown } | null | undefined)?.ext;
  const ceiling = (ext as { ceiling?: unknown } | null | undefined)?.ceiling;
  if (ceiling === undefined || ceiling === null) return null;
  const parsed = Ceiling.safeParse(ceiling);
  return parsed.success ? parsed.data : null;
}

/** The answer to a summary: the whole hierarchy's ceiling as the parent knows it (absent while it knows none). */
export const SummaryAnswer = message({ accepted: z.boolean(), ceiling: Ceiling.optional() });
export type SummaryAnswer = z.output<typeof SummaryAnswer>;

/** A placement asked of another node (escalation up, or a parent asking the owning child down). */
export const PlacementRequest = message({
  job: Identifier,
  origin: Prefix,
  tenant: z.string().min(1).max(100),
  template: TaskTemplate,
  attempt: z.number().int().min(1),
  direction: z.enum(['up', 'down']),
  /** Subtrees already tried (the asker itself, refusals). */
  exclude: z.array(Prefix).max(100).default([]),
  excludeClusters: z.array(Identifier).max(1000).default([]),
  traceparent: TraceParent.optional().describe("W3C trace context of the job at the asking node (the asker's span)"),
});
export type PlacementRequest = z.output<typeof PlacementRequest>;

/** A refusal on the way: which node, and why. */
export const Refusal = message({ node: Prefix, reason: z.string() });
export type Refusal = z.output<typeof Refusal>;

/** The answer to a placement: confirmed by the owner (with the history written on the way), or refused by every subtree. */
export const PlacementAnswer = z.discriminatedUnion('ok', [
  message({
    ok: z.literal(true),
    owner: Prefix,
    cluster: Identifier,
    costYuan: NonNegative,
    history: z.array(JobHistoryEntry),
  }),
  message({ ok: z.literal(false), refusals: z.array(Refusal), summary: z.string() }),
]);
export type PlacementAnswer = z.output<typeof PlacementAnswer>;

/**
 * Several placements asked of one node in one request. A node sends one placement request at a time to each peer
 * (two at most in flight); placements asked meanwhile wait and go together in the next one, so a busy link carries one
 * request for many jobs while an idle one adds no delay. The receiver places them concurrently, each on its own.
 */
export const PlacementBatch = message({ placements: z.array(PlacementRequest).min(1).max(100) });
export type PlacementBatch = z.output<typeof PlacementBatch>;

/** The answers to a batch of placements, in the order asked. */
export const PlacementBatchAnswer = message({ answers: z.array(PlacementAnswer) });
export type PlacementBatchAnswer = z.output<typeof PlacementBatchAnswer>;

/** The body of `POST /cpn/v1/scheduling/placements`: one placement (answered by a PlacementAnswer) or a batch. */
export const PlacementBody = z.union([PlacementBatch, PlacementRequest]);
export type PlacementBody = z.output<typeof PlacementBody>;

/** The answer of `POST /cpn/v1/scheduling/placements`: a PlacementAnswer for one placement, answers for a batch. */
export const PlacementReply = z.union([PlacementBatchAnswer, PlacementAnswer]);
export type PlacementReply = z.output<typeof PlacementReply>;

/** A dry-run selection asked of another node (escalation of `POST /cpn/v1/selections`). */
export const SelectionRelay = message({
  template: TaskTemplate,
  topK: z.number().int().min(1).max(100).default(5),
  direction: z.enum(['up', 'down']),
  exclude: z.array(Prefix).max(100).default([]),
});
export type SelectionRelay = z.output<typeof SelectionRelay>;

/** The answer of a relayed selection. */
export const SelectionRelayAnswer = SelectionAnswer;
export type SelectionRelayAnswer = z.output<typeof SelectionRelayAnswer>;

/** Job history entries (and metering lines) travelling from the owner back toward the job's origin, hop by hop. */
export const JobRelay = message({
  job: Identifier,
  entries: z.array(JobHistoryEntry).min(1).max(100),
  metering: z.array(MeteringLine).max(100).optional(),
  traceparent: TraceParent.optional().describe('W3C trace context of the job at the relaying node (its span)'),
});
export type JobRelay = z.output<typeof JobRelay>;

/**
 * Several relays to one node in one request: a node's outbox merges the relays queued for the same hop, so a busy
 * link carries one request for many jobs. Relays of one job keep their order.
 */
export const JobRelays = message({ relays: z.array(JobRelay).min(1).max(500) });
export type JobRelays = z.output<typeof JobRelays>;

/** The body of `POST /cpn/v1/scheduling/job-updates`: a batch of relays, or a single one. */
export const JobRelayBody = z.union([JobRelays, JobRelay]);
export type JobRelayBody = z.output<typeof JobRelayBody>;

/** A cancellation travelling from the origin toward the owner, hop by hop. */
export const JobCancelRelay = message({
  job: Identifier,
  reason: z.enum(['cancelled', 'replaced']),
  attempt: z.number().int().min(1),
  at: Time,
});
export type JobCancelRelay = z.output<typeof JobCancelRelay>;

/** Metering totals of one tenant or provider. */
export const MeteringTotals = message({
  jobs: z.number().int().nonnegative(),
  coreHours: NonNegative,
  cardHours: NonNegative,
  amountYuan: NonNegative,
});
export type MeteringTotals = z.output<typeof MeteringTotals>;

/** A node's metering totals for its subtree, sent upward (计量统计 summarised upward). */
export const MeteringSummary = message({
  node: Prefix,
  at: Time,
  byTenant: z.record(z.string(), MeteringTotals),
  byProvider: z.record(z.string(), MeteringTotals),
});
export type MeteringSummary = z.output<typeof MeteringSummary>;

/** `GET /cpn/v1/metering`: the lines metered at this node, totals, and the latest summaries of its children. */
export const MeteringReport = message({
  node: Prefix,
  lines: z.array(MeteringLine),
  totals: message({ byTenant: z.record(z.string(), MeteringTotals), byProvider: z.record(z.string(), MeteringTotals) }),
  children: z.array(MeteringSummary),
});
export type MeteringReport = z.output<typeof MeteringReport>;

/** Routes of node-to-node scheduling (signed by the calling node). */
export const SCHEDULING_ROUTES = {
  selections: '/cpn/v1/scheduling/selections',
  placements: '/cpn/v1/scheduling/placements',
  jobUpdates: '/cpn/v1/scheduling/job-updates',
  cancels: '/cpn/v1/scheduling/cancels',
  summaries: '/cpn/v1/scheduling/summaries',
  metering: '/cpn/v1/scheduling/metering',
} as const;
