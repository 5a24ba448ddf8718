import { z } from 'zod';
import * as protocol from '@cpnet/protocol';
import { jsonSchemas, PROTOCOL_HEADER, PROTOCOL_VERSION, VERSION_SKEW } from '@cpnet/protocol';
import { IDEMPOTENCY_HEADER, readsBody, type RouteSpec, type RouteTable } from './http/route-table.ts';
import { routeTables } from './routes/tables.ts';

type Json = Record<string, unknown>;

/** The components a route's zod schema is named by: every message schema @cpnet/protocol exports. */
function schemaNames(): Map<unknown, string> {
  const names = new Set(Object.keys(jsonSchemas()));
  const out = new Map<unknown, string>();
  for (const [name, value] of Object.entries(protocol)) if (names.has(name)) out.set(value, name);
  return out;
}

function inline(schema: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  void _drop;
  return rest;
}

/** The generic error answers, shared by every operation (components.responses). */
const ERROR_RESPONSES: Record<number, [string, string]> = {
  400: [
    'BadRequest',
    'Malformed JSON (`MALFORMED_JSON`), a schema violation naming the field (`SCHEMA_VIOLATION`, `INVALID_IDENTIFIER`, ' +
      '`INVALID_PREFIX`) or an unsupported `cpn-protocol` version (`UNSUPPORTED_VERSION`, field `cpn-protocol`)',
  ],
  401: [
    'Unauthenticated',
    'Credentials missing or refused (`UNAUTHENTICATED`, checked before the body is read), or a replayed nonce (`REPLAYED`)',
  ],
  403: ['Forbidden', 'The caller may not do this (`FORBIDDEN`, with the policy’s reason)'],
  404: ['NotFound', 'No such resource (`NOT_FOUND`)'],
  409: [
    'Conflict',
    'The resource exists or changed, or an Idempotency-Key was reused for a different request (`CONFLICT`)',
  ],
  413: ['PayloadTooLarge', 'The body is over the size limit (`PAYLOAD_TOO_LARGE`)'],
  415: ['UnsupportedMediaType', 'The body is not `application/json` (`UNSUPPORTED_MEDIA_TYPE`)'],
  422: ['RuleViolation', 'The request breaks a rule of the guide (`RULE_VIOLATION`, `DEADLINE_PASSED`)'],
  429: ['RateLimited', 'Too many requests (`RATE_LIMITED`); `Retry-After` says when to come back'],
  503: [
    'Unavailable',
    'A node this request needs cannot be reached (`UPSTREAM_UNAVAILABLE`, `UNAVAILABLE`), or this node’s storage failed ' +
      '(`UNAVAILABLE`, naming the file; it accepts nothing until it is restarted)',
  ],
};

/** Every answer carries the node's protocol version (conformance check `protocol-header`). */
const ANSWER_HEADERS = { [PROTOCOL_HEADER]: { $ref: '#/components/headers/CpnProtocol' } };

const IDEMPOTENCY_CONFLICT = 'an Idempotency-Key reused for a different request';
/** Any answer of a node whose storage failed (a failed WAL fsync, `StorageFailed`) is this 503: every operation. */
const STORAGE_FAILED = 'this node’s storage failed';

const SECURITY: Record<RouteSpec['auth'], Json[]> = {
  none: [],
  login: [],
  optional: [{}, { httpSignature: [] }, { bearer: [] }],
  required: [{ httpSignature: [] }, { bearer: [] }],
  'self-keyed': [{ httpSignature: [] }],
};

function errorStatuses(spec: RouteSpec): Record<number, string | null> {
  const out: Record<number, string | null> = { 400: null };
  if (spec.auth === 'required' || spec.auth === 'self-keyed' || spec.auth === 'optional') out[401] = null;
  if (spec.auth === 'required' || spec.auth === 'self-keyed') out[403] = null;
  // Every write takes an Idempotency-Key: the same key with a different request is 409.
  if (readsBody(spec)) Object.assign(out, { 409: null, 413: null, 415: null });
  out[503] = null;
  for (const [s, when] of Object.entries(spec.errors ?? {})) {
    const status = Number(s);
    if (status === 409 && readsBody(spec)) out[status] = `${when}; or ${IDEMPOTENCY_CONFLICT}`;
    else if (status === 503) out[status] = `${when}; or ${STORAGE_FAILED}`;
    else out[status] = when;
  }
  return out;
}

function operation(spec: RouteSpec, nameOf: (s: z.ZodType) => Json, usedResponses: Set<string>): Json {
  const parameters: Json[] = [{ $ref: '#/components/parameters/CpnProtocol' }];
  for (const [name, p] of Object.entries(spec.pathParams ?? {}))
    parameters.push({
      name,
      in: 'path',
      required: true,
      description: p.description,
      schema: { type: 'string' },
      ...(p.example ? { example: p.example } : {}),
    });
  if (spec.query) {
    const q = inline(spec.query) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      const { description, ...rest } = schema as Json & { description?: string };
      parameters.push({
        name,
        in: 'query',
        required: q.required?.includes(name) ?? false,
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  if (readsBody(spec)) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  for (const h of spec.headers ?? [])
    parameters.push({
      name: h.name,
      in: 'header',
      required: h.required ?? false,
      description: h.description,
      schema: { type: 'string' },
    });
  const responses: Json = {};
  for (const [status, r] of Object.entries(spec.responses) as [string, RouteSpec['responses'][number]][]) {
    const s = r.schema;
    const content =
      s === undefined
        ? undefined
        : s instanceof z.ZodType
          ? { 'application/json': { schema: nameOf(s) } }
          : { [s.mediaType]: { schema: { type: 'string', ...(s.description ? { description: s.description } : {}) } } };
    responses[status] = { description: r.description, headers: ANSWER_HEADERS, ...(content ? { content } : {}) };
  }
  for (const [status, when] of Object.entries(errorStatuses(spec))) {
    const [name, generic] = ERROR_RESPONSES[Number(status)] ?? ['Error', 'An error'];
    responses[status] = when
      ? {
          description: `${generic}: ${when}`,
          headers: ANSWER_HEADERS,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        }
      : (usedResponses.add(name), { $ref: `#/components/responses/${name}` });
  }
  const access: Json = {
    auth: spec.auth,
    ...(spec.access ?? {}),
    ...(spec.audit ? { audit: spec.audit } : {}),
    ...(spec.expressPath ? { alias: spec.expressPath.replace('*id', '{raw-id}') } : {}),
  };
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: SECURITY[spec.auth],
    parameters,
    ...(spec.body
      ? {
          requestBody: {
            required: !spec.bodyOptional,
            content: { 'application/json': { schema: nameOf(spec.body) } },
          },
        }
      : {}),
    responses,
    'x-cpn-access': access,
  };
}

const TAGS: Record<string, string> = {
  meta: 'Liveness, metrics, who the node is, this document, the event log and the audit log',
  identifiers: 'Identifier registration (标识注册), update, revocation, listing, resolution (标识检索) and copies',
  onboarding: 'Applications (申报), reviews (审核), forwarding and joint debugging (联调)',
  dossiers:
    'Application dossiers (申报书, 建设方案, attachments) and the review chain of the province guide (初审推荐 → 名单)',
  governance: 'Emergency response (应急处置) and lifecycle notices',
  accounts: 'Accounts for people and the password → API token exchange',
  resources: 'Providers, clusters, subtree summaries and the market view (算力资源汇聚)',
  events: 'The event log between nodes and its export',
  monitoring: "Subtree snapshots for ancestors and viewers, and one node's clusters",
  scheduling: 'Selections (算力选择), jobs, metering (计量统计) and the node-to-node placement protocol',
};

/** Every operation of a node, from its route tables (the same rows Express mounts). */
export function routeSpecs(): RouteTable<never> {
  return routeTables().flat() as unknown as RouteTable<never>;
}

let built: Record<string, unknown> | null = null;

/** The OpenAPI 3.1 document of a node, generated from its route tables and the protocol's zod schemas (once). */
export function openApiDocument(): Record<string, unknown> {
  built ??= buildDocument();
  return built;
}

function buildDocument(): Record<string, unknown> {
  const all = jsonSchemas();
  const names = schemaNames();
  // Named schemas of typed `ext` fields (issue 27): no body references them by $ref (they ride in `ext`), so listed.
  const used = new Set<string>(['Error', 'TemplateData', 'TemplateLocality']);
  const nameOf = (s: z.ZodType): Json => {
    const name = names.get(s);
    if (name === undefined) return inline(s);
    used.add(name);
    return { $ref: `#/components/schemas/${name}` };
  };
  const paths: Record<string, Json> = {};
  const usedResponses = new Set<string>();
  for (const spec of routeSpecs()) {
    const p = (paths[spec.path] ??= {});
    if (p[spec.method]) throw new Error(`route tables: ${spec.method.toUpperCase()} ${spec.path} twice`);
    p[spec.method] = operation(spec as RouteSpec, nameOf, usedResponses);
  }
  const schemas: Record<string, unknown> = {};
  for (const name of [...used].sort()) {
    if (name === 'Error') continue;
    const { $schema: _drop, ...rest } = all[name] as Json;
    void _drop;
    schemas[name] = rest;
  }
  // A template's `ext` stays a free object (the 1.0 shape); the node checks its typed keys, so they are documented.
  for (const name of ['SubmitJob', 'SelectionRequest']) {
    const body = schemas[name] as { properties?: { template?: { properties?: { ext?: Json } } } } | undefined;
    const ext = body?.properties?.template?.properties?.ext;
    if (ext)
      ext.properties = {
        data: { $ref: '#/components/schemas/TemplateData' },
        locality: { $ref: '#/components/schemas/TemplateLocality' },
      };
  }
  schemas.Error = {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', enum: Object.keys(protocol.ERROR_CODES) },
          message: { type: 'string' },
          field: { type: 'string' },
          detail: {
            type: 'object',
            additionalProperties: { type: 'string' },
            description:
              'Facts that help fix the request: on a refused signature `serverTime` (the node clock) and ' +
              '`signatureBase` (the RFC 9421 base the node verified).',
          },
        },
      },
    },
  };
  const responses: Json = {};
  for (const [name, description] of Object.values(ERROR_RESPONSES))
    if (usedResponses.has(name))
      responses[name] = {
        description,
        headers: ANSWER_HEADERS,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
  return {
    openapi: '3.1.0',
    info: {
      title: 'cpnet node',
      version: PROTOCOL_VERSION,
      description:
        'A model of the national compute-power interconnection node protocol (not the real platform). Every request ' +
        `carries \`${PROTOCOL_HEADER}: ${PROTOCOL_VERSION}\`; writes are signed with RFC 9421 (Ed25519) or carry a ` +
        "person's API token. Generated from the node's route tables (`apps/node/src/routes`), which also mount its " +
        'Express routes. Version skew: ' +
        VERSION_SKEW +
        ' Each operation’s `x-cpn-access` names its credentials (`auth`), the policy action and resource or the rule ' +
        'it applies, and the audit kind it records.',
    },
    servers: [
      {
        url: '{node}',
        description: "A node's base URL (its `publicUrl`): scheme, host and port",
        variables: { node: { default: 'http://127.0.0.1:7001' } },
      },
    ],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas,
      responses,
      headers: {
        CpnProtocol: {
          description: `The protocol version of the answering node (\`MAJOR.MINOR\`, this node: ${PROTOCOL_VERSION})`,
          required: true,
          schema: { type: 'string', pattern: '^\\d+\\.\\d+$' },
        },
      },
      parameters: {
        IdempotencyKey: {
          name: IDEMPOTENCY_HEADER.name,
          in: 'header',
          required: false,
          description: IDEMPOTENCY_HEADER.description,
          schema: { type: 'string', minLength: 1, maxLength: 200 },
        },
        CpnProtocol: {
          name: PROTOCOL_HEADER,
          in: 'header',
          required: false,
          description:
            `The protocol version, \`MAJOR.MINOR\` (this node: ${PROTOCOL_VERSION}). Sent by every client. ` +
            VERSION_SKEW,
          schema: { type: 'string', pattern: '^\\d+\\.\\d+$', example: PROTOCOL_VERSION },
        },
      },
      securitySchemes: {
        httpSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Signature',
          description:
            'RFC 9421 with Signature-Input; covers @method, @target-uri, content-type, content-digest; tag="cpn" ' +
            '(docs/profiles.md)',
        },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'at+jwt' },
      },
    },
  };
}
