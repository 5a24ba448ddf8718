import type { Request } from 'express';
import type { z } from 'zod';
import { validate } from '@cpnet/protocol';
import { HttpError } from './http-error.ts';

/**
 * Reads the raw body up to `limit` bytes; over the limit (declared or actual) is 413. Listeners on the stream, not
 * `for await`: an async iterator per request cost 3 % of a node's time under registration load (issue 26), and a
 * body of one chunk (most) is kept as it came instead of copied.
 */
export function readRaw(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    return Promise.reject(new HttpError('PAYLOAD_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: unknown) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', done);
      req.off('close', onClose);
      if (error) reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done(new HttpError('PAYLOAD_TOO_LARGE', `the body is over the limit of ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done(null);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    // The client went away before the end: as `for await` did, the read fails (no answer can be sent anyway).
    const onClose = () => {
      if (!req.readableEnded) done(new Error('the request was closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', done);
    req.on('close', onClose);
  });
}

/** Parses a JSON body: a non-JSON content type is 415, malformed JSON is 400. An empty body is undefined. */
export function parseJson(req: Request, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/(.+\+)?json\b/i.test(type))
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `content-type "${type}" is not application/json`, 'content-type');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new HttpError('MALFORMED_JSON', `the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Validates input against a protocol schema; a violation is 400 naming the field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = validate(schema, input);
  if (!r.ok) throw new HttpError(r.error.error.code, r.error.error.message, r.error.error.field);
  return r.value;
}
