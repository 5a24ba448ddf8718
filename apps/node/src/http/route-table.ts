import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import type { AccessRequest } from '@cpnet/security';
import type { Caller, SelfKey } from './authenticate.ts';
import { authenticate, hasCredentials } from './authenticate.ts';
import { parseWith } from './body.ts';
import { fail } from './http-error.ts';
import type { IdempotencyScope } from './idempotency.ts';
import { audited, authorize, nonceRecorded, writeRoute, type RouteDeps } from './write-route.ts';

/** The HTTP methods a node answers. */
type Method = 'get' | 'post' | 'put' | 'delete';

/**
 * Who may call a route, as far as credentials go:
 * - `none`: anyone; credentials are not looked at;
 * - `optional`: anyone; a signature or token, when sent, is verified and may widen the answer;
 * - `required`: a signature or an API token (401 without);
 * - `self-keyed`: signed with the key the body carries (its JSON is read first, with a small limit);
 * - `login`: no credentials, the password is in the body (read first, with a small limit).
 */
type Auth = 'none' | 'optional' | 'required' | 'self-keyed' | 'login';

/** A declared response: its description and its schema (a zod schema of @cpnet/protocol, or a media type). */
interface ResponseSpec {
  readonly description: string;
  /** The body: a zod schema (named in the OpenAPI components when @cpnet/protocol exports it), or a non-JSON type. */
  readonly schema?: z.ZodType | { readonly mediaType: string; readonly description?: string };
}

/** A path parameter: `{id}` in the OpenAPI path. */
interface PathParam {
  readonly description: string;
  /** An example value (as it appears in the URL). */
  readonly example?: string;
}

/** A header a route reads besides the credentials and `cpn-protocol`. */
interface HeaderParam {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
}

/** The `Idempotency-Key` header, on the writes that answer a retried key once. */
export const IDEMPOTENCY_HEADER: HeaderParam = {
  name: 'Idempotency-Key',
  description:
    'A retried write repeats it (1–200 characters): the first answer is stored and given again, with ' +
    '`idempotent-replayed: true`; the same key with a different request is 409',
};

/**
 * Who may call a route beyond authentication, as documented (`x-cpn-access`): the policy's action and resource type
 * when the policy decides, else the rule the route applies itself.
 */
interface AccessSpec {
  readonly action?: string;
  readonly resource?: AccessRequest['resource']['type'];
  /** The rule in words (who, and what the policy is given). */
  readonly rule: string;
}

/** What a handler receives. */
interface RouteInput<E, B, Q> {
  readonly env: E;
  readonly req: Request;
  readonly res: Response;
  /** The authenticated caller; null on `none` routes and on `optional` routes called without credentials. */
  readonly caller: Caller | null;
  readonly body: B;
  readonly query: Q;
  readonly requestId: string;
  readonly idempotency: IdempotencyScope | null;
}

/** A handler's answer: a declared status and its body, or `null` when it wrote the response itself (a stream). */
type RouteAnswer<S extends number> = readonly [S, unknown] | null;

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

/** One row of a route table: the contract of one operation and the code that answers it. */
export interface RouteSpec<
  E = unknown,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  S extends number = number,
> {
  readonly operationId: string;
  readonly method: Method;
  /** The OpenAPI path, `{name}` for a parameter. */
  readonly path: string;
  /** The Express path when it differs from the OpenAPI one (a wildcard taking the raw-`/` alias of an identifier). */
  readonly expressPath?: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly auth: Auth;
  readonly pathParams?: Readonly<Record<string, PathParam>>;
  readonly query?: Q;
  readonly headers?: readonly HeaderParam[];
  readonly body?: B;
  /** The body may be absent (e.g. a DELETE with an optional reason). */
  readonly bodyOptional?: boolean;
  /** Every status the route answers besides the generic errors (400, and 401/403/413/415 where credentials apply). */
  readonly responses: Readonly<Record<S, ResponseSpec>>;
  /** Error statuses beyond the generic ones, with when they are sent (404, 409, 422, 429, 503…). */
  readonly errors?: Readonly<Record<number, string>>;
  readonly access?: AccessSpec;
  /** The audit entry's action kind (what the audit log records for an allowed call). */
  readonly audit?: string;
  /** Body signer besides the node's peers: a key named by the body (self-keyed) or known to the route (providers). */
  readonly selfKey?: (body: unknown) => SelfKey;
  readonly signerKey?: (env: E) => SelfKey;
  /**
   * A key the request itself may name (the applicant reading or writing its own application), looked up first: on a
   * read before the headers are verified, on a write before the body is read.
   */
  readonly readerKey?: (env: E, req: Request) => Promise<SelfKey | undefined>;
  /** A write's own body limit in bytes (attachments), instead of the node's `bodyLimitBytes`. */
  readonly bodyLimitBytes?: (env: E) => number;
  /**
   * Opt-in, reviewed: a signed request's nonce rides the handler's own commit instead of being committed before the
   * handler runs (the default, which costs a commit of its own). The value is the crash argument, in words: why a
   * replay after a crash is still refused or harmless. It holds only for a handler whose effects are rows of this
   * node's database written in one unit of work (the nonce is enlisted before it, so it commits in the same
   * transaction or an earlier one) and whose every effect beyond process memory — an event streamed, an outbox kick,
   * a call to another node — comes after that commit; every answer, a refusal too, waits until the nonce is durable.
   * A handler that calls another node or streams anything before its commit must not declare it. The routes that do
   * are listed in routes/tables.test.ts (a new one fails that test until it is added there) and in the README.
   */
  readonly nonceInOwnCommit?: string;
  /**
   * The policy's request for this call, asked after validation and before `handle` (403 on a denial); the route
   * checks the rest itself.
   */
  readonly authorize?: (input: RouteInput<E, Out<B>, Out<Q>>) => Promise<AccessRequest | null> | AccessRequest | null;
  /** The audit entry of an allowed call, recorded after `handle` answered 2xx (routes that audit in their own transaction leave it out). */
  readonly audited?: (
    input: RouteInput<E, Out<B>, Out<Q>>,
    out: unknown,
  ) => { action?: string; resource: string } | null;
  readonly handle: (input: RouteInput<E, Out<B>, Out<Q>>) => Promise<RouteAnswer<NoInfer<S>>> | RouteAnswer<NoInfer<S>>;
}

/** A route table: one area's operations. */
export type RouteTable<E> = readonly RouteSpec<E, z.ZodType | undefined, z.ZodType | undefined, number>[];

/** Declares one operation (the generics carry the body, query and statuses into the handler). */
export function defineRoute<E>() {
  return <
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    S extends number = number,
  >(
    spec: RouteSpec<E, B, Q, S>,
  ): RouteSpec<E, z.ZodType | undefined, z.ZodType | undefined, number> =>
    spec as unknown as RouteSpec<E, z.ZodType | undefined, z.ZodType | undefined, number>;
}

/** The Express path of a spec: its own, or the OpenAPI path with `{name}` as `:name`. */
export function expressPath(spec: Pick<RouteSpec, 'path' | 'expressPath'>): string {
  return spec.expressPath ?? spec.path.replace(/\{(\w+)\}/g, ':$1');
}

const WRITES = new Set<Method>(['post', 'put', 'delete']);

/** True when a spec's route reads a request body (and so can answer 413/415). */
export function readsBody(spec: Pick<RouteSpec, 'method' | 'body'>): boolean {
  return WRITES.has(spec.method);
}

/**
 * Mounts a table on a router. One wrapper runs every row: credentials (before the body on a write), body limit and
 * JSON, query and body validation (400 naming the field) **before** the policy (403), the handler, the audit entry
 * and, on writes, idempotency. A handler answers only the statuses its row declares (a type error otherwise).
 */
export function mountTable<E extends RouteDeps>(env: E, table: RouteTable<E>): Router {
  const router = Router();
  for (const spec of table) router[spec.method](expressPath(spec), handlerOf(env, spec));
  return router;
}

/**
 * Routers as one: the same routes in the same order (the first that matches answers, as with the routers one after
 * another). Express leaves a router that has no match for a request with a `setImmediate` and rebuilds its dispatch
 * state in each: with a router per table, a request for the last table's routes waited a dozen turns of the event
 * loop before its handler ran. The tables hold routes only (`mountTable`), so their layers move as they are.
 */
export function oneRouter(routers: readonly Router[]): Router {
  const all = Router();
  for (const r of routers) all.stack.push(...r.stack);
  return all;
}

function handlerOf<E extends RouteDeps>(env: E, spec: RouteTable<E>[number]): RequestHandler {
  type Spec = typeof spec;
  const run = async (
    req: Request,
    res: Response,
    io: { caller: Caller | null; body: unknown; requestId: string; idempotency: IdempotencyScope | null },
  ) => {
    const query = spec.query ? parseWith(spec.query, req.query) : (undefined as unknown);
    let body: unknown = io.body;
    if (spec.body && !(spec.bodyOptional && body === undefined)) body = parseWith(spec.body, body);
    const input = {
      env,
      req,
      res,
      caller: io.caller,
      body,
      query,
      requestId: io.requestId,
      idempotency: io.idempotency,
    };
    const typed = input as Parameters<Spec['handle']>[0];
    if (spec.authorize) {
      const request = await spec.authorize(typed);
      if (request) await authorize(env, { request, requestId: io.requestId });
    }
    const answer = await spec.handle(typed);
    if (answer && answer[0] >= 200 && answer[0] < 300 && spec.audited && io.caller) {
      const entry = spec.audited(typed, answer[1]);
      if (entry)
        await audited(env, {
          who: io.caller.who,
          action: entry.action ?? spec.audit ?? spec.operationId,
          resource: entry.resource,
          requestId: io.requestId,
        });
    }
    return answer;
  };
  const requestIdOf = (res: Response) => (res.locals.requestId as string | undefined) ?? '-';
  if (!WRITES.has(spec.method)) {
    if (spec.auth === 'self-keyed' || spec.auth === 'login')
      throw new Error(`${spec.operationId}: a read has no body to carry a key or a password`);
    // Reads: no body; credentials, when the route looks at them, cover the headers.
    return async (req, res) => {
      let caller: Caller | null = null;
      const selfKey =
        spec.auth !== 'none' && hasCredentials(req)
          ? spec.readerKey
            ? await spec.readerKey(env, req)
            : spec.signerKey?.(env)
          : undefined;
      if (spec.auth !== 'none' && hasCredentials(req))
        caller = await authenticate(env, req, {
          raw: Buffer.alloc(0),
          ...(selfKey ? { selfKey } : {}),
        });
      else if (spec.auth === 'required')
        fail('UNAUTHENTICATED', `${spec.method.toUpperCase()} ${spec.path} needs a signature or an API token`);
      // As on writes: the nonce is durable before the handler runs unless the route declares otherwise.
      if (caller && !spec.nonceInOwnCommit) await nonceRecorded(env, caller);
      let answer: RouteAnswer<number>;
      try {
        answer = await run(req, res, { caller, body: undefined, requestId: requestIdOf(res), idempotency: null });
      } finally {
        if (caller) await nonceRecorded(env, caller);
      }
      if (answer) res.status(answer[0]).json(answer[1]);
    };
  }
  if (spec.auth === 'none' || spec.auth === 'optional')
    throw new Error(`${spec.operationId}: a write is signed, carries a token, its own key, or a password`);
  return writeRoute(
    env,
    async (req, w) => {
      const answer = await run(req, req.res!, w);
      if (!answer) throw new Error(`${spec.operationId}: a write must answer with a status and a body`);
      return [answer[0], answer[1]];
    },
    {
      ...(spec.auth === 'login' ? { anonymous: true } : {}),
      ...(spec.auth === 'self-keyed' && spec.selfKey ? { selfKey: spec.selfKey } : {}),
      ...(spec.signerKey ? { signerKey: spec.signerKey(env) } : {}),
      ...(spec.readerKey ? { signerKeyFor: (req: Request) => spec.readerKey!(env, req) } : {}),
      ...(spec.bodyLimitBytes ? { bodyLimitBytes: spec.bodyLimitBytes(env) } : {}),
      ...(spec.nonceInOwnCommit ? { nonceInOwnCommit: true } : {}),
    },
  );
}
