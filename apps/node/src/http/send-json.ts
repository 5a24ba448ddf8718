import type { Response } from 'express';

/**
 * Answers a write with JSON, as Express's `res.status(s).json(b)` would (same content type, length and body, through
 * the response's `end`, so `answerWhenDurable` still holds it back), without what a write's answer has no use for:
 * an ETag (a SHA-1 of every body) and the freshness check of a conditional GET (issue 26: `json` → `send` was a
 * tenth of a node's time under registration load, the socket write included). A 204 carries no body.
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  res.statusCode = status;
  if (status === 204) {
    res.removeHeader('content-type');
    res.removeHeader('content-length');
    res.end();
    return;
  }
  const text = JSON.stringify(body) ?? '';
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
