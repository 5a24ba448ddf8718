import type { Request, RequestHandler, Response } from 'express';
import type { AccessRequest } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail, HttpError } from './http-error.ts';
import { publicName } from './public-name.ts';
import { parseJson, readRaw } from './body.ts';
import { authenticate, authenticateHead, hasCredentials, type Caller, type SelfKey } from './authenticate.ts';
import { idempotencyScope, storedResponse, storeResponse, type IdempotencyScope } from './idempotency.ts';
import { DURABLE_ANSWER } from './durable-answers.ts';
import { sendJson } from './send-json.ts';

/** What a write handler receives: the authenticated caller and the parsed (not yet validated) JSON body. */
export interface WriteInput {
  readonly caller: Caller;
  readonly body: unknown;
  readonly requestId: string;
  /**
   * The write's idempotency key (`Idempotency-Key` header or the body's `idempotencyKey`), scoped to the caller and
   * route. writeRoute answers a retry from the database and stores a 2xx answer after the handler; a handler that
   * writes in one transaction stores it there too (`storeResponse`), so a crash between the two cannot apply it twice.
   */
  readonly idempotency: IdempotencyScope | null;
}

/** A write handler; it validates the body, asks `authorize`, acts and returns [status, body]. */
export type WriteHandler = (req: Request, input: WriteInput) => Promise<[number, unknown]>;

/** What `writeRoute` uses of the node. */
type WriteRouteDeps = Pick<
  NodeContext,
  'accounts' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'nonceStore' | 'state'
>;

/**
 * The body limit of routes whose credentials travel in the body (applications, provider self-registration, logins),
 * read before anyone is authenticated: 64 KiB, or `bodyLimitBytes` when that is smaller.
 */
const SELF_KEYED_BODY_LIMIT_BYTES = 64 * 1024;

/** How a write route finds keys besides the node's peers. */
interface WriteRouteOptions {
  /**
   * The signer's key travels in the body (provider self-registration, applications): the body is parsed before the
   * signature can be checked, so invalid JSON is 400 `MALFORMED_JSON` whoever signed.
   */
  readonly selfKey?: (body: unknown) => SelfKey;
  /** Signers known to the route besides the node's peers (providers): looked up without reading the body. */
  readonly signerKey?: SelfKey;
  /** No credentials (a login: the password is in the body). */
  readonly anonymous?: boolean;
  /** A signer the request names (the applicant of the application in its path), looked up before the body is read. */
  readonly signerKeyFor?: (req: Request) => Promise<SelfKey | undefined>;
  /** The route's own body limit (attachments), instead of the node's `bodyLimitBytes`. */
  readonly bodyLimitBytes?: number;
  /**
   * The signed request's nonce rides the handler's own commit (`RouteSpec.nonceInOwnCommit`, with its argument)
   * instead of being committed before the handler runs; every answer, a refusal too, then waits for it.
   */
  readonly nonceInOwnCommit?: boolean;
}

/**
 * Wraps a write: credentials are checked before the body is read (401), then the size (413), the signature or token
 * (401), the JSON (400/415); the handler validates (400) and authorises (403). On a self-keyed route the JSON comes
 * before the signature (its key is in the body). A signed request's nonce is durable before the handler runs, unless
 * the route declares `nonceInOwnCommit`: then it joins the handler's own commit and the answer waits for it.
 */
export function writeRoute(
  ctx: WriteRouteDeps,
  handler: WriteHandler,
  options: WriteRouteOptions = {},
): RequestHandler {
  return async (req: Request, res: Response) => {
    if (!options.anonymous && !hasCredentials(req))
      fail('UNAUTHENTICATED', 'a write must be signed (RFC 9421 Signature-Input and Signature) or carry an API token');
    const requestId = (res.locals.requestId as string | undefined) ?? '-';
    const bodyKeyed = options.selfKey;
    let raw: Buffer;
    let parsedBody: unknown;
    let caller: Caller;
    if (options.anonymous || bodyKeyed) {
      // The credentials travel in the body (a key, a password): it must be read first, so it is kept small.
      raw = await readRaw(req, Math.min(ctx.config.bodyLimitBytes, SELF_KEYED_BODY_LIMIT_BYTES));
      parsedBody = parseJson(req, raw);
      caller = bodyKeyed
        ? await authenticate(ctx, req, { raw, selfKey: bodySelfKey(bodyKeyed, parsedBody) })
        : {
            principal: { kind: 'person', id: 'anonymous', prefix: ctx.config.code, status: 'active' },
            who: 'anonymous',
          };
    } else {
      // A token, or a signature over the headers (Content-Digest included), before a byte of the body is read.
      const selfKey = options.signerKey ?? (options.signerKeyFor ? await options.signerKeyFor(req) : undefined);
      const head = await authenticateHead(ctx, req, { selfKey });
      raw = await readRaw(req, options.bodyLimitBytes ?? ctx.config.bodyLimitBytes);
      head.checkBody(raw);
      caller = head.caller;
      parsedBody = parseJson(req, raw);
    }
    if (!options.nonceInOwnCommit) {
      // The default: the nonce is committed before the handler runs, so nothing the handler does (a call to another
      // node, an event streamed to subscribers) can be repeated by a replay after a crash.
      await nonceRecorded(ctx, caller);
      return answer(req, res, { caller, parsedBody, raw, requestId });
    }
    try {
      await answer(req, res, { caller, parsedBody, raw, requestId });
    } catch (e) {
      // A refusal too waits for the nonce: the request may be accepted once the state it was refused on changes.
      await nonceRecorded(ctx, caller);
      throw e;
    }
  };

  /**
   * A 2xx answer of a route that declares `nonceInOwnCommit` is the result of the handler's one unit of work (the
   * route's crash argument), whose commit is durable once the write settled, and what the handler read before it was
   * committed earlier: it need not wait for other requests' later commits (`answerWhenDurable`).
   */
  function ownCommitAnswer(res: Response, status: number): void {
    if (options.nonceInOwnCommit && status >= 200 && status < 300) res.locals[DURABLE_ANSWER] = true;
  }

  async function answer(
    req: Request,
    res: Response,
    { caller, parsedBody, raw, requestId }: { caller: Caller; parsedBody: unknown; raw: Buffer; requestId: string },
  ): Promise<void> {
    const idempotency = idempotencyScope(req, { who: caller.who, body: parsedBody, raw });
    if (idempotency === null) {
      const [status, out] = await handler(req, { caller, body: parsedBody, requestId, idempotency });
      await nonceRecorded(ctx, caller);
      ownCommitAnswer(res, status);
      sendJson(res, status, out);
      return;
    }
    const held = await storedResponse(ctx.db.idempotency, idempotency);
    if (held) {
      await nonceRecorded(ctx, caller);
      res.setHeader('idempotent-replayed', 'true');
      sendJson(res, held.status, held.body);
      return;
    }
    // The same key racing itself: the second waits for the first and gets its answer.
    let inflight = inflightByNode.get(ctx);
    if (!inflight) {
      inflight = new Map();
      inflightByNode.set(ctx, inflight);
    }
    let running = inflight.get(idempotency.key);
    const first = running === undefined;
    if (!running) {
      running = (async () => {
        const [status, out] = await handler(req, { caller, body: parsedBody, requestId, idempotency });
        if (status >= 200 && status < 300)
          await ctx.db.write(() =>
            storeResponse(ctx.db.idempotency, { scope: idempotency, status, body: out, now: ctx.deps.clock.now() }),
          );
        return [status, out] as [number, unknown];
      })();
      inflight.set(idempotency.key, running);
    }
    try {
      const [status, out] = await running;
      await nonceRecorded(ctx, caller);
      if (!first) res.setHeader('idempotent-replayed', 'true');
      else ownCommitAnswer(res, status);
      sendJson(res, status, out);
    } finally {
      if (first) inflight.delete(idempotency.key);
    }
  }
}

/**
 * Waits until the nonce of a signed request is durable (at once for a token or an unsigned request). Before a
 * handler (the default) it asks for a commit; after the write of a route whose nonce rides its own commit it is
 * already settled (the nonce joined that commit or an earlier one); a request that wrote nothing waits for the next
 * group commit. Nothing is answered before its nonce would refuse a replay after a crash.
 */
export async function nonceRecorded(ctx: Pick<NodeContext, 'nonceStore'>, caller: Caller): Promise<void> {
  if (caller.nonce !== undefined) await ctx.nonceStore.recorded(caller.who, caller.nonce);
}

/** The key a self-keyed body names for a keyid; a body that names none (or a bad one) yields none. */
function bodySelfKey(selfKey: (body: unknown) => SelfKey, body: unknown): SelfKey {
  return (keyid) => {
    try {
      return selfKey(body)(keyid);
    } catch {
      return null;
    }
  };
}

// Per node: many nodes share a process in the simulator.
const inflightByNode = new WeakMap<object, Map<string, Promise<[number, unknown]>>>();

/** What `authorize` uses of the node. */
type AuthorizeDeps = Pick<NodeContext, 'audit' | 'events' | 'policy'>;

/** What every route module that authenticates, authorises and audits uses of the node; modules add their own parts. */
export type RouteDeps = WriteRouteDeps & AuthorizeDeps;

/** Asks the policy; a denial is audited and answered 403 with the policy's reason. */
export async function authorize(
  ctx: AuthorizeDeps,
  input: { request: AccessRequest; requestId: string },
): Promise<void> {
  const d = ctx.policy.decide(input.request);
  const resource = `${input.request.resource.type}:${input.request.resource.id ?? input.request.resource.prefix}`;
  if (!d.allowed) {
    await ctx.audit.record({
      who: input.request.principal.id,
      action: input.request.action,
      resource,
      decision: 'deny',
      requestId: input.requestId,
    });
    const p = input.request.principal;
    const name = publicName(p);
    // A node not yet approved (or suspended) that keeps speaking is expected during onboarding: recorded, not raised.
    const pending = p.kind === 'node' && p.status !== 'active';
    ctx.events.emit('security.alert', {
      subject: name,
      severity: pending ? 'info' : 'warning',
      data: {
        kind: pending ? 'not-approved' : 'forbidden',
        action: input.request.action,
        source: name,
        target: resource,
        reason: d.reason.replaceAll(p.id, name),
        threat: !pending,
      },
    });
    throw new HttpError('FORBIDDEN', d.reason);
  }
}

/** What `audited` uses of the node. */
type AuditedDeps = Pick<NodeContext, 'audit'>;

/** Audits an allowed write. */
export function audited(
  ctx: AuditedDeps,
  entry: { who: string; action: string; resource: string; requestId: string },
): Promise<void> {
  return ctx.audit.record({ ...entry, decision: 'allow' });
}
