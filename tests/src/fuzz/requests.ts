import fc from 'fast-check';
import { PROTOCOL_VERSION } from '@cpnet/protocol';
import { valueOf, type JsonSchema, type SchemaContext } from './schema-arbitrary.ts';

/** One operation of docs/openapi.json. */
export interface Route {
  readonly method: string;
  /** The template, e.g. /cpn/v1/jobs/{id}. */
  readonly path: string;
  readonly body?: JsonSchema;
  readonly query?: JsonSchema;
  readonly secured: boolean;
}

/** Who a request claims to be; the test turns each into headers. */
export const CALLERS = ['none', 'self', 'peer', 'tenant', 'operator', 'bogus-token', 'bogus-signature'] as const;
export type Caller = (typeof CALLERS)[number];

/** A generated request, before signing. */
export interface FuzzRequest {
  readonly method: string;
  /** Path and query string, as sent. */
  readonly target: string;
  /** The body text (possibly not JSON), or none. */
  readonly body?: string;
  /** The content type, when it is not application/json. */
  readonly contentType?: string;
  readonly caller: Caller;
  /** The protocol version header's value, or undefined to leave it out. */
  readonly protocol: string | undefined;
  /** Whether the request goes to the national (0) or the regional (1) node. */
  readonly node: 0 | 1;
}

interface Parameter {
  readonly name?: string;
  readonly in?: string;
  readonly required?: boolean;
  readonly schema?: JsonSchema;
  readonly $ref?: string;
}

interface OpenApi {
  readonly paths: Record<
    string,
    Record<string, { requestBody?: unknown; security?: unknown[]; parameters?: readonly Parameter[] }>
  >;
  readonly components: { readonly schemas: Record<string, JsonSchema> };
}

/** The query parameters an operation declares, as one object schema (undefined when it declares none). */
function querySchema(parameters: readonly Parameter[] = []): JsonSchema | undefined {
  const query = parameters.filter((p) => p.in === 'query' && p.name !== undefined);
  if (query.length === 0) return undefined;
  return {
    type: 'object',
    properties: Object.fromEntries(query.map((p) => [p.name!, p.schema ?? {}])),
    required: query.filter((p) => p.required).map((p) => p.name!),
  } as JsonSchema;
}

/** Every path and method of the document, with its body and query schemas (the declared query parameters). */
export function routesOf(doc: OpenApi): Route[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => {
        const body = (op.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content?.[
          'application/json'
        ]?.schema;
        const query = querySchema(op.parameters);
        return { method: method.toUpperCase(), path, body, query, secured: (op.security?.length ?? 0) > 0 };
      }),
  );
}

/** Returns nested `depth` levels of arrays, as JSON text (the parser, not JSON.stringify, meets the depth). */
const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

// Values that break naive code: overflow, NaN-like text, huge strings, deep nesting, prototype keys, odd Unicode.
const HOSTILE_VALUES: readonly unknown[] = [
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  -1,
  0.5,
  'NaN',
  'Infinity',
  '-0',
  '1e999',
  '',
  'x'.repeat(70_000),
  '\u0000',
  '\ud800',
  '../../etc/passwd',
  'CPN/../CPN.51',
  '__proto__',
  { __proto__: null, constructor: { prototype: { polluted: true } } },
  [],
  {},
  null,
  true,
  Array.from({ length: 2000 }, (_, i) => i),
  JSON.parse(deepJson(300)) as unknown,
];

/** Paths through a JSON value to its object properties and array elements (the places a mutation may hit). */
function pathsOf(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (out.length > 200 || v === null || typeof v !== 'object') return out;
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    pathsOf(child, p, out);
  }
  return out;
}

function setAt(
  root: unknown,
  path: (string | number)[],
  mutate: (parent: Record<string, unknown>, key: string) => void,
): unknown {
  const copy = structuredClone(root) as Record<string, unknown>;
  let parent: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[String(k)] as Record<string, unknown>;
  mutate(parent, String(path.at(-1)));
  return copy;
}

type Mutation = 'none' | 'replace' | 'delete' | 'unknown-field' | 'whole';

/** A valid value, or one with a field replaced, removed or added, or the whole value swapped for a hostile one. */
function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const mutation = fc.constantFrom<Mutation>(
    'none',
    'none',
    'none',
    'replace',
    'replace',
    'delete',
    'unknown-field',
    'whole',
  );
  const hostile = fc.oneof(fc.constantFrom(...HOSTILE_VALUES), fc.jsonValue({ maxDepth: 2 }));
  return fc.tuple(valid, mutation, hostile, fc.nat()).map(([v, m, h, n]) => {
    const paths = pathsOf(v);
    const at = paths[n % Math.max(paths.length, 1)];
    if (m === 'whole' || ((m === 'replace' || m === 'delete') && !at)) return h;
    if (m === 'replace' && at) return setAt(v, at, (p, k) => (p[k] = h));
    if (m === 'delete' && at) return setAt(v, at, (p, k) => delete p[k]);
    if (m === 'unknown-field' && v !== null && typeof v === 'object' && !Array.isArray(v))
      return { ...v, [`x${n % 7}`]: h };
    return v;
  });
}

// Bodies that are not JSON, or are JSON the parser should refuse: truncated, trailing commas, duplicate and prototype
// keys, a BOM, 100,000 levels of nesting, a lone surrogate escape.
const BAD_JSON: readonly string[] = [
  '',
  '{',
  '{"a":1,}',
  'not json',
  'null',
  '"text"',
  '[]',
  '{"a":1,"a":2}',
  '{"__proto__":{"polluted":true}}',
  '\ufeff{}',
  deepJson(100_000),
  '{"x":"\\ud800"}',
  '1e999999',
];

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=latin1',
  'multipart/form-data',
];

/** The body text of a request with a body: valid or mutated JSON mostly, sometimes bad JSON or the wrong type. */
function bodyOf(schema: JsonSchema, ctx: SchemaContext): fc.Arbitrary<{ body: string; contentType?: string }> {
  const json = mutated(valueOf(schema, ctx)).map((v) => ({ body: JSON.stringify(v) ?? 'null' }));
  const bad = fc.constantFrom(...BAD_JSON).map((body) => ({ body }));
  const wrongType = fc
    .tuple(json, fc.constantFrom(...CONTENT_TYPES))
    .map(([j, contentType]) => ({ ...j, contentType }));
  return fc.oneof({ arbitrary: json, weight: 6 }, { arbitrary: bad, weight: 2 }, { arbitrary: wrongType, weight: 1 });
}

// Path parameters: real ones and malformed identifiers, with encoded and raw slashes, dot segments, bad escapes.
const MALFORMED_IDS: readonly string[] = [
  '%2F',
  'CPN.51%2Fa%2Fb',
  'CPN.51/a/b',
  'CPN/',
  '/',
  '..',
  '.',
  '%',
  '%ZZ',
  '%00',
  '%C0%AF',
  '%E4%B8',
  '%F0%9F%98%80',
  'x'.repeat(5000),
  'CPN.' + '9'.repeat(400),
  'job-' + 'a'.repeat(300),
];

function idOf(ctx: SchemaContext): fc.Arbitrary<string> {
  const asPath = (names: readonly string[]) => fc.constantFrom(...names).map((k) => k.split('/').map(encode).join('/'));
  return fc.oneof(
    { arbitrary: asPath(ctx.records.length > 0 ? ctx.records : ctx.known), weight: 3 },
    { arbitrary: asPath(ctx.known), weight: 1 },
    { arbitrary: fc.constantFrom(...MALFORMED_IDS), weight: 2 },
    { arbitrary: fc.string({ maxLength: 30, unit: 'binary' }).map(encode), weight: 1 },
  );
}

// A lone surrogate cannot be percent-encoded (URIError); the node sees U+FFFD in its place, as from a browser.
const encode = (s: string) => encodeURIComponent(s.replace(/\p{Cs}/gu, '\ufffd'));

function queryPart(key: string, v: unknown): string {
  const k = encode(key);
  if (Array.isArray(v)) return v.map((x) => queryPart(key, x)).join('&') || `${k}=`;
  if (v !== null && typeof v === 'object')
    return Object.entries(v)
      .map(([sub, x]) => `${k}[${encode(sub)}]=${encode(String(x))}`)
      .join('&');
  return `${k}=${encode(String(v))}`;
}

function queryOf(schema: JsonSchema | undefined, ctx: SchemaContext): fc.Arbitrary<string> {
  const record: fc.Arbitrary<unknown> = schema ? mutated(valueOf(schema, ctx)) : fc.constant({});
  // Unknown parameters are refused outright, so they come seldom: the known ones should reach the handler.
  const unknown = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { minKeys: 1, maxKeys: 2 });
  const extra = fc.oneof({ arbitrary: fc.constant({}), weight: 5 }, { arbitrary: unknown, weight: 1 });
  return fc.tuple(record, extra).map(([r, x]) => {
    const fields = r !== null && typeof r === 'object' && !Array.isArray(r) ? { ...x, ...r } : { ...x, q: r };
    const parts = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => queryPart(k, v));
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  });
}

/** Requests to one route: its path parameters, query, body and caller all generated. */
export function requestsFor(route: Route, ctx: SchemaContext): fc.Arbitrary<FuzzRequest> {
  const params = route.path.includes('{') ? idOf(ctx) : fc.constant('');
  const body = route.body ? fc.option(bodyOf(route.body, ctx), { freq: 12, nil: undefined }) : fc.constant(undefined);
  const node = fc.constantFrom<0 | 1>(0, 0, 1);
  // Mostly the version the nodes speak; sometimes none, an unknown one or garbage.
  const protocol = fc.oneof(
    { arbitrary: fc.constant<string | undefined>(PROTOCOL_VERSION), weight: 8 },
    { arbitrary: fc.constantFrom<string | undefined>(undefined, '9.9', '0', '1.0, 2.0', 'x'.repeat(2000)), weight: 1 },
  );
  return fc
    .record({ id: params, query: queryOf(route.query, ctx), body, caller: fc.constantFrom(...CALLERS), node, protocol })
    .map((r) => {
      const target = route.path.replace(/\{[^}]+\}/g, r.id) + r.query;
      const request: FuzzRequest = {
        method: route.method,
        target,
        caller: r.caller,
        node: r.node,
        protocol: r.protocol,
        ...(r.body ? { body: r.body.body, ...(r.body.contentType ? { contentType: r.body.contentType } : {}) } : {}),
      };
      // fast-check prints counterexamples with this: bodies of 100,000 characters would bury the failure.
      return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
    });
}

/** How a failing request is shown: method, target and body, cut to a readable length. */
export function describeRequest(r: FuzzRequest): string {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
  const type = r.contentType ? ` content-type=${r.contentType}` : '';
  const protocol = r.protocol === PROTOCOL_VERSION ? '' : ` protocol=${cut(String(r.protocol))}`;
  const body = r.body === undefined ? '' : ` body=${cut(r.body)}`;
  return `${r.method} ${cut(r.target)} to node ${r.node} as ${r.caller}${protocol}${type}${body}`;
}
