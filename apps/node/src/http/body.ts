import type { Request } from 'express';
import type { z } from 'zod';
import { validate } from '@cpnet/protocol';
import { HttpError } from './http-error.ts';

/** Reads the raw body up to `limit` bytes; over the limit (declared or actual) is 413. */
export async function readRaw(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    throw new HttpError('PAYLOAD_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new HttpError('PAYLOAD_TOO_LARGE', `the body is over the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
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
