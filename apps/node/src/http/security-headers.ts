import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@cpnet/protocol';

/**
 * Helmet's headers (CSP off: the node serves JSON), captured once and set in one step. Helmet runs a chain of a
 * dozen middlewares per request that always set the same values; with the settings used here none depends on the
 * request, so the result is computed once. Used by the app and by the cached-resolution fast path alike.
 */
export function securityHeaders(): { headers: ReadonlyArray<readonly [string, string]>; middleware: RequestHandler } {
  const set: [string, string][] = [];
  const fakeRes = {
    setHeader(name: string, value: string | number) {
      set.push([name, String(value)]);
    },
    removeHeader(name: string) {
      const i = set.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
      if (i >= 0) set.splice(i, 1);
    },
  };
  let sync = false;
  helmet({ contentSecurityPolicy: false })({ headers: {}, secure: false } as never, fakeRes as never, () => {
    sync = true;
  });
  if (!sync) throw new Error('helmet did not finish synchronously; cannot capture its headers');
  // Every message carries the protocol version, answers included.
  set.push([PROTOCOL_HEADER, PROTOCOL_VERSION]);
  const headers = set.map(([n, v]) => [n, v] as const);
  return {
    headers,
    middleware: (_req, res, next) => {
      for (const [n, v] of headers) res.setHeader(n, v);
      res.removeHeader('X-Powered-By');
      next();
    },
  };
}
