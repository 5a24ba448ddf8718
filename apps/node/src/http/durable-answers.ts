import { ServerResponse } from 'node:http';
import type { Express, Response } from 'express';
import { errorBody } from '@cpnet/protocol';
import type { NodeStores } from '../store/stores.ts';
import { StorageFailed } from '../store/wal-sync.ts';

/** `res.locals` flag: the answer shows only what its own request's durable commit wrote (see write-route.ts). */
export const DURABLE_ANSWER = 'cpnetDurableAnswer';
/** Ends a response that did not pass through the app (a plain `ServerResponse`) as the app's answers end. */
export type EndWhenDurable = (res: ServerResponse, body: string) => void;

/** Set on a response whose answer was replaced by the storage failure's 503 (it is sent as it is). */
const REPLACED = Symbol('replaced by the storage failure 503');

/**
 * Holds back every HTTP answer of `app` while something committed is not yet durable (`NodeStores.durable`: on
 * SQLite a group commit is visible for about one fsync before it would survive a power loss). An answer is ended
 * only after every commit made before it was ended is fsynced, so no answer — a resolution, a listing, an idempotent
 * replay — shows a row a power loss could still take back. With nothing pending (an idle node, PostgreSQL) it ends
 * at once, and so does an answer flagged `DURABLE_ANSWER` (a declared route's 2xx: its content is its own commit,
 * already durable). Answers are written with one `res.end` (Express's `send`/`json`); after a failed fsync
 * (`StorageFailed`) the answer is replaced by a 503 that shows nothing. Installed on the app's response prototype: no
 * closure per request. Returns the same for a response that never entered the app (the fast resolve path).
 */
export function answerWhenDurable(
  app: Express,
  db: Pick<NodeStores, 'durable'>,
  /**
   * Headers a replaced answer keeps (the node's own: the security headers with the protocol version every answer
   * carries, and the request id) — none shows data. The rest (content type and length, ETag, Location…) belonged to
   * the prepared answer.
   */
  kept: Iterable<string>,
): EndWhenDurable {
  const keep = new Set([...kept].map((h) => h.toLowerCase()));
  const end = ServerResponse.prototype.end as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  // Ends `res` with `finish()` once every commit made before now is durable; after a failed fsync, replaces the
  // answer with a 503 (through the response's own `end`, and any wrapper of it, e.g. a test's contract watcher, so
  // that it sees the body that is sent), marked so that it is not held back again.
  const hold = (res: ServerResponse & { [REPLACED]?: true }, fence: Promise<void>, finish: () => void) => {
    fence.then(finish, (e: unknown) => {
      // The storage failed (`StorageFailed`): the prepared answer may show what was lost, so it is replaced by a 503
      // that shows nothing; with the head already out, the connection is cut instead.
      if (!(e instanceof StorageFailed) || res.headersSent) {
        res.destroy(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      const body = JSON.stringify(errorBody('UNAVAILABLE', e.message));
      for (const h of res.getHeaderNames()) if (!keep.has(h)) res.removeHeader(h);
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(body));
      res[REPLACED] = true;
      res.end(body);
    });
  };
  Object.defineProperty(app.response, 'end', {
    configurable: true,
    writable: true,
    value: function (this: ServerResponse & { [REPLACED]?: true }, ...args: unknown[]): ServerResponse {
      const own = this[REPLACED] === true || (this as Response).locals?.[DURABLE_ANSWER] === true;
      const fence = own ? null : db.durable();
      if (!fence) return end.apply(this, args);
      hold(this, fence, () => end.apply(this, args));
      return this;
    },
  });
  // A response that never entered the app (the fast resolve path): its `end` is ServerResponse's own, or a wrapper.
  return (res, body) => {
    const fence = db.durable();
    if (!fence) res.end(body);
    else hold(res, fence, () => res.end(body));
  };
}
