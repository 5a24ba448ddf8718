import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { IdempotencyStore } from '../store/idempotency.ts';
import { fail } from './http-error.ts';

/** The request header a client repeats on a retried write (a retry re-signs, so nonces differ; this does not). */
const IDEMPOTENCY_HEADER = 'idempotency-key';

/** A retried write's identity: the key as stored (scoped to the caller and route) and what the request was. */
export interface IdempotencyScope {
  readonly key: string;
  /** sha-256 of method, path and body: the same key with a different request is refused, not answered. */
  readonly fingerprint: string;
}

/** A response as stored for an idempotency key. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
  readonly request: string;
}

/**
 * The idempotency key of a write: the `Idempotency-Key` header, else an `idempotencyKey` field of the JSON body (the
 * protocol has one where a client needs it, e.g. job submission). Scoped to the caller and the route, so two callers
 * never share one. Null when the request has none.
 */
export function idempotencyScope(
  req: Request,
  input: { who: string; body: unknown; raw: Buffer },
): IdempotencyScope | null {
  const header = req.headers[IDEMPOTENCY_HEADER];
  const field = (input.body as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
  let key: string;
  if (header !== undefined) {
    key = String(header).trim();
    if (key.length === 0 || key.length > 200)
      fail('SCHEMA_VIOLATION', 'Idempotency-Key must be 1–200 characters', IDEMPOTENCY_HEADER);
  } else if (typeof field === 'string' && field.length > 0 && field.length <= 200) {
    key = field;
  } else {
    return null;
  }
  const path = req.originalUrl.split('?')[0] ?? '';
  const fingerprint = createHash('sha256').update(`${req.method} ${path}\n`).update(input.raw).digest('base64url');
  return { key: `${input.who}|${req.method} ${path}|${key}`, fingerprint };
}

/** The response stored for a key, if any; the same key with a different request is 409. */
export async function storedResponse(store: IdempotencyStore, scope: IdempotencyScope): Promise<StoredResponse | null> {
  const response = await store.get(scope.key);
  if (response === undefined) return null;
  const held = JSON.parse(response) as StoredResponse;
  if (held.request !== scope.fingerprint)
    fail('CONFLICT', 'this Idempotency-Key was already used for a different request', IDEMPOTENCY_HEADER);
  return held;
}

/** Stores a response for a key (first one wins); call it inside the write's own transaction where there is one. */
export async function storeResponse(
  store: IdempotencyStore,
  input: { scope: IdempotencyScope; status: number; body: unknown; now: number },
): Promise<void> {
  const response: StoredResponse = { status: input.status, body: input.body, request: input.scope.fingerprint };
  await store.claim(input.scope.key, JSON.stringify(response), input.now);
}
