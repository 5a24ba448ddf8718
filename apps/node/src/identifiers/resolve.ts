import { parsePrefix, route, recordTtl } from '@cpnet/identifier';
import { formatTime, type IdentifierRecord } from '@cpnet/protocol';
import { signAnswer } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import type { SignedWireAnswer } from './cache.ts';
import { findRecord } from './registry.ts';

const MAX_HOPS = 8;

/** Builds and signs an answer from a record this node holds. */
async function answerFrom(
  ctx: Pick<NodeContext, 'config' | 'deps' | 'identity'>,
  input: { record: IdentifierRecord; path: readonly string[] },
): Promise<SignedWireAnswer> {
  const authoritative = input.record.owner === ctx.config.code;
  const answer = {
    record: input.record,
    answeredBy: ctx.config.code,
    authoritative,
    path: [...input.path, ctx.config.code],
    cachedUntil: formatTime(ctx.deps.clock.now() + recordTtl(input.record) * 1000),
  };
  const signed = await signAnswer(answer, { keyid: ctx.config.code, privateKey: ctx.identity.keys.privateKey });
  return { ...answer, signature: signed.signature };
}

/** Answers from the copy this node holds (`held`, when already read; else read now), or 503 with `reason`. */
async function fromCopy(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps' | 'identity' | 'metrics'>,
  input: { id: string; path: readonly string[]; reason: string; held?: IdentifierRecord | null },
): Promise<SignedWireAnswer> {
  // Without a copy before the forward, one may have arrived while it waited: read again.
  const copy = input.held ?? (await findRecord(ctx, input.id));
  if (!copy) fail('UPSTREAM_UNAVAILABLE', `${input.reason}, and this node holds no copy of ${input.id}`);
  ctx.metrics.resolutions.inc({ source: 'copy' });
  return answerFrom(ctx, { record: copy, path: input.path });
}

/**
 * Asks the next hop. When this node holds a copy, the hop gets `resolution.copyAfterMs` (wall) to answer, and none at
 * all while it is remembered down (`hops`): a partitioned or dead owner must not hold up an answer the copy can give
 * (marked not authoritative). Without a copy the hop gets the link's whole timeout, as nothing else can answer.
 */
async function forward(
  ctx: Pick<NodeContext, 'clientFor' | 'config' | 'db' | 'deps' | 'hops' | 'identity' | 'metrics'>,
  input: { id: string; endpoint: string; hop: string; path: readonly string[] },
): Promise<SignedWireAnswer> {
  const copy = await findRecord(ctx, input.id);
  if (copy && ctx.hops.isDown(input.endpoint))
    return fromCopy(ctx, { id: input.id, path: input.path, reason: `${input.hop} is down`, held: copy });
  const r = await ctx.clientFor(input.endpoint).resolve(input.id, {
    path: [...input.path, ctx.config.code],
    ...(copy ? { timeoutMs: ctx.config.resolution.copyAfterMs } : {}),
  });
  if (r.ok) {
    ctx.hops.answered(input.endpoint);
    return r.value as unknown as SignedWireAnswer;
  }
  if (r.status === 404) fail('NOT_FOUND', r.error.message);
  if (r.status >= 400 && r.status < 500) fail(r.error.code, r.error.message, r.error.field);
  ctx.hops.failed(input.endpoint);
  const reason = `${input.hop} did not answer (${r.error.message})`;
  return fromCopy(ctx, { id: input.id, path: input.path, reason, held: copy });
}

/** The prefixes a forwarded query passed (its `cpn-path` header: comma-separated; none when absent or blank). */
export function cpnPath(
  raw: string | string[] | undefined,
): { ok: true; path: string[] } | { ok: false; message: string } {
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return { ok: true, path: [] };
  if (typeof raw !== 'string') return { ok: false, message: 'cpn-path: sent more than once' };
  const path: string[] = [];
  for (const p of raw.split(',')) {
    const r = parsePrefix(p.trim());
    if (!r.ok) return { ok: false, message: `cpn-path: ${r.error.message}` };
    path.push(r.value.prefix);
  }
  return { ok: true, path };
}

/** What `resolve` uses of the node. */
type ResolveDeps = Pick<
  NodeContext,
  'cache' | 'clientFor' | 'config' | 'db' | 'deps' | 'hops' | 'identity' | 'metrics'
>;

/**
 * Resolves an identifier the way Handle/DNS delegation does: from the cache, locally, down to the child owning the
 * prefix, or up to the parent. When the next hop does not answer, a copy held here answers (not authoritative).
 */
export async function resolve(
  ctx: ResolveDeps,
  input: { id: string; prefix: string; path: readonly string[] },
): Promise<SignedWireAnswer> {
  if (input.path.length >= MAX_HOPS)
    fail('SCHEMA_VIOLATION', `the query passed ${input.path.length} nodes; at most ${MAX_HOPS}`, 'cpn-path');
  const cached = ctx.cache.get(input.id);
  if (cached) {
    ctx.metrics.resolutions.inc({ source: 'cache' });
    return cached;
  }
  const r = route(ctx.config.code, input.prefix);
  let answer: SignedWireAnswer;
  if (r.to === 'local') {
    const record = await findRecord(ctx, input.id);
    if (!record) fail('NOT_FOUND', `${input.id} is not registered at ${ctx.config.code}`);
    ctx.metrics.resolutions.inc({ source: 'local' });
    answer = await answerFrom(ctx, { record, path: input.path });
  } else if (r.to === 'down') {
    const child = await ctx.db.peers.link(r.child);
    if (!child || child.relation !== 'child') {
      const copy = await findRecord(ctx, input.id);
      if (!copy) fail('NOT_FOUND', `${input.id}: no node ${r.child} is known below ${ctx.config.code}`);
      answer = await answerFrom(ctx, { record: copy, path: input.path });
    } else {
      ctx.metrics.resolutions.inc({ source: 'down' });
      answer = await forward(ctx, { id: input.id, endpoint: child.endpoint, hop: r.child, path: input.path });
    }
  } else {
    if (!ctx.config.parentUrl) fail('NOT_FOUND', `${input.id} is outside every known prefix`);
    if (input.path.includes(r.parent ?? '')) fail('NOT_FOUND', `${input.id} is not known below ${r.parent}`);
    ctx.metrics.resolutions.inc({ source: 'up' });
    answer = await forward(ctx, {
      id: input.id,
      endpoint: ctx.config.parentUrl,
      hop: r.parent ?? 'the parent',
      path: input.path,
    });
  }
  ctx.cache.put(input.id, answer);
  return answer;
}
