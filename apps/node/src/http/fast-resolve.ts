import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { stopwatch } from '@cpnet/kernel/system';
import { parseIdentifier } from '@cpnet/identifier';
import { checkProtocolVersion, PROTOCOL_HEADER, ROUTES } from '@cpnet/protocol';
import { cpnPath, resolve } from '../identifiers/resolve.ts';
import type { EndWhenDurable } from './durable-answers.ts';

const BASE = `${ROUTES.identifiers}/`;
const ROUTE_LABEL = `${BASE}*id`;

/** What `fastResolve` uses of the node. */
type FastResolveDeps = Parameters<typeof resolve>[0];

/** A resolution that failed on the fast path, continuing through the app as that failure. */
const FAILED = Symbol('resolution failed on the fast path');
type Failed = IncomingMessage & { [FAILED]?: { error: unknown } };

/** The fast path of resolutions, in front of the app. */
export interface FastResolve {
  /** The server's request listener: a well-formed resolution is answered here; everything else goes to `app`. */
  listener(app: RequestListener): RequestListener;
  /**
   * The app's first middleware: a resolution that failed on the fast path enters the app as that failure, so its
   * answer is the app's error handler's (the same error body and status as the routed path's).
   */
  readonly failures: RequestHandler;
}

/**
 * The hot path of 标识检索: a GET of a well-formed identifier is answered before the app (Express's entry and router
 * are a measurable share of a forwarded hop) — from the cache (the answer's JSON serialised once per cache entry), or
 * by `resolve` (locally, or forwarded up or down the hierarchy, as the routed handler does). Everything else about the
 * contract holds: the answer is the one the answering node signed, a cached entry expires with the record's TTL, the
 * security headers, request id, protocol-version check, metrics and the durable-answer fence are those of the routed
 * path, and a failure goes to the app's error handler (the same error body). Anything else (a query string, a
 * malformed identifier, percent-encoding or `cpn-path`, a protocol version not spoken) goes to the app, whose route
 * of the same name (documented in the OpenAPI) answers it or its 4xx.
 */
export function fastResolve(
  ctx: FastResolveDeps,
  input: {
    headers: ReadonlyArray<readonly [string, string]>;
    requestId: () => string;
    /** Ends an answer behind the durable-answer fence (`answerWhenDurable`). */
    end: EndWhenDurable;
  },
): FastResolve {
  const answer = (res: ServerResponse, body: string, elapsed: () => number) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.statusCode = 200;
    input.end(res, body);
    ctx.metrics.requests.inc({ method: 'GET', route: ROUTE_LABEL, status: '200' });
    ctx.metrics.duration.observe({ method: 'GET', route: ROUTE_LABEL }, elapsed() / 1000);
  };
  /** Answers `req` when it is a well-formed resolution (true); false when the app should take it. */
  const take = (req: IncomingMessage, res: ServerResponse, app: RequestListener): boolean => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith(BASE) || url.includes('?')) return false;
    const version = req.headers[PROTOCOL_HEADER];
    if (version !== undefined && !checkProtocolVersion(String(version)).ok) return false;
    let text: string;
    try {
      text = decodeURIComponent(url.slice(BASE.length));
    } catch {
      return false;
    }
    const parsed = parseIdentifier(text);
    if (!parsed.ok) return false;
    const hops = cpnPath(req.headers['cpn-path']);
    if (!hops.ok) return false;
    const path = hops.path;
    // Wall time: the answer's latency is a performance figure.
    const elapsed = stopwatch();
    for (const [n, v] of input.headers) res.setHeader(n, v);
    const requestId = input.requestId();
    res.setHeader('x-request-id', requestId);
    const cached = path.length === 0 ? ctx.cache.encoded(parsed.value.id) : undefined;
    if (cached !== undefined) {
      ctx.metrics.resolutions.inc({ source: 'cache' });
      answer(res, cached, elapsed);
      return true;
    }
    resolve(ctx, { id: parsed.value.id, prefix: parsed.value.prefix, path }).then(
      (a) => answer(res, JSON.stringify(a), elapsed),
      (error: unknown) => {
        res.on('finish', () => {
          ctx.metrics.requests.inc({ method: 'GET', route: ROUTE_LABEL, status: String(res.statusCode) });
          ctx.metrics.duration.observe({ method: 'GET', route: ROUTE_LABEL }, elapsed() / 1000);
        });
        // Into the app with its request id (Express keeps `res.locals` it finds), straight to its error handler.
        (res as ServerResponse & { locals?: Record<string, unknown> }).locals = { requestId };
        (req as Failed)[FAILED] = { error };
        app(req, res);
      },
    );
    return true;
  };
  return {
    listener: (app) => (req, res) => {
      if (!take(req, res, app)) app(req, res);
    },
    failures: (req, _res, next) => {
      const failed = (req as Failed)[FAILED];
      if (failed) next(failed.error);
      else next();
    },
  };
}
