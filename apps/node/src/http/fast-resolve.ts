import type { RequestHandler, Response } from 'express';
import { stopwatch } from '@cpnet/kernel/system';
import { parseIdentifier } from '@cpnet/identifier';
import { checkProtocolVersion, PROTOCOL_HEADER, ROUTES } from '@cpnet/protocol';
import { cpnPath, resolve } from '../identifiers/resolve.ts';

const BASE = `${ROUTES.identifiers}/`;
const ROUTE_LABEL = `${BASE}*id`;

/** What `fastResolve` uses of the node. */
type FastResolveDeps = Parameters<typeof resolve>[0];

/**
 * The hot path of 标识检索: a GET of a well-formed identifier is answered here, first in the app, without the
 * router — from the cache (the answer's JSON serialised once per cache entry), or by `resolve` (locally, or
 * forwarded up or down the hierarchy, as the routed handler does). Everything else about the contract holds: the
 * answer is the one the answering node signed, a cached entry expires with the record's TTL, the security headers,
 * request id, protocol-version check, metrics and the durable-answer fence are those of the routed path, and a
 * failure goes to the app's error handler (the same error body). Anything else (a query string, a malformed
 * identifier, percent-encoding or `cpn-path`, a protocol version not spoken) falls through to the router, whose
 * route of the same name (documented in the OpenAPI) answers it or its 4xx.
 */
export function fastResolve(
  ctx: FastResolveDeps,
  input: { headers: ReadonlyArray<readonly [string, string]>; requestId: () => string },
): RequestHandler {
  const answer = (res: Response, body: string, elapsed: () => number) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.statusCode = 200;
    res.end(body);
    ctx.metrics.requests.inc({ method: 'GET', route: ROUTE_LABEL, status: '200' });
    ctx.metrics.duration.observe({ method: 'GET', route: ROUTE_LABEL }, elapsed() / 1000);
  };
  return (req, res, next) => {
    if (req.method !== 'GET' || !req.url.startsWith(BASE) || req.url.includes('?')) return next();
    const version = req.headers[PROTOCOL_HEADER];
    if (version !== undefined && !checkProtocolVersion(String(version)).ok) return next();
    let text: string;
    try {
      text = decodeURIComponent(req.url.slice(BASE.length));
    } catch {
      return next();
    }
    const parsed = parseIdentifier(text);
    if (!parsed.ok) return next();
    const hops = cpnPath(req.headers['cpn-path']);
    if (!hops.ok) return next();
    const path = hops.path;
    // Wall time: the answer's latency is a performance figure.
    const elapsed = stopwatch();
    for (const [n, v] of input.headers) res.setHeader(n, v);
    const requestId = input.requestId();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    const cached = path.length === 0 ? ctx.cache.encoded(parsed.value.id) : undefined;
    if (cached !== undefined) {
      ctx.metrics.resolutions.inc({ source: 'cache' });
      return answer(res, cached, elapsed);
    }
    resolve(ctx, { id: parsed.value.id, prefix: parsed.value.prefix, path }).then(
      (a) => answer(res, JSON.stringify(a), elapsed),
      (e: unknown) => {
        res.on('finish', () => {
          ctx.metrics.requests.inc({ method: 'GET', route: ROUTE_LABEL, status: String(res.statusCode) });
          ctx.metrics.duration.observe({ method: 'GET', route: ROUTE_LABEL }, elapsed() / 1000);
        });
        next(e);
      },
    );
  };
}
