import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { schemaValidator, type SchemaDocument } from './schemas.ts';

// Every answer a test node gives is checked against docs/openapi.json: the status must be declared for the
// operation, and the body must match the declared schema (an error body the Error schema). The violations are kept
// and the test setup (contract/setup.ts) fails the test that was running.

interface Response {
  readonly $ref?: string;
  readonly headers?: Record<string, { $ref?: string; required?: boolean }>;
  readonly content?: Record<string, { schema?: unknown }>;
}

interface Operation {
  readonly operationId?: string;
  readonly responses: Record<string, Response>;
}

interface OpenApi extends SchemaDocument {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: SchemaDocument['components'] & {
    readonly responses?: Record<string, Response>;
    readonly headers?: Record<string, { required?: boolean }>;
  };
}

/** One answer as it went out. */
export interface Exchange {
  readonly method: string;
  /** The request target (path and query). */
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** The answer's headers (lower-case names); when given, the required ones declared are checked. */
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** Checks exchanges against an OpenAPI document. */
export interface ResponseChecker {
  /** Why the exchange breaks the contract ([] when it keeps it, or when no operation of the document matches). */
  problems(exchange: Exchange): string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A matcher for a path template: `{param}` is one segment, or — for the last one — the raw-`/` alias too. */
function matcher(template: string): RegExp {
  const parts = template.split(/(\{\w+\})/);
  const last = parts.length - 2;
  const source = parts.map((p, i) =>
    /^\{\w+\}$/.test(p) ? (i === last && parts[i + 1] === '' ? '(.+)' : '([^/]+)') : escape(p),
  );
  return new RegExp(`^${source.join('')}$`);
}

export function responseChecker(doc: OpenApi): ResponseChecker {
  const schemas = schemaValidator(doc);
  // Literal paths first: /cpn/v1/summaries/self is not /cpn/v1/summaries/{x}; then the longer templates, so
  // /cpn/v1/applications/{id}/dossier is not taken for the raw-`/` alias of /cpn/v1/applications/{id}.
  const segments = (t: string) => t.split('/').length;
  const templates = Object.keys(doc.paths)
    .map((t) => ({ t, re: matcher(t), literal: !t.includes('{') }))
    .sort((a, b) => Number(b.literal) - Number(a.literal) || segments(b.t) - segments(a.t));
  const find = (method: string, path: string) => {
    for (const { t, re } of templates) {
      const op = doc.paths[t]![method.toLowerCase()];
      if (op && re.test(path)) return { template: t, op };
    }
    return null;
  };
  return {
    problems(x) {
      const path = x.url.split('?')[0] ?? '';
      const found = find(x.method, path);
      if (!found) return [];
      const where = `${x.method} ${path} (${found.op.operationId ?? found.template}) answered ${x.status}`;
      let declared = found.op.responses[String(x.status)];
      if (!declared) return [`${where}: status not declared (declared: ${Object.keys(found.op.responses).join(', ')})`];
      if (declared.$ref) declared = doc.components.responses?.[declared.$ref.split('/').pop()!] ?? {};
      const missing = Object.entries(declared.headers ?? {})
        .filter(([, h]) => (h.$ref ? doc.components.headers?.[h.$ref.split('/').pop()!]?.required : h.required))
        .filter(([name]) => x.headers !== undefined && x.headers[name.toLowerCase()] === undefined)
        .map(([name]) => `${where}: the required header ${name} is missing`);
      if (missing.length > 0) return missing;
      const content = declared.content;
      if (!content) return x.body.length === 0 ? [] : [`${where}: a body where none is declared`];
      const type = x.contentType.split(';')[0]!.trim().toLowerCase();
      const media = content[type];
      if (!media)
        return [`${where}: content type ${type || '(none)'} not declared (${Object.keys(content).join(', ')})`];
      if ((type !== 'application/json' && !type.endsWith('+json')) || media.schema === undefined) return [];
      let value: unknown;
      try {
        value = JSON.parse(x.body);
      } catch {
        return [`${where}: the body is not JSON`];
      }
      return schemas.problems(media.schema, value).map((p) => `${where}: ${p}`);
    },
  };
}

let shared: ResponseChecker | null = null;
/** The checker for docs/openapi.json (read once). */
export function docsChecker(): ResponseChecker {
  shared ??= responseChecker(
    JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8')) as OpenApi,
  );
  return shared;
}

const violations: string[] = [];

/** The violations recorded since the last call (and forgets them). */
export function takeViolations(): string[] {
  return violations.splice(0);
}

/**
 * Watches every answer of an HTTP server (a test node's): each is checked when it finishes, and a violation recorded.
 * The body is captured as it is written; nothing about the answer changes.
 */
export function watchResponses(server: Server, checker: ResponseChecker = docsChecker()): void {
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const written: Buffer[] = [];
    let ended: Buffer[] = [];
    const keep = (into: Buffer[], chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      into.push(
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array),
      );
    };
    // The response's `write` and `end` as they are when called, not as they are now: Express gives the response its
    // app's prototype after this listener ran, and the node's `end` there holds an answer until it is durable
    // (apps/node/src/http/durable-answers.ts) — binding ServerResponse's own here would skip that.
    const proto = () => Object.getPrototypeOf(res) as ServerResponse;
    res.write = ((...args: unknown[]) => {
      keep(written, args[0], args[1]);
      return (proto().write as (...a: unknown[]) => boolean).apply(res, args);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      // Called again when a held answer is replaced (the storage failure's 503): the last body is the one sent.
      ended = [];
      keep(ended, args[0], args[1]);
      return (proto().end as (...a: unknown[]) => ServerResponse).apply(res, args);
    }) as typeof res.end;
    res.on('finish', () => {
      const problems = checker.problems({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        status: res.statusCode,
        contentType: String(res.getHeader('content-type') ?? ''),
        headers: res.getHeaders(),
        body: Buffer.concat([...written, ...ended]).toString('utf8'),
      });
      violations.push(...problems);
    });
  });
}
