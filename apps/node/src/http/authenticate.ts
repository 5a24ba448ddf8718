import type { Request } from 'express';
import {
  createVerifier,
  verifyApiToken,
  type Principal,
  type PublicKeyHandle,
  type HeadVerifyResult,
  type KeyResolution,
} from '@cpnet/security';
import { checkProtocolVersion, PROTOCOL_HEADER } from '@cpnet/protocol';
import type { PersonRole } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { HttpError } from './http-error.ts';
import { knownSigner } from './principal.ts';

/** Who made a request. */
export interface Caller {
  readonly principal: Principal;
  /** The keyid of a signature, or `token:<account>`. */
  readonly who: string;
  /** The signature's nonce (a signed request). */
  readonly nonce?: string;
}

/** A signer not known yet whose key comes with the request (an applicant signing its own application). */
export type SelfKey = (keyid: string) => PublicKeyHandle | null;

/** True when the request carries a signature or an API token (checked before anything is read). */
export function hasCredentials(req: Request): boolean {
  return (
    (req.headers['signature-input'] !== undefined && req.headers.signature !== undefined) ||
    /^Bearer\s+\S+/i.test(req.headers.authorization ?? '')
  );
}

/** The target URI as the signer saw it. */
function targetUri(req: Request): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}${req.originalUrl}`;
}

const LOOPBACK_OR_ANY = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '::']);

/**
 * The origins a signature may name in `@target-uri`, the advertised one first: the public URL, the TLS URL, the
 * configured aliases, and the address the request arrived at, plain or TLS (loopback names when the node listens on
 * loopback or on every interface). A request signed for another node (a sibling's URL) names none of them.
 */
function ownAuthorities(ctx: Pick<NodeContext, 'config' | 'state'>, req: Request): string[] {
  const out = [ctx.state.url, ctx.config.publicUrl, ctx.config.tls.publicUrl, ...ctx.config.aliases];
  const port = req.socket.localPort;
  if (port !== undefined) {
    const host = ctx.config.host;
    const hosts = LOOPBACK_OR_ANY.has(host)
      ? ['127.0.0.1', 'localhost', '[::1]']
      : [host.includes(':') ? `[${host}]` : host];
    for (const h of hosts) out.push(`${req.protocol}://${h}:${port}`);
  }
  return out.filter((u): u is string => typeof u === 'string');
}

/** An authenticated request whose body is still to be read: `checkBody` refuses a body its signature does not cover. */
interface AuthenticatedHead {
  readonly caller: Caller;
  /** Throws 401 when the body read does not match the signed `Content-Digest`. */
  checkBody(raw: Buffer): void;
}

/** True when the request's framing announces a body (Content-Length > 0 or a Transfer-Encoding). */
function announcesBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
}

async function bySignature(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'nonceStore' | 'state'>,
  req: Request,
  opts: { raw: Buffer | null; selfKey?: SelfKey },
): Promise<AuthenticatedHead> {
  let principal: Principal | null = null;
  const resolveKey = async (keyid: string): Promise<KeyResolution> => {
    // Where the body names the signer's own key (an application), the signer proves that key: a second applicant
    // claiming a code already held is then refused by the guide's rules with a reason, not by a bare 401.
    const claimed = opts.selfKey?.(keyid) ?? null;
    if (claimed) {
      principal = { kind: 'node', id: keyid, prefix: keyid, status: 'active' };
      return claimed;
    }
    const known = await knownSigner(ctx, keyid);
    if (known) {
      if (known.lifecycle === 'revoked') return { revoked: 'revoked' };
      principal = known.principal;
      return known.key;
    }
    return null;
  };
  const verifier = createVerifier({
    resolveKey,
    nonceStore: ctx.nonceStore,
    clock: ctx.deps.clock,
    startedAt: ctx.state.startedAt,
    requireProtocolVersion: true,
    authorities: ownAuthorities(ctx, req),
    // Ed25519 verification on libuv's thread pool: the loop parses and answers other requests meanwhile (issue 26).
    verifyOffLoop: ctx.config.verifyOffLoop,
  });
  const request = { method: req.method, url: targetUri(req), headers: req.headers };
  // Before the body is read, the signature is verified over the headers (Content-Digest included).
  const v: HeadVerifyResult =
    opts.raw === null
      ? await verifier.verifyHead({ ...request, hasBody: announcesBody(req) })
      : await verifier.verify({ ...request, body: opts.raw }).then((r) => (r.ok ? { ...r, checkBody: () => null } : r));
  if (!v.ok) {
    if (v.code === 'REPLAYED') ctx.metrics.replaysRefused.inc();
    else if (v.code === 'UNAUTHENTICATED') ctx.metrics.signatureFailures.inc({ code: 'signature' });
    // A forged or replayed write is a security event operators must see, not only a 401 to the sender.
    if (v.code === 'REPLAYED' || v.code === 'UNAUTHENTICATED') {
      // Joint debugging sends forged and replayed probes to the echo route on purpose, and a node whose application
      // is not yet approved is not known by its key: both recorded, classified apart, and not raised.
      const probe = req.path.endsWith('/joint-debug/echo');
      const keyid = claimedKeyid(req);
      const pending = keyid !== null && !probe && (await notYetApproved(ctx, keyid));
      const kind = probe ? 'probe' : pending ? 'not-approved' : v.code === 'REPLAYED' ? 'replay' : 'bad-signature';
      ctx.events.emit('security.alert', {
        subject: keyid ?? undefined,
        severity: probe || pending ? 'info' : 'warning',
        data: {
          kind,
          reason: v.reason,
          source: keyid ?? `address ${req.ip ?? 'unknown'}`,
          target: `${req.method} ${req.path}`,
          threat: !probe && !pending,
          ...(probe ? { probe: v.code === 'REPLAYED' ? 'replay' : 'bad-signature' } : {}),
        },
      });
    }
    const field = v.code === 'UNSUPPORTED_VERSION' ? PROTOCOL_HEADER : undefined;
    throw new HttpError(v.code, v.reason, { field, detail: v.detail ? { ...v.detail } : undefined });
  }
  if (principal === null) throw new HttpError('UNAUTHENTICATED', `unknown keyid ${v.keyid}`);
  const caller: Caller = { principal, who: v.keyid, nonce: v.nonce };
  return {
    caller,
    checkBody(raw) {
      const problem = v.checkBody(raw);
      if (problem) {
        ctx.metrics.signatureFailures.inc({ code: 'signature' });
        throw new HttpError(problem.code, problem.reason);
      }
    },
  };
}

const BODY_CHECKED = (): void => undefined;

async function byToken(
  ctx: Pick<NodeContext, 'accounts' | 'config' | 'deps' | 'identity' | 'metrics'>,
  req: Request,
): Promise<Caller> {
  const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '').trim();
  const v = await verifyApiToken(token, {
    publicKey: ctx.identity.keys.publicKey,
    issuer: ctx.config.code,
    clock: ctx.deps.clock,
    accountStatus: (sub) => ctx.accounts.get(sub)?.status ?? null,
  });
  if (!v.ok) {
    ctx.metrics.signatureFailures.inc({ code: 'token' });
    throw new HttpError('UNAUTHENTICATED', `API token refused: ${v.error}`, 'authorization');
  }
  const version = checkProtocolVersion(req.headers[PROTOCOL_HEADER] as string | undefined);
  if (!version.ok) throw new HttpError('UNSUPPORTED_VERSION', version.reason, PROTOCOL_HEADER);
  return {
    principal: {
      kind: 'person',
      id: v.value.sub,
      prefix: ctx.config.code,
      status: 'active',
      role: v.value.role as PersonRole,
    },
    who: `token:${v.value.sub}`,
  };
}

/** What `authenticate` uses of the node. */
type AuthenticateDeps = Pick<
  NodeContext,
  'accounts' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'nonceStore' | 'state'
>;

/** Authenticates a request by its RFC 9421 signature (preferred) or its API token; failures are 401. */
export async function authenticate(
  ctx: AuthenticateDeps,
  req: Request,
  opts: { raw: Buffer; selfKey?: SelfKey },
): Promise<Caller> {
  return (await authenticateRequest(ctx, req, opts)).caller;
}

/**
 * Authenticates a request before its body is read (a token at once, a signature over its headers); the caller reads
 * the body and then calls `checkBody`, which compares it with the signed `Content-Digest` (401 when it differs).
 */
export function authenticateHead(
  ctx: AuthenticateDeps,
  req: Request,
  opts: { selfKey?: SelfKey } = {},
): Promise<AuthenticatedHead> {
  return authenticateRequest(ctx, req, { raw: null, selfKey: opts.selfKey });
}

async function authenticateRequest(
  ctx: AuthenticateDeps,
  req: Request,
  opts: { raw: Buffer | null; selfKey?: SelfKey },
): Promise<AuthenticatedHead> {
  if (req.headers['signature-input'] !== undefined) return bySignature(ctx, req, opts);
  if (req.headers.authorization !== undefined) return { caller: await byToken(ctx, req), checkBody: BODY_CHECKED };
  throw new HttpError(
    'UNAUTHENTICATED',
    'a write must be signed (RFC 9421 Signature-Input and Signature) or carry an API token',
  );
}

/**
 * Whether a keyid is a node that applied and is not approved here yet: a peer still applying, or an applicant whose
 * application is under review or whose grant has not reached this node (it starts speaking as soon as it holds its
 * certificate). A rejected applicant that keeps speaking is not excused.
 */
async function notYetApproved(ctx: Pick<NodeContext, 'db'>, keyid: string): Promise<boolean> {
  const peer = await ctx.db.peers.link(keyid);
  if (peer) return ['applied', 'reviewing', 'approved'].includes(peer.lifecycle);
  if (!/^CPN(\.[0-9A-Z]+){0,2}$/.test(keyid)) return false;
  const application = await ctx.db.applications.latestOf(keyid);
  return application !== null && application.status !== 'rejected';
}

/** The keyid a request claims in its Signature-Input (for alerts; not trusted for anything else). */
function claimedKeyid(req: Request): string | null {
  const m = /keyid="([^"]{1,200})"/.exec(String(req.headers['signature-input'] ?? ''));
  return m ? m[1]! : null;
}
