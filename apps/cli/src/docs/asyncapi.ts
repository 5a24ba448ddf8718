import {
  EVENT_TYPES,
  eventDataSchema,
  GATEWAY_EVENTS,
  jsonSchemas,
  NAMESPACES,
  PROTOCOL_VERSION,
  SOCKET_EVENTS,
} from '@cpnet/protocol';
import { HANDSHAKE_MAX_S, HANDSHAKE_TYP } from '@cpnet/security';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The claims of a handshake token (JWS, JCS payload), as JSON Schema. */
const HandshakeClaims = {
  type: 'object',
  additionalProperties: false,
  required: ['iss', 'sub', 'aud', 'ns', 'protocol', 'iat', 'exp', 'jti'],
  description:
    `Payload of the handshake token: a compact JWS, header { alg: "EdDSA" (or "SM2SM3"), typ: ` +
    `"${HANDSHAKE_TYP}", kid: iss }, payload the JCS of these claims. exp ≤ iat + ${HANDSHAKE_MAX_S}; single use (the ` +
    `jti is remembered by the receiver).`,
  properties: {
    iss: {
      type: 'string',
      description: 'the connecting identity: a node prefix (e.g. CPN.51) or a provider PV identifier',
    },
    sub: { type: 'string', description: 'the same identity' },
    aud: { type: 'string', description: 'the prefix of the node connected to' },
    ns: {
      type: 'string',
      enum: [NAMESPACES.monitor, NAMESPACES.gateway],
      description: 'the namespace the token opens',
    },
    protocol: { type: 'string', description: 'the protocol version, e.g. 1.0' },
    iat: { type: 'integer', description: 'Unix seconds' },
    exp: { type: 'integer', description: `Unix seconds, at most iat + ${HANDSHAKE_MAX_S}` },
    jti: { type: 'string', description: 'a random id, refused when seen again' },
  },
};

const MonitorSnapshot = {
  description:
    'The first message on /monitor: a TopologySnapshot with `protocol` beside its fields (when the node has no ' +
    'snapshot source yet: `{ protocol, node }` with the NodeInfo).',
  anyOf: [
    {
      allOf: [
        ref('TopologySnapshot'),
        { type: 'object', required: ['protocol'], properties: { protocol: { type: 'string' } } },
      ],
    },
    {
      type: 'object',
      required: ['protocol', 'node'],
      properties: { protocol: { type: 'string' }, node: ref('NodeInfo') },
    },
  ],
};

/** Which `data` schema each event type carries (job, health, alert and flow events have one). */
const DATA_SCHEMA_NAME = new Map([
  ['JobEventData', (t: string) => t.startsWith('job.') && t !== 'job.flows'],
  ['FlowEventData', (t: string) => t === 'job.flows'],
  ['HealthEventData', (t: string) => ['node.health', 'link.health', 'cluster.health'].includes(t)],
  ['AlertEventData', (t: string) => t === 'security.alert'],
] as const);

/** A MonitorEvent whose `data` matches the schema of its type. */
function typedEvent(): Record<string, unknown> {
  const cases = [];
  for (const [name, applies] of DATA_SCHEMA_NAME) {
    const types = EVENT_TYPES.filter((t) => applies(t) && eventDataSchema(t) !== null);
    cases.push({
      if: { type: 'object', required: ['type'], properties: { type: { enum: types } } },
      then: { type: 'object', properties: { data: ref(name) } },
    });
  }
  return {
    description:
      'A MonitorEvent; the `data` of job.* events is a JobEventData (job.flows: FlowEventData), of node.health, ' +
      'link.health and cluster.health a HealthEventData, of security.alert an AlertEventData.',
    allOf: [ref('MonitorEvent'), ...cases],
  };
}

const message = (name: string, payload: unknown, description: string) => ({
  name,
  title: name,
  contentType: 'application/json',
  description,
  payload,
});

/** The AsyncAPI 3.0 document of every socket.io namespace, event, payload and acknowledgement. */
export function asyncApiDocument(): Record<string, unknown> {
  const schemas = {
    ...jsonSchemas(),
    HandshakeClaims,
    MonitorSnapshot,
    MonitorEventTyped: typedEvent(),
    MonitorEventBatchTyped: {
      description: 'A MonitorEventBatch whose events are MonitorEventTyped.',
      allOf: [
        ref('MonitorEventBatch'),
        { type: 'object', properties: { events: { type: 'array', items: ref('MonitorEventTyped') } } },
      ],
    },
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'cpnet node sockets',
      version: PROTOCOL_VERSION,
      description: [
        "socket.io v4 (Engine.IO protocol 4, WebSocket transport) on the node's HTTP port. Each socket.io namespace is " +
          'a channel; each event name is a message.',
        'Generated from @cpnet/protocol and @cpnet/security by `npm run docs`; do not edit by hand.',
        '',
        'Handshake: the client connects to the namespace with socket.io `auth` = `{ token, protocol }` (gateway) or `{ ' +
          'token, history?, batch? }` (monitor; `history: false` asks for no `history` message — a conformance check ' +
          'that waits only for the snapshot; `batch: true` asks for the live events in `events` messages, one per turn ' +
          "of the node's event loop, instead of one `event` message each — a recorder watching every node), where " +
          'token is a handshake token (see components.schemas.HandshakeClaims) signed with ' +
          "the connecting identity's key, audience the node's prefix, `ns` the namespace. A refused handshake is a " +
          'socket.io connect_error whose message starts with `UNAUTHENTICATED:`.',
        '',
        'Versions: every event payload carries `protocol` (1.x); a receiver refuses another major version and a ' +
          'minor more than one apart from its own (N±1, docs/profiles.md section 5).',
        '',
        'Sequence rules (/gateway): each direction numbers its events with `seq`, strictly increasing per connection ' +
          'direction; the gateway keeps the number of a report when it resends it. A repeated or older seq is refused ' +
          'with ack `{ ok: false, error: { code: "REPLAYED" } }`.',
        'Acknowledgement: every event is acknowledged with a GatewayAck (the socket.io acknowledgement callback). For ' +
          'reports, an ack with ok: true means the report is durably applied.',
        'Reconnect rules: on connect the node first sends `session` with `lastReportSeq`, the last report seq it has ' +
          'durably applied for this gateway. The gateway treats every pending report with seq ≤ lastReportSeq as ' +
          'applied and resends the others with their original seq. After a transport failure clients reconnect with ' +
          "socket.io's backoff; after a refused handshake or a node-side close, with their own doubling backoff with " +
          'jitter, and a new single-use handshake token each time.',
        "Reports that carry only what changed (capability `report-unchanged`, advertised in the session's " +
          '`ext.capabilities`): the gateway names in `ext.unchanged` (components.schemas.ReportUnchanged) the clusters ' +
          'whose entry equals the one it last sent in full and the node acknowledged, and sends the others in ' +
          '`clusters` (which may then be empty). The node applies each named cluster as its held entry sent again ' +
          '(liveness, report counter, scheduling view); one it holds no entry for is not applied and is listed in the ' +
          "ack's `ext.stale`, to be sent in full. A gateway sends a cluster in full while a report carrying it in full " +
          'is unacknowledged, and everything in full after each new session. To a node that does not advertise it, ' +
          'every entry goes in full.',
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      node: { host: '127.0.0.1:7000', protocol: 'ws', description: 'a cpnet node; socket.io path /socket.io/' },
    },
    channels: {
      monitor: {
        address: NAMESPACES.monitor,
        title: 'Monitoring stream (运行监测)',
        description:
          'Admits a node\'s handshake token (ns "/monitor") or a person\'s API token whose role may read metrics. ' +
          'Sends `snapshot` once (the whole subtree of the node), then `history` once (the last 15 minutes of virtual ' +
          'time of events and the open failover episodes; not when the handshake `auth` has `history: false`), then ' +
          '`event` for every event of the subtree the node hears (or `events` batches of them, when the handshake `auth` ' +
          'has `batch: true`; a node that does not know the field sends `event` messages).',
        messages: {
          snapshot: message(SOCKET_EVENTS.snapshot, ref('MonitorSnapshot'), 'node → client, once after the handshake'),
          history: message(
            SOCKET_EVENTS.history,
            ref('MonitorHistory'),
            'node → client, once after the snapshot: recent events and open failover episodes for a late visitor',
          ),
          event: message(SOCKET_EVENTS.event, ref('MonitorEventTyped'), 'node → client, every live event'),
          events: message(
            SOCKET_EVENTS.events,
            ref('MonitorEventBatchTyped'),
            'node → client, instead of `event` when the handshake `auth` has `batch: true`: the live events one turn ' +
              "of the node's event loop published, in order (at most 500 a message)",
          ),
        },
      },
      gateway: {
        address: NAMESPACES.gateway,
        title: 'Provider gateway connection (资源汇聚)',
        description:
          "One connection per provider for all its clusters; identity = the provider's PV identifier. Handshake auth " +
          '`{ token, protocol }` (components.schemas.GatewayAuth).',
        messages: {
          session: message(GATEWAY_EVENTS.session, ref('GatewaySession'), 'node → gateway, once on connect'),
          report: message(
            GATEWAY_EVENTS.report,
            ref('CapacityReport'),
            'gateway → node: K1/K2 capacity, price, PUE, green share and metrics of its clusters',
          ),
          jobUpdate: message(
            GATEWAY_EVENTS.jobUpdate,
            ref('JobUpdate'),
            'gateway → node: progress of a dispatched job',
          ),
          dispatch: message(GATEWAY_EVENTS.dispatch, ref('Dispatch'), 'node → gateway: run a job on a cluster'),
          cancel: message(GATEWAY_EVENTS.cancel, ref('Cancel'), 'node → gateway: stop a job'),
          control: message(
            GATEWAY_EVENTS.control,
            ref('Control'),
            'node → gateway: suspend, reinstate or revoke the provider or a cluster (应急处置)',
          ),
          ack: message('ack', ref('GatewayAck'), 'the socket.io acknowledgement of any gateway event'),
        },
      },
    },
    operations: {
      receiveSnapshot: {
        action: 'receive',
        channel: { $ref: '#/channels/monitor' },
        messages: [{ $ref: '#/channels/monitor/messages/snapshot' }],
      },
      receiveHistory: {
        action: 'receive',
        channel: { $ref: '#/channels/monitor' },
        messages: [{ $ref: '#/channels/monitor/messages/history' }],
      },
      receiveEvent: {
        action: 'receive',
        channel: { $ref: '#/channels/monitor' },
        messages: [{ $ref: '#/channels/monitor/messages/event' }],
      },
      receiveEvents: {
        action: 'receive',
        channel: { $ref: '#/channels/monitor' },
        messages: [{ $ref: '#/channels/monitor/messages/events' }],
      },
      receiveSession: {
        action: 'receive',
        channel: { $ref: '#/channels/gateway' },
        messages: [{ $ref: '#/channels/gateway/messages/session' }],
      },
      sendReport: {
        action: 'send',
        channel: { $ref: '#/channels/gateway' },
        messages: [{ $ref: '#/channels/gateway/messages/report' }],
        reply: { channel: { $ref: '#/channels/gateway' }, messages: [{ $ref: '#/channels/gateway/messages/ack' }] },
      },
      sendJobUpdate: {
        action: 'send',
        channel: { $ref: '#/channels/gateway' },
        messages: [{ $ref: '#/channels/gateway/messages/jobUpdate' }],
        reply: { channel: { $ref: '#/channels/gateway' }, messages: [{ $ref: '#/channels/gateway/messages/ack' }] },
      },
      receiveDispatch: {
        action: 'receive',
        channel: { $ref: '#/channels/gateway' },
        messages: [{ $ref: '#/channels/gateway/messages/dispatch' }],
        reply: { channel: { $ref: '#/channels/gateway' }, messages: [{ $ref: '#/channels/gateway/messages/ack' }] },
      },
      receiveCancel: {
        action: 'receive',
        channel: { $ref: '#/channels/gateway' },
        messages: [{ $ref: '#/channels/gateway/messages/cancel' }],
        reply: { channel: { $ref: '#/channels/gateway' }, messages: [{ $ref: '#/channels/gateway/messages/ack' }] },
      },
      receiveControl: {
        action: 'receive',
        channel: { $ref: '#/channels/gateway' },
        messages: [{ $ref: '#/channels/gateway/messages/control' }],
        reply: { channel: { $ref: '#/channels/gateway' }, messages: [{ $ref: '#/channels/gateway/messages/ack' }] },
      },
    },
    components: { schemas },
  };
}
