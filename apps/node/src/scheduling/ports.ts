import type { FairnessOptions } from './admission.ts';
import type { z } from 'zod';
import type { Clock } from '@cpnet/kernel';
import { SchedulingConfig } from './config.ts';
import type {
  Ceiling,
  Cancel,
  Dispatch,
  EventType,
  GatewayAck,
  JobCancelRelay,
  JobRelay,
  MeteringLine,
  MeteringQuery,
  MeteringTotals,
  MeteringSummary,
  PlacementAnswer,
  PlacementRequest,
  SchedulingFigures,
  SelectionAnswer,
  SelectionRelay,
} from '@cpnet/protocol';
import type { FailbackPolicy, Quota } from '@cpnet/scheduler';
import type { JobRecord } from './job-machine.ts';

/** node → gateway dispatch. */
export type DispatchMsg = z.input<typeof Dispatch>;
/** node → gateway cancel. */
export type CancelMsg = z.input<typeof Cancel>;

/**
 * How the scheduling service reaches provider gateways. The `/gateway` socket namespace implements it; updates
 * (`job-update`) come back through `SchedulingService.onJobUpdate`. A missing or silent gateway answers a not-ok ack.
 */
export interface GatewayPort {
  dispatch(msg: DispatchMsg): Promise<GatewayAck>;
  /** Cancel on the gateway serving `cluster`. */
  cancel(cluster: string, msg: CancelMsg): Promise<GatewayAck>;
}

/** A placement request as sent. */
export type PlacementAsk = z.input<typeof PlacementRequest>;

/** How the service reaches its parent and children (signed HTTP; relays go through the durable outbox). */
export interface PeerPort {
  /** Synchronous placement at another node; a transport failure is a refusal naming it. */
  place(to: string, body: PlacementAsk): Promise<PlacementAnswer>;
  /** A relayed dry-run selection; null when the node cannot be reached. */
  select(to: string, body: z.input<typeof SelectionRelay>): Promise<SelectionAnswer | null>;
  /** Durable: job history toward the origin. */
  relay(to: string, body: z.input<typeof JobRelay>): Promise<void>;
  /** Durable: a cancellation toward the owner. */
  cancel(to: string, body: z.input<typeof JobCancelRelay>): Promise<void>;
  /**
   * Best effort (the next one replaces it), every `summaryMs`: this subtree's scheduling figures to the parent — in
   * the one summary upward (`ext.scheduling` of the subtree summary) to a parent that advertised `one-summary`, else
   * as a 1.0 `SchedulingSummary`. Either is the child's heartbeat; the answer is the hierarchy's ceiling (null when
   * the parent knows none or could not be reached).
   */
  summary(figures: z.input<typeof SchedulingFigures>): Promise<Ceiling | null>;
  /** Durable: metering totals to the parent. */
  metering(body: z.input<typeof MeteringSummary>): Promise<void>;
}

/** Metering totals per tenant and per provider (each: jobs, core-hours, card-hours, amount). */
export interface TotalsBy {
  byTenant: Record<string, MeteringTotals>;
  byProvider: Record<string, MeteringTotals>;
}

/** Where job records and metering lines are kept (SQLite in the node, store/jobs.ts; memory in unit tests). */
export interface JobStore {
  /** Every job not in a final state (loaded at start). */
  active(): Promise<JobRecord[]>;
  get(id: string): Promise<JobRecord | null>;
  /** Jobs submitted at `origin` (of one tenant, when named) with an id after `after`, in id order, at most `limit`. */
  list(q: { origin: string; tenant?: string; after?: string; limit: number }): Promise<JobRecord[]>;
  save(job: JobRecord): Promise<void>;
  addMetering(line: MeteringLine): Promise<void>;
  metering(q: MeteringQuery): Promise<MeteringLine[]>;
  /** Totals of every line per tenant and per provider (what `totals` gives for all lines, computed where they are). */
  totals(): Promise<TotalsBy>;
}

/** Event emitter of the node (/monitor and the event log). */
export type Emit = (
  type: EventType,
  detail: { subject?: string; severity?: 'info' | 'warning' | 'critical'; data?: Record<string, unknown> },
) => void;

/** Tunables of the scheduling service. */
export interface SchedulingOptions {
  /** A child whose last summary is older than this is taken as down (jobs placed through it re-placed). */
  readonly childDownAfterMs: number;
  /** How often liveness, failback and the queue are checked. */
  readonly tickMs: number;
  /** How often the summary (the scheduling figures, the heartbeat) goes to the parent. */
  readonly summaryMs: number;
  /** Queued jobs are retried across the hierarchy at most this often. */
  readonly retryMs: number;
  readonly quotas: Readonly<Record<string, Quota>>;
  /** The quota of a tenant with no entry in `quotas` (enforced where the tenant submits). */
  readonly defaultQuota: Quota | null;
  /** A job queued this long after its submission fails (with the reasons); it is not retried forever. */
  readonly maxQueueMs: number;
  readonly failback: Partial<FailbackPolicy>;
  /** How long a dispatch waits for the gateway's acknowledgement (wall ms: it guards a real socket). */
  readonly ackTimeoutMs: number;
  /** Fair admission of jobs waiting for this node's capacity (null: off, first come first tried as before 27). */
  readonly fairness: FairnessOptions | null;
}

const schedulingDefaults = SchedulingConfig.parse({});

/**
 * Defaults, derived from the node configuration's defaults (defined once, in the zod schemas) so that a service built
 * without options behaves as a node configured with none: the scheduling timings and the acknowledgement timeout.
 */
export const DEFAULT_SCHEDULING: SchedulingOptions = {
  childDownAfterMs: schedulingDefaults.childDownAfterMs,
  tickMs: schedulingDefaults.tickMs,
  summaryMs: schedulingDefaults.summaryMs,
  retryMs: schedulingDefaults.retryMs,
  quotas: {},
  defaultQuota: null,
  maxQueueMs: schedulingDefaults.maxQueueMs,
  failback: {},
  ackTimeoutMs: schedulingDefaults.ackTimeoutMs,
  fairness: schedulingDefaults.fairness,
};

/** What a scheduling service is built from. */
export interface SchedulingDeps {
  readonly code: string;
  readonly parent: string | null;
  /** Node time: timestamps, the scheduling tick, summaries, queue deadlines (virtual in a simulation). */
  readonly clock: Clock;
  /** Wall time: how long a dispatch waits for the gateway's acknowledgement over its real socket (default: the system clock). */
  readonly wall?: Clock;
  readonly store: JobStore;
  readonly gateways: GatewayPort;
  readonly peers: PeerPort;
  readonly emit: Emit;
  /** A new job identifier under this node's prefix. */
  newJobId(): Promise<string>;
  readonly options?: Partial<SchedulingOptions>;
  readonly log?: { warn(o: object, msg: string): void; info(o: object, msg: string): void };
}
