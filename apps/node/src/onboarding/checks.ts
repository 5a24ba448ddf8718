import { formatTime, NAMESPACES, ROUTES, SOCKET_EVENTS } from '@cpnet/protocol';
import { generateKeyPair, issueHandshakeToken, verifyAnswer, verifyChain, type PublicKeyHandle } from '@cpnet/security';
import { buildHeaders, connectMonitor, firstMessage, createClient } from '@cpnet/client';
import type { NodeContext } from '../context.ts';
import { certificateKey } from '../identity.ts';
import { knownSigner } from '../http/principal.ts';
import { registerRecord } from '../identifiers/registry.ts';

/** The version of the joint-debugging check list; results say which version ran. */
export const CHECK_LIST_VERSION = '1.0';

/** The checks, in the order they run (documented in the README). */
export const CHECKS = [
  { id: 'identity-chain', description: 'the peer presents a certificate chaining to the national root that names its prefix' },
  { id: 'clock', description: 'the peer clock is within 5 s of ours' },
  { id: 'identifier-round-trip', description: 'an identifier registered here resolves through the peer' },
  { id: 'signed-answer', description: 'the answer is signed by the node that answered, and verifies' },
  { id: 'monitoring-stream', description: 'a handshake token opens the peer /monitor stream and a snapshot arrives' },
  { id: 'forged-refused', description: 'a message signed with a key that is not ours is refused (401)' },
  { id: 'replayed-refused', description: 'a replayed signed message is refused (401) after the original was accepted' },
] as const;

type CheckId = (typeof CHECKS)[number]['id'];
type Target = { prefix: string; endpoint: string };
type Shared = { peerKey?: PublicKeyHandle; answer?: Record<string, unknown> };

async function identityChain(ctx: NodeContext, t: Target, shared: Shared): Promise<unknown> {
  const info = await createClient({ baseUrl: t.endpoint }).node();
  if (!info.ok) throw new Error(`GET /cpn/v1/node: ${info.error.message}`);
  const cert = info.value.certificate;
  if (!cert) throw new Error(`${t.prefix} presents no certificate`);
  const root = ctx.identity.root;
  if (!root) throw new Error('this node has no trust anchor');
  if (t.prefix === 'CPN') {
    if (cert.trim() !== root.trim()) throw new Error('the national node does not present our trust anchor');
  } else {
    const v = await verifyChain([cert, ...(info.value.chain ?? [])], { root, clock: ctx.deps.clock });
    if (!v.ok) throw new Error(`certificate ${v.error.index}: ${v.error.reason}`);
    if (v.value.name !== t.prefix) throw new Error(`the certificate names ${v.value.name}, not ${t.prefix}`);
  }
  shared.peerKey = certificateKey(cert);
  return { now: info.value.now, lifecycle: info.value.lifecycle };
}

async function clock(ctx: NodeContext, t: Target): Promise<unknown> {
  const info = await createClient({ baseUrl: t.endpoint }).node();
  if (!info.ok) throw new Error(info.error.message);
  const skew = Date.parse(info.value.now) - ctx.deps.clock.now();
  if (Math.abs(skew) > 5000) throw new Error(`clock skew ${skew} ms exceeds 5000 ms`);
  return { skewMs: skew };
}

async function roundTrip(ctx: NodeContext, t: Target, shared: Shared): Promise<unknown> {
  const record = await registerRecord(ctx, { kind: 'SV', values: [{ index: 1, type: 'CPN_JOINT_DEBUG', data: { with: t.prefix, at: formatTime(ctx.deps.clock.now()) }, ttl: 0, permissions: { publicRead: true, adminRead: true, adminWrite: true } }] });
  const r = await ctx.clientFor(t.endpoint).resolve(record.id);
  if (!r.ok) throw new Error(`resolving ${record.id} through ${t.prefix}: ${r.status} ${r.error.message}`);
  if (r.value.record.id !== record.id) throw new Error(`asked for ${record.id}, got ${r.value.record.id}`);
  shared.answer = r.value as unknown as Record<string, unknown>;
  return { id: record.id, answeredBy: r.value.answeredBy, path: r.value.path };
}

async function signedAnswer(ctx: NodeContext, _t: Target, shared: Shared): Promise<unknown> {
  if (!shared.answer) throw new Error('no answer to check (the round trip failed)');
  const { signature, ...answer } = shared.answer as { signature: string; answeredBy: string };
  const by = answer.answeredBy;
  const signer = await knownSigner(ctx, by);
  if (!signer) throw new Error(`the answering node ${by} is not known here`);
  const v = await verifyAnswer({ answer, signature }, { keyid: by, publicKey: signer.key });
  if (!v.ok) throw new Error(v.error);
  return { answeredBy: by };
}

async function monitoring(ctx: NodeContext, t: Target): Promise<unknown> {
  const token = await issueHandshakeToken({ keyid: ctx.config.code, audience: t.prefix, namespace: NAMESPACES.monitor }, { privateKey: ctx.identity.keys.privateKey, clock: ctx.deps.clock, randomBytes: ctx.deps.randomBytes });
  const socket = connectMonitor(t.endpoint, token);
  try {
    const snapshot = await firstMessage<{ protocol: string }>(socket, SOCKET_EVENTS.snapshot, 3000);
    return { protocol: snapshot.protocol };
  } finally {
    socket.close();
  }
}

async function forged(ctx: NodeContext, t: Target): Promise<unknown> {
  const impostor = generateKeyPair({ randomBytes: ctx.deps.randomBytes });
  const client = createClient({ baseUrl: t.endpoint, signer: { keyid: ctx.config.code, privateKey: impostor.privateKey }, clock: ctx.deps.clock });
  const r = await client.request({ method: 'POST', path: `${ROUTES.jointDebug}/echo`, body: { check: 'forged' } });
  if (r.status !== 401) throw new Error(`a forged message got ${r.status}, expected 401`);
  return { status: r.status };
}

async function replayed(ctx: NodeContext, t: Target): Promise<unknown> {
  const options = ctx.clientFor(t.endpoint).options;
  const url = new URL(`${ROUTES.jointDebug}/echo`, t.endpoint).toString();
  const text = JSON.stringify({ check: 'replay' });
  const headers = buildHeaders(options, { method: 'POST', path: url, url, text });
  const send = () => fetch(url, { method: 'POST', headers, body: text, signal: AbortSignal.timeout(3000) });
  const first = await send();
  if (first.status !== 200) throw new Error(`the original message got ${first.status}, expected 200`);
  const second = await send();
  if (second.status !== 401) throw new Error(`the replay got ${second.status}, expected 401`);
  return { original: first.status, replay: second.status };
}

const RUNNERS: Record<CheckId, (ctx: NodeContext, t: Target, s: Shared) => Promise<unknown>> = {
  'identity-chain': identityChain, clock, 'identifier-round-trip': roundTrip, 'signed-answer': signedAnswer,
  'monitoring-stream': monitoring, 'forged-refused': forged, 'replayed-refused': replayed,
};

/** Runs the joint-debugging check list against a peer; never throws (a failing check is a result). */
export async function runChecks(ctx: NodeContext, target: Target) {
  const shared: Shared = {};
  const checks = [];
  for (const c of CHECKS) {
    try {
      const evidence = await RUNNERS[c.id](ctx, target, shared);
      checks.push({ id: c.id, description: c.description, passed: true, evidence });
    } catch (e) {
      checks.push({ id: c.id, description: c.description, passed: false, evidence: { error: (e as Error).message } });
    }
  }
  const result = { listVersion: CHECK_LIST_VERSION, target: target.prefix, by: ctx.config.code, at: formatTime(ctx.deps.clock.now()), passed: checks.every((c) => c.passed), checks };
  await ctx.prisma.jointDebugRun.create({ data: { target: target.prefix, by: ctx.config.code, listVersion: CHECK_LIST_VERSION, passed: result.passed, result: JSON.stringify(result), at: result.at } });
  ctx.events.emit('joint-debug.result', { subject: target.prefix, severity: result.passed ? 'info' : 'warning', data: { passed: result.passed, listVersion: CHECK_LIST_VERSION } });
  return result;
}
