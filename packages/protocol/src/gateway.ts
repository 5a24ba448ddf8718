import { z } from 'zod';
import { Identifier, message, Share, Time, TraceParent } from './primitives.ts';
import { TaskTemplate } from './scheduling.ts';

/**
 * The `/gateway` socket.io namespace: a provider's gateway holds one connection for all its clusters.
 * Handshake `auth`: `{ token, protocol }` — a short-lived token signed with the gateway's key. Every message carries
 * `protocol` and a per-direction `seq` (strictly increasing; a repeated or older seq is refused as a replay).
 * Events: gateway → node `report` (CapacityReport) and `job-update`; node → gateway `dispatch`, `cancel`, `control`.
 * Every event is acknowledged with a GatewayAck.
 */
export const GATEWAY_EVENTS = {
  report: 'report',
  jobUpdate: 'job-update',
  dispatch: 'dispatch',
  cancel: 'cancel',
  control: 'control',
  session: 'session',
} as const;

/**
 * node → gateway, once on connect: the last report seq the node has durably applied for this gateway, so a gateway
 * that restarts or reconnects continues above it (and knows which unacknowledged reports were in fact applied).
 */
export const GatewaySession = message({
  protocol: z.string(),
  gateway: Identifier,
  node: z.string(),
  lastReportSeq: z.number().int().min(-1),
  clusters: z.array(Identifier).describe('the clusters the node knows for this gateway'),
  at: Time,
});
export type GatewaySession = z.output<typeof GatewaySession>;

/** Handshake auth of a gateway connection. */
export const GatewayAuth = message({ token: z.string().min(1), protocol: z.string() });
export type GatewayAuth = z.output<typeof GatewayAuth>;

/** The acknowledgement of any gateway event. */
export const GatewayAck = z.discriminatedUnion('ok', [
  message({ ok: z.literal(true), accepted: z.number().int().nonnegative().optional() }),
  message({
    ok: z.literal(false),
    error: message({ code: z.string(), message: z.string(), field: z.string().optional() }),
  }),
]);
export type GatewayAck = z.output<typeof GatewayAck>;

/** node → gateway: run this job on this cluster. */
export const Dispatch = message({
  protocol: z.string(),
  seq: z.number().int().nonnegative(),
  job: Identifier,
  cluster: Identifier,
  attempt: z.number().int().min(1),
  template: TaskTemplate,
  replicas: z.number().int().min(1),
  at: Time,
  traceparent: TraceParent.optional().describe('W3C trace context of the job at the dispatching node (its span)'),
});
export type Dispatch = z.output<typeof Dispatch>;

/** node → gateway: stop this job (cancelled by its tenant, or preempted). */
export const Cancel = message({
  protocol: z.string(),
  seq: z.number().int().nonnegative(),
  job: Identifier,
  reason: z.enum(['cancelled', 'preempted', 'replaced', 'suspended']),
  at: Time,
});
export type Cancel = z.output<typeof Cancel>;

/** node → gateway: the provider or one of its clusters was suspended, reinstated or revoked (应急处置). */
export const Control = message({
  protocol: z.string(),
  seq: z.number().int().nonnegative(),
  target: Identifier,
  action: z.enum(['suspend', 'reinstate', 'revoke']),
  reason: z.string().max(2000),
  at: Time,
});
export type Control = z.output<typeof Control>;

/** gateway → node: progress of a dispatched job. */
export const JobUpdate = message({
  protocol: z.string(),
  seq: z.number().int().nonnegative(),
  job: Identifier,
  cluster: Identifier,
  attempt: z.number().int().min(1),
  state: z.enum(['accepted', 'refused', 'running', 'finished', 'failed', 'cancelled']),
  progress: Share.optional(),
  detail: z.string().max(2000).optional(),
  at: Time,
});
export type JobUpdate = z.output<typeof JobUpdate>;
