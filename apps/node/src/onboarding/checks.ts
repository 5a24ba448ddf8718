import {
  hasCapability,
  formatTime,
  NAMESPACES,
  NodeInfo,
  ResolutionAnswer,
  ROUTES,
  SOCKET_EVENTS,
  validate,
} from '@cpnet/protocol';
import { generateKeyPair, issueHandshakeToken, verifyAnswer, verifyChain, type PublicKeyHandle } from '@cpnet/security';
import {
  buildHeaders,
  connectMonitor,
  firstMessage,
  identifierPath,
  type ClientOptions,
  type Signer,
} from '@cpnet/client';
import type { NodeContext } from '../context.ts';
import { certificateKey } from '../identity.ts';
import { knownSigner } from '../http/principal.ts';
import { registerRecord } from '../identifiers/registry.ts';
import { bodyOf, CheckFailure, exchange, failWith, statusOf, type CheckEvidence, type Exchange } from './evidence.ts';

/**
 * The version of the joint-debugging check list a node runs; results say which version ran. 1.1 adds
 * `metrics-series` (数据监测 both ways); `cpnet check` adds the node-function checks a parent runs with a virtual provider.
 */
export const CHECK_LIST_VERSION = '1.1';

/** The Prometheus series every node MUST expose at /metrics (apps/node/README.md, "Metrics"). */
export const DOCUMENTED_SERIES = [
  'cpn_http_requests_total',
  'cpn_signature_failures_total',
  'cpn_replays_refused_total',
  'cpn_cluster_reports_total',
  'cpn_outbox_depth',
  'cpn_clusters',
] as const;

/** The checks, in the order they run (documented in the README); each description is a MUST statement. */
export const CHECKS = [
  {
    id: 'identity-chain',
    description:
      'The peer MUST present, at GET /cpn/v1/node, a certificate chaining to the national root that names its prefix',
  },
  { id: 'clock', description: 'The peer clock (the `now` of GET /cpn/v1/node) MUST be within 5 s of ours' },
  { id: 'identifier-round-trip', description: 'An identifier registered here MUST resolve through the peer' },
  {
    id: 'signed-answer',
    description: 'A resolution answer MUST be signed by the node that answered, and the signature MUST verify',
  },
  {
    id: 'monitoring-stream',
    description: 'A handshake token MUST open the peer /monitor stream, and a snapshot MUST arrive',
  },
  {
    id: 'forged-refused',
    description: "A message signed with a key that is not the signer's MUST be refused with 401",
  },
  {
    id: 'replayed-refused',
    description: 'A replayed signed message MUST be refused with 401 after the original was accepted',
  },
  {
    id: 'metrics-series',
    description: `The peer /metrics MUST expose, in Prometheus text, the documented series (${DOCUMENTED_SERIES.join(', ')})`,
  },
] as const;

/** A version of the joint-debugging check list. */
export type CheckListVersion = '1.0' | '1.1';

/** The check ids of each list version a result may be judged against (1.0 stays selectable). */
export const CHECK_LISTS: Readonly<Record<CheckListVersion, readonly string[]>> = {
  '1.0': CHECKS.filter((c) => c.id !== 'metrics-series').map((c) => c.id),
  '1.1': CHECKS.map((c) => c.id),
};

/** The id of a check of the list. */
export type CheckId = (typeof CHECKS)[number]['id'];
/** The node a check list runs against. */
export type CheckTarget = { prefix: string; endpoint: string };
/** Options of a run: the time each request may take. */
export type CheckOptions = { timeoutMs: number };
/** The outcome of one check: evidence when it passed (what was seen) or when it failed (request, response, expected). */
export type CheckOutcome = { id: string; description: string; passed: boolean; evidence?: unknown };

type Shared = { peerKey?: PublicKeyHandle; answer?: Record<string, unknown>; info?: Record<string, unknown> };
type Runner = (ctx: RunCheckListDeps, t: CheckTarget, s: Shared & CheckOptions) => Promise<unknown>;

const DEFAULTS: CheckOptions = { timeoutMs: 3000 };

async function nodeInfo(
  t: CheckTarget,
  o: CheckOptions,
): Promise<[Exchange, { now: string; certificate?: string; chain?: string[]; lifecycle: string }]> {
  const x = await exchange({
    method: 'GET',
    url: new URL(ROUTES.node, t.endpoint).toString(),
    headers: { 'cpn-protocol': '1.0', accept: 'application/json' },
    timeoutMs: o.timeoutMs,
  });
  if (statusOf(x) !== 200) failWith(x, '200 with the NodeInfo of the peer');
  const v = validate(NodeInfo, bodyOf(x));
  if (!v.ok) failWith(x, 'a body matching the NodeInfo schema', v.error.error.message);
  return [x, v.value];
}

const identityChain: Runner = async (ctx, t, s) => {
  const [x, info] = await nodeInfo(t, s);
  const cert = info.certificate;
  if (!cert) failWith(x, `a certificate naming ${t.prefix}`, `${t.prefix} presents no certificate`);
  const root = ctx.identity.root;
  if (!root)
    throw new CheckFailure({
      expected: 'a trust anchor at the checking node',
      detail: 'this node has no trust anchor',
    });
  if (t.prefix === 'CPN') {
    if (cert.trim() !== root.trim())
      failWith(
        x,
        'the national root certificate, our trust anchor',
        'the national node does not present our trust anchor',
      );
  } else {
    const v = await verifyChain([cert, ...(info.chain ?? [])], { root, clock: ctx.deps.clock });
    if (!v.ok)
      failWith(x, 'a chain that verifies to the national root', `certificate ${v.error.index}: ${v.error.reason}`);
    if (v.value.name !== t.prefix)
      failWith(x, `a certificate naming cpn:${t.prefix}`, `the certificate names ${v.value.name}, not ${t.prefix}`);
  }
  s.peerKey = certificateKey(cert);
  return { lifecycle: info.lifecycle };
};

const clock: Runner = async (ctx, t, s) => {
  // NTP-style: the peer read its clock somewhere between our send and our receipt, so compare with the midpoint and
  // allow half the round trip on top of the 5 s tolerance — a slow link must not pass for a wrong clock.
  const sent = ctx.deps.clock.now();
  const [x, info] = await nodeInfo(t, s);
  const received = ctx.deps.clock.now();
  const skew = Date.parse(info.now) - (sent + received) / 2;
  const allowed = 5000 + (received - sent) / 2;
  if (Math.abs(skew) > allowed)
    failWith(
      x,
      `now within ${Math.round(allowed)} ms of ${formatTime((sent + received) / 2)}`,
      `clock skew ${Math.round(skew)} ms exceeds ${Math.round(allowed)} ms (round trip ${Math.round(received - sent)} ms)`,
    );
  return { skewMs: Math.round(skew), roundTripMs: Math.round(received - sent) };
};

const roundTrip: Runner = async (ctx, t, s) => {
  const record = await registerRecord(ctx, {
    kind: 'SV',
    values: [
      {
        index: 1,
        type: 'CPN_JOINT_DEBUG',
        data: { with: t.prefix, at: formatTime(ctx.deps.clock.now()) },
        ttl: 0,
        permissions: { publicRead: true, adminRead: true, adminWrite: true },
      },
    ],
  });
  const x = await exchange({
    method: 'GET',
    url: new URL(identifierPath(record.id), t.endpoint).toString(),
    headers: { 'cpn-protocol': '1.0', accept: 'application/json' },
    timeoutMs: s.timeoutMs,
  });
  if (statusOf(x) !== 200)
    failWith(x, `200 with the record ${record.id}`, `resolving ${record.id} through ${t.prefix}`);
  const v = validate(ResolutionAnswer, bodyOf(x));
  if (!v.ok) failWith(x, 'a body matching the ResolutionAnswer schema', v.error.error.message);
  if (v.value.record.id !== record.id)
    failWith(x, `the record ${record.id}`, `asked for ${record.id}, got ${v.value.record.id}`);
  s.answer = bodyOf(x) as Record<string, unknown>;
  return { id: record.id, answeredBy: v.value.answeredBy, path: v.value.path };
};

const signedAnswer: Runner = async (ctx, _t, s) => {
  if (!s.answer)
    throw new CheckFailure({
      expected: 'a resolution answer to verify',
      detail: 'no answer to check (the round trip failed)',
    });
  const { signature, ...answer } = s.answer as { signature: string; answeredBy: string };
  const by = answer.answeredBy;
  const signer = await knownSigner(ctx, by);
  if (!signer)
    throw new CheckFailure({
      response: { status: 200, body: s.answer },
      expected: 'an answer signed by a node known here',
      detail: `the answering node ${by} is not known here`,
    });
  const v = await verifyAnswer({ answer, signature }, { keyid: by, publicKey: signer.key });
  if (!v.ok)
    throw new CheckFailure({
      response: { status: 200, body: s.answer },
      expected: `a detached JWS by ${by} over the JCS of the answer without "signature"`,
      detail: v.error,
    });
  return { answeredBy: by };
};

const monitoring: Runner = async (ctx, t, s) => {
  const token = await issueHandshakeToken(
    { keyid: ctx.config.code, audience: t.prefix, namespace: NAMESPACES.monitor },
    { privateKey: ctx.identity.keys.privateKey, clock: ctx.deps.clock, randomBytes: ctx.deps.randomBytes },
  );
  // Only the snapshot is checked: no history asked for (a parent's is thousands of events, and every node checks its
  // parent and the national node, both ways, while the hierarchy starts).
  const socket = connectMonitor(t.endpoint, token, { history: false });
  try {
    const snapshot = await firstMessage<{ protocol: string }>(socket, SOCKET_EVENTS.snapshot, s.timeoutMs);
    return { protocol: snapshot.protocol };
  } catch (e) {
    throw new CheckFailure({
      request: {
        method: 'socket.io',
        url: `${t.endpoint}${NAMESPACES.monitor}`,
        body: { auth: { token: '<handshake token>' } },
      },
      response: { error: (e as Error).message },
      expected: `a "${SOCKET_EVENTS.snapshot}" event within ${s.timeoutMs} ms`,
    });
  } finally {
    socket.close();
  }
};

/** What `signedEcho` uses of the node. */
type SignedEchoDeps = Pick<NodeContext, 'clientFor' | 'config'>;

/** A signed POST of the echo route as `signer` (the checking node's key unless a forged one is given). */
export function signedEcho(
  ctx: SignedEchoDeps,
  t: CheckTarget,
  input: { body: unknown; privateKey?: Signer['privateKey'] },
) {
  const base = ctx.clientFor(t.endpoint).options;
  const options: ClientOptions = input.privateKey
    ? { ...base, signer: { keyid: ctx.config.code, privateKey: input.privateKey } }
    : base;
  const url = new URL(`${ROUTES.jointDebug}/echo`, t.endpoint).toString();
  const text = JSON.stringify(input.body);
  return { url, text, headers: buildHeaders(options, { method: 'POST', path: url, url, text }) };
}

const forged: Runner = async (ctx, t, s) => {
  const impostor = generateKeyPair({ randomBytes: ctx.deps.randomBytes });
  const m = signedEcho(ctx, t, { body: { check: 'forged' }, privateKey: impostor.privateKey });
  const x = await exchange({ method: 'POST', url: m.url, headers: m.headers, body: m.text, timeoutMs: s.timeoutMs });
  if (statusOf(x) !== 401)
    failWith(x, `401: the message is signed as ${ctx.config.code} with a key that is not ${ctx.config.code}'s`);
  return { status: 401 };
};

const replayed: Runner = async (ctx, t, s) => {
  const m = signedEcho(ctx, t, { body: { check: 'replay' } });
  const first = await exchange({
    method: 'POST',
    url: m.url,
    headers: m.headers,
    body: m.text,
    timeoutMs: s.timeoutMs,
  });
  if (statusOf(first) !== 200)
    failWith(first, `200: the original message, signed by ${ctx.config.code} (a known peer)`);
  const second = await exchange({
    method: 'POST',
    url: m.url,
    headers: m.headers,
    body: m.text,
    timeoutMs: s.timeoutMs,
  });
  if (statusOf(second) !== 401) failWith(second, '401: the same signed message (same nonce) sent again');
  return { original: 200, replay: 401 };
};

const metricsSeries: Runner = async (_ctx, t, s) => {
  const x = await exchange({
    method: 'GET',
    url: new URL(ROUTES.metrics, t.endpoint).toString(),
    headers: { accept: 'text/plain' },
    timeoutMs: s.timeoutMs,
  });
  const text = 'error' in x.response ? '' : x.response.text;
  if (statusOf(x) !== 200) failWith(x, '200 with the Prometheus text exposition');
  const missing = DOCUMENTED_SERIES.filter((n) => !new RegExp(`^# TYPE ${n} `, 'm').test(text));
  if (missing.length > 0)
    failWith(x, `every documented series (${DOCUMENTED_SERIES.join(', ')})`, `missing: ${missing.join(', ')}`);
  return { series: DOCUMENTED_SERIES.length };
};

const RUNNERS: Record<CheckId, Runner> = {
  'identity-chain': identityChain,
  clock,
  'identifier-round-trip': roundTrip,
  'signed-answer': signedAnswer,
  'monitoring-stream': monitoring,
  'forged-refused': forged,
  'replayed-refused': replayed,
  'metrics-series': metricsSeries,
};

function evidenceOf(e: unknown): CheckEvidence {
  return e instanceof CheckFailure ? e.evidence : { expected: 'the check to complete', detail: (e as Error).message };
}

/** What `runCheckList` uses of the node. */
type RunCheckListDeps = Pick<
  NodeContext,
  | 'audit'
  | 'cache'
  | 'clientFor'
  | 'config'
  | 'db'
  | 'deps'
  | 'events'
  | 'identity'
  | 'metrics'
  | 'outbox'
  | 'serials'
  | 'state'
>;

/** Runs the check list against a peer without storing anything; never throws (a failing check is an outcome). */
export async function runCheckList(
  ctx: RunCheckListDeps,
  target: CheckTarget,
  options: Partial<CheckOptions> & { list?: CheckListVersion } = {},
): Promise<CheckOutcome[]> {
  const shared: Shared & CheckOptions = { ...DEFAULTS, ...options };
  const checks: CheckOutcome[] = [];
  const ids = new Set(CHECK_LISTS[options.list ?? CHECK_LIST_VERSION]);
  for (const c of CHECKS.filter((x) => ids.has(x.id))) {
    try {
      const evidence = await RUNNERS[c.id](ctx, target, shared);
      checks.push({ id: c.id, description: c.description, passed: true, evidence });
    } catch (e) {
      checks.push({ id: c.id, description: c.description, passed: false, evidence: evidenceOf(e) });
    }
  }
  return checks;
}

/** What `runChecks` uses of the node. */
export type RunChecksDeps = RunCheckListDeps;

/**
 * The check list to run against a peer and to judge its results by: 1.1 when it advertises `check-list-1.1` in its
 * NodeInfo's `ext.capabilities`, else 1.0 (a 1.0 peer neither runs nor passes the checks 1.1 added). An unreachable
 * peer gets the current list (its checks then fail with evidence).
 */
export async function checkListFor(
  ctx: Pick<NodeContext, 'clientFor'>,
  target: Pick<CheckTarget, 'endpoint'>,
): Promise<CheckListVersion> {
  const info = await ctx
    .clientFor(target.endpoint)
    .node()
    .catch(() => null);
  if (!info?.ok) return CHECK_LIST_VERSION;
  return hasCapability(info.value, 'check-list-1.1') ? '1.1' : '1.0';
}

/** Runs the joint-debugging check list against a peer and stores the result; never throws (a failing check is a result). */
export async function runChecks(ctx: RunChecksDeps, target: CheckTarget, options: { list?: CheckListVersion } = {}) {
  const listVersion = options.list ?? (await checkListFor(ctx, target));
  const checks = await runCheckList(ctx, target, { list: listVersion });
  const result = {
    listVersion,
    target: target.prefix,
    by: ctx.config.code,
    at: formatTime(ctx.deps.clock.now()),
    passed: checks.every((c) => c.passed),
    checks,
  };
  await ctx.db.jointDebug.add({
    target: target.prefix,
    by: ctx.config.code,
    listVersion,
    passed: result.passed,
    result: JSON.stringify(result),
    at: result.at,
  });
  ctx.events.emit('joint-debug.result', {
    subject: target.prefix,
    severity: result.passed ? 'info' : 'warning',
    data: { passed: result.passed, listVersion },
  });
  return result;
}
