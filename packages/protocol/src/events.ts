import { z } from 'zod';
import { bounded, message, PageLimit, Prefix, Time } from './primitives.ts';
import { TopologySnapshot } from './snapshot.ts';

/**
 * Event types of the monitoring stream and the event log. Job events follow Google's 2019 trace
 * vocabulary (SUBMIT, QUEUE, SCHEDULE, EVICT, FAIL, FINISH, KILL, LOST, UPDATE) with cpnet's own additions.
 */
export const EVENT_TYPES = [
  'topology.node-added',
  'topology.node-removed',
  'topology.link',
  'link.health',
  'node.lifecycle',
  'node.health',
  'provider.registered',
  'provider.lifecycle',
  'cluster.registered',
  'cluster.lifecycle',
  'cluster.health',
  'capacity.report',
  'summary.received',
  'identifier.registered',
  'identifier.updated',
  'identifier.revoked',
  'identifier.resolved',
  'application.submitted',
  'application.reviewed',
  'application.decided',
  'joint-debug.result',
  'acceptance.flag',
  'acceptance.decided',
  'acceptance.supervision',
  'job.submit',
  'job.queue',
  'job.schedule',
  'job.escalate',
  'job.confirm',
  'job.dispatch',
  'job.run',
  'job.evict',
  'job.fail',
  'job.finish',
  'job.kill',
  'job.lost',
  'job.update',
  'job.replace',
  'job.flows',
  'security.alert',
  'security.emergency',
  'fault.injected',
  'fault.healed',
] as const;

/** An event type. */
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.output<typeof EventType>;

/** A stored and streamed event. */
export const MonitorEvent = message({
  protocol: z.string().optional().describe('the protocol version, carried by every event on the socket'),
  id: z.string(),
  type: EventType,
  at: Time,
  node: Prefix,
  subject: z.string().optional().describe('identifier or prefix the event is about'),
  severity: z.enum(['info', 'warning', 'critical']).default('info'),
  data: bounded(z.record(z.string(), z.unknown())).default({}),
});
export type MonitorEvent = z.output<typeof MonitorEvent>;

/** `POST /cpn/v1/events`: events a child forwards upward; the event id is the idempotency key. */
export const EventBatch = message({
  events: z.array(MonitorEvent).min(1).max(1000),
});
export type EventBatch = z.output<typeof EventBatch>;

/** `GET /cpn/v1/events/export?since=&until=&type=`: the event log as JSON Lines, for archiving. */
export const EventsExportQuery = z.strictObject({
  since: Time.optional().describe('only events at or after this time (RFC 3339 UTC)'),
  until: Time.optional().describe('only events before this time (RFC 3339 UTC)'),
  type: z.string().max(100).optional().describe('an event type, or a family such as `job.*`'),
});
export type EventsExportQuery = z.output<typeof EventsExportQuery>;

/** `GET /cpn/v1/events?since=&type=`. */
export const EventsQuery = z.strictObject({
  since: Time.optional().describe('only events at or after this time (RFC 3339 UTC)'),
  type: z
    .union([EventType, z.string().regex(/^[a-z-]+\.\*$/, 'an event type or a family such as job.*')])
    .optional()
    .describe('an event type, or a family such as `cluster.*`'),
  // The sequence number of the last event of the previous page (`next`): digits that fit a safe integer.
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'a cursor is the `next` of a previous page: 1 to 15 digits')
    .optional()
    .describe('the `next` of the previous page (same filters); absent for the first'),
  limit: PageLimit,
});
export type EventsQuery = z.output<typeof EventsQuery>;

/** An audit entry: who did what, on which resource, with what decision. */
export const AuditEntry = message({
  who: z.string(),
  action: z.string(),
  resource: z.string(),
  decision: z.enum(['allow', 'deny']),
  requestId: z.string(),
  time: Time,
});
export type AuditEntry = z.output<typeof AuditEntry>;

/** The header line of a recording (JSON Lines). */
export const RecordingHeader = message({
  kind: z.literal('cpnet-recording'),
  version: z.literal(1),
  protocol: z.string(),
  scenario: z.string(),
  seed: z.number().int(),
  startedAt: Time,
  topology: z.unknown(),
});
export type RecordingHeader = z.output<typeof RecordingHeader>;

/** A recorded line after the header: an event or a full-state snapshot, in virtual-time order. */
export const RecordingLine = z.discriminatedUnion('kind', [
  message({
    kind: z.literal('event'),
    t: z.number().nonnegative().describe('virtual ms since start'),
    event: MonitorEvent,
  }),
  message({ kind: z.literal('snapshot'), t: z.number().nonnegative(), state: TopologySnapshot }),
  message({
    kind: z.literal('index'),
    t: z.number().nonnegative().describe('virtual ms of the last line before it'),
    events: z.number().int().nonnegative().describe('events in the recording'),
    snapshots: z
      .array(
        z.object({
          t: z.number().nonnegative(),
          offset: z.number().int().nonnegative().describe('byte offset of the snapshot line in the file'),
          events: z.number().int().nonnegative().describe('events written before this snapshot'),
        }),
      )
      .describe('every snapshot line, in order: a viewer seeks to one without reading the lines before it'),
  }).describe(
    'The last line of a recording: where each snapshot line starts, so that a long recording can be opened from its ' +
      'tail and read from the snapshot before the moment wanted',
  ),
]);
export type RecordingLine = z.output<typeof RecordingLine>;
