import { jsonSchemas, PROTOCOL_VERSION, ROUTES, SCHEDULING_ROUTES } from '@cpnet/protocol';

type Op = { summary: string; body?: string; response?: string; signed?: boolean };

const OPS: Record<string, Record<string, Op>> = {
  [ROUTES.health]: { get: { summary: 'Liveness and readiness' } },
  [ROUTES.metrics]: { get: { summary: 'Prometheus metrics (text format)' } },
  [ROUTES.node]: { get: { summary: 'Who this node is', response: 'NodeInfo' } },
  [`${ROUTES.node}/lifecycle`]: {
    post: { summary: 'A child reports a lifecycle change in its subtree', body: 'LifecycleNotice', signed: true },
  },
  [ROUTES.openapi]: { get: { summary: 'This document' } },
  [ROUTES.identifiers]: {
    get: { summary: 'List records (paged: prefix, cursor, limit)' },
    post: {
      summary: 'Register an identifier under this node (标识注册)',
      body: 'RegisterIdentifier',
      response: 'IdentifierRecord',
      signed: true,
    },
  },
  '/cpn/v1/identifiers/{id}': {
    get: { summary: 'Resolve an identifier (标识检索); raw / or %2F', response: 'ResolutionAnswer' },
    put: {
      summary: 'Update (new version; optimistic version check)',
      body: 'UpdateIdentifier',
      response: 'IdentifierRecord',
      signed: true,
    },
    delete: { summary: 'Revoke', response: 'IdentifierRecord', signed: true },
  },
  [ROUTES.copies]: { post: { summary: 'Records copied upward by a child', body: 'CopyBatch', signed: true } },
  [ROUTES.applications]: {
    get: { summary: 'Applications received' },
    post: {
      summary: 'Apply (申报), signed with the key in the application',
      body: 'Application',
      response: 'ApplicationState',
      signed: true,
    },
  },
  [`${ROUTES.applications}/forwarded`]: {
    post: {
      summary: 'A regional node forwards an industry application with its opinion',
      body: 'ForwardedApplication',
      signed: true,
    },
  },
  '/cpn/v1/applications/{id}': {
    get: { summary: 'An application, with the grant once approved', response: 'ApplicationState' },
  },
  '/cpn/v1/applications/{id}/reviews': {
    post: { summary: 'Review (初审推荐 / final decision)', body: 'Review', response: 'ApplicationState', signed: true },
  },
  [ROUTES.jointDebug]: {
    get: { summary: 'Joint-debugging results' },
    post: {
      summary: 'Ask this node to run the joint-debugging checks on the caller',
      body: 'JointDebugRequest',
      signed: true,
    },
  },
  [`${ROUTES.jointDebug}/echo`]: {
    post: { summary: 'A signed no-op used by the forged/replayed checks', signed: true },
  },
  [ROUTES.emergency]: {
    post: {
      summary: 'Suspend, reinstate or revoke a node, provider or cluster (应急处置)',
      body: 'EmergencyAction',
      signed: true,
    },
  },
  [ROUTES.accounts]: {
    get: { summary: 'Accounts' },
    post: { summary: 'Create an account', body: 'CreateAccount', signed: true },
  },
  [ROUTES.tokens]: { post: { summary: 'Exchange a password for an API token', body: 'TokenRequest' } },
  [ROUTES.events]: {
    get: { summary: 'The event log (paged: since, type or family such as cluster.*, cursor, limit)' },
    post: {
      summary: "Node to node: a child forwards its subtree's events (deduplicated by event id)",
      body: 'EventBatch',
      signed: true,
    },
  },
  [`${ROUTES.events}/export`]: { get: { summary: 'The event log as JSON Lines (since, until, type), for archiving' } },
  [ROUTES.viewerTokens]: {
    post: {
      summary: "An operator (API token) or the node (signed) mints a token for one of this node's viewer accounts",
      body: 'ViewerTokenRequest',
      response: 'TokenAnswer',
    },
  },
  [ROUTES.monitorSubtree]: {
    get: {
      summary:
        "This node's whole subtree as a TopologySnapshot (waitMs: wall ms for the children); an ancestor (signed) or " +
        'a person who may read metrics',
      response: 'SubtreeSnapshot',
    },
  },
  [ROUTES.monitorClusters]: {
    get: { summary: "One node's clusters (node=<prefix>), when the subtree snapshot sent per-node sums" },
  },
  [ROUTES.providers]: {
    get: { summary: 'Providers registered here, with health' },
    post: {
      summary: 'Register a provider (统一社会信用代码); signed with the key in the body, keyid = the credit code',
      body: 'RegisterProvider',
      response: 'Provider',
      signed: true,
    },
  },
  [ROUTES.clusters]: {
    get: { summary: 'Clusters registered here (provider filter), with health, report count and last report' },
    post: {
      summary: 'Register a cluster, signed by its provider; Idempotency-Key answered once',
      body: 'RegisterCluster',
      signed: true,
    },
  },
  [ROUTES.summaries]: {
    post: {
      summary: "Node to node: a child's subtree summaries, each deduplicated by its key",
      body: 'SummaryBatch',
      signed: true,
    },
  },
  [`${ROUTES.summaries}/self`]: { get: { summary: "This node's current subtree summary", response: 'SubtreeSummary' } },
  [ROUTES.market]: {
    get: {
      summary: "The market view over this node's subtree (the national node: all), filterable",
      response: 'MarketView',
    },
  },
  '/cpn/v1/audit/head': { get: { summary: 'The signed tree head of the audit log' } },
  [ROUTES.selections]: {
    post: {
      summary:
        'Compute selection (算力选择), dry run: ranked candidates and every exclusion, across the hierarchy when needed',
      body: 'SelectionRequest',
      response: 'SelectionAnswer',
      signed: true,
    },
  },
  [ROUTES.jobs]: {
    get: {
      summary:
        'List the jobs submitted here, in identifier order (paged: tenant, cursor, limit; a tenant sees its own)',
      response: 'JobPage',
    },
    post: {
      summary: 'Submit a job (tenant): placed locally or escalated, answered once dispatched or queued; 422 over quota',
      body: 'SubmitJob',
      response: 'Job',
      signed: true,
    },
  },
  [`${ROUTES.jobs}/{id}`]: {
    get: { summary: 'A job with its history (signed or token)', response: 'Job', signed: true },
    delete: { summary: 'Cancel a job (idempotent)', response: 'Job', signed: true },
  },
  [ROUTES.metering]: {
    get: {
      summary: "Metering (计量统计) lines and totals per tenant and provider, with children's totals",
      response: 'MeteringReport',
      signed: true,
    },
  },
  [SCHEDULING_ROUTES.placements]: {
    post: {
      summary:
        'Node to node: place a job, or a batch of jobs (escalation up, or the parent asking the owning child down)',
      body: 'PlacementBody',
      response: 'PlacementReply',
      signed: true,
    },
  },
  [SCHEDULING_ROUTES.selections]: {
    post: {
      summary: 'Node to node: a relayed dry-run selection',
      body: 'SelectionRelay',
      response: 'SelectionAnswer',
      signed: true,
    },
  },
  [SCHEDULING_ROUTES.jobUpdates]: {
    post: { summary: 'Node to node: job history relayed toward the origin', body: 'JobRelayBody', signed: true },
  },
  [SCHEDULING_ROUTES.cancels]: {
    post: { summary: 'Node to node: a cancellation relayed toward the owner', body: 'JobCancelRelay', signed: true },
  },
  [SCHEDULING_ROUTES.summaries]: {
    post: {
      summary: "Node to node: a child's scheduling summary (also its heartbeat)",
      body: 'SchedulingSummary',
      signed: true,
    },
  },
  [SCHEDULING_ROUTES.metering]: {
    post: { summary: "Node to node: a child's metering totals", body: 'MeteringSummary', signed: true },
  },
};

const ERROR = { $ref: '#/components/schemas/Error' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function operation(op: Op) {
  const responses: Record<string, unknown> = {
    '200': { description: 'OK', content: { 'application/json': { schema: op.response ? ref(op.response) : {} } } },
    '400': {
      description: 'Malformed JSON, a schema violation (naming the field) or an unsupported protocol version',
      content: { 'application/json': { schema: ERROR } },
    },
    '404': { description: 'Not found', content: { 'application/json': { schema: ERROR } } },
  };
  if (op.signed) {
    responses['401'] = {
      description: 'Missing or bad signature (checked before the body)',
      content: { 'application/json': { schema: ERROR } },
    };
    responses['403'] = {
      description: 'The signer may not do this',
      content: { 'application/json': { schema: ERROR } },
    };
    responses['413'] = { description: 'Body over the size limit', content: { 'application/json': { schema: ERROR } } };
  }
  return {
    summary: op.summary,
    ...(op.signed ? { security: [{ httpSignature: [] }, { bearer: [] }] } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body) } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of a node, generated from the protocol's zod schemas. */
export function openApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    const { $schema: _drop, ...rest } = schema as Record<string, unknown>;
    void _drop;
    schemas[name] = rest;
  }
  schemas.Error = {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      },
    },
  };
  const paths = Object.fromEntries(
    Object.entries(OPS).map(([p, ops]) => [
      p,
      Object.fromEntries(Object.entries(ops).map(([m, op]) => [m, operation(op)])),
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'cpnet node',
      version: PROTOCOL_VERSION,
      description:
        'A model of the national compute-power interconnection node protocol (not the real platform). Every request ' +
        "carries `cpn-protocol: 1.0`; writes are signed with RFC 9421 (Ed25519) or carry a person's API token.",
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        httpSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Signature',
          description:
            'RFC 9421 with Signature-Input; covers @method, @target-uri, content-type, content-digest; tag="cpn"',
        },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'at+jwt' },
      },
    },
  };
}
