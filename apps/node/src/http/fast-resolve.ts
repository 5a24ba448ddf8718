import type { RequestHandler } from 'express';
import { stopwatch } from '@cpnet/kernel/system';
import { parseIdentifier } from '@cpnet/identifier';
import { checkProtocolVersion, PROTOCOL_HEADER, ROUTES } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';

const BASE = `${ROUTES.identifiers}/`;
const ROUTE_LABEL = `${BASE}*id`;

/** What `fastResolve` uses of the node. */
type FastResolveDeps = Pick<NodeContext, 'cache' | 'metrics'>;

/**
 * The hot path of 标识检索: a GET of an identifier whose signed answer is in the cache is answered here, first in the
 * app, with the answer's JSON serialised once per cache entry. Everything else about the contract holds: the answer
 * is the one the answering node signed, the entry expires with the record's TTL, the security headers, request id,
 * protocol-version check and metrics are the same as on the routed path. Anything else (a miss, a query string, a
 * `cpn-path` header of a forwarded query, a bad identifier) falls through to the router.
 */
export function fastResolve(
  ctx: FastResolveDeps,
  input: { headers: ReadonlyArray<readonly [string, string]>; requestId: () => string },
): RequestHandler {
  return (req, res, next) => {
    if (
      req.method !== 'GET' ||
      !req.url.startsWith(BASE) ||
      req.url.includes('?') ||
      req.headers['cpn-path'] !== undefined
    )
      return next();
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
    const body = ctx.cache.encoded(parsed.value.id);
    if (body === undefined) return next();
    // Wall time: the answer's latency is a performance figure.
    const elapsed = stopwatch();
    ctx.metrics.resolutions.inc({ source: 'cache' });
    for (const [n, v] of input.headers) res.setHeader(n, v);
    res.setHeader('x-request-id', input.requestId());
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.statusCode = 200;
    res.end(body);
    ctx.metrics.requests.inc({ method: 'GET', route: ROUTE_LABEL, status: '200' });
    ctx.metrics.duration.observe({ method: 'GET', route: ROUTE_LABEL }, elapsed() / 1000);
  };
}
