import { errorBody, httpStatus, type ErrorCode } from '@cpnet/protocol';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { StorageFailed } from '../store/wal-sync.ts';
import { DURABLE_ANSWER } from './durable-answers.ts';

/** An expected failure of a request: thrown by handlers, turned into the error body by `errorHandler`. */
export class HttpError extends Error {
  readonly field?: string;
  /** Facts for the sender (`error.detail`): e.g. the node's clock and the signature base it verified. */
  readonly detail?: Readonly<Record<string, string>>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    at?: string | { readonly field?: string; readonly detail?: Readonly<Record<string, string>> },
  ) {
    super(message);
    const { field, detail } = typeof at === 'string' ? { field: at, detail: undefined } : (at ?? {});
    this.field = field;
    this.detail = detail;
  }
}

/** Shorthand for throwing an HttpError. */
export function fail(code: ErrorCode, message: string, field?: string): never {
  throw new HttpError(code, message, field);
}

/** 404 for every route no handler answered. */
export const notFound: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('NOT_FOUND', `no route ${req.method} ${req.path}`));
};

/** Maps any error to the wire contract's body; unexpected errors are logged and answered 500 with no stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  const told = new WeakSet<StorageFailed>();
  // Express recognises an error handler by its four parameters.
  // eslint-disable-next-line max-params
  return (error: unknown, req, res, _next) => {
    void _next;
    if (res.headersSent) return;
    if (error instanceof StorageFailed) {
      // Logged once (the failure is sticky: one instance); answered 503 at once, the answer holding no data.
      if (!told.has(error)) logger.fatal({ err: error }, 'storage failed: restart the node');
      told.add(error);
      res.locals[DURABLE_ANSWER] = true;
      res.status(503).json(errorBody('UNAVAILABLE', error.message));
      return;
    }
    // Refused before its body was read (credentials first): close the connection rather than wait for the rest.
    if (!req.complete) res.setHeader('connection', 'close');
    if (error instanceof HttpError) {
      // A throttle's answer says when to come back (RateLimitedError in rate-limit.ts).
      const after = (error as { retryAfterS?: unknown }).retryAfterS;
      if (typeof after === 'number') res.setHeader('Retry-After', String(after));
      res
        .status(httpStatus(error.code))
        .json(errorBody(error.code, error.message, { field: error.field, detail: error.detail }));
      return;
    }
    const e = error as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.too.large' || e?.status === 413) {
      res.status(413).json(errorBody('PAYLOAD_TOO_LARGE', 'the body is over the size limit'));
      return;
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(400).json(errorBody('SCHEMA_VIOLATION', e.message ?? 'bad request'));
      return;
    }
    logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');
    res.status(500).json(errorBody('INTERNAL', 'the node failed while handling the request'));
  };
}
