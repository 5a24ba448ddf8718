import { readFileSync } from 'node:fs';
import { Application, CAPABILITIES, capabilitiesOf, commonCapabilities, validate } from '@cpnet/protocol';
import { parentPrefix } from '@cpnet/identifier';
import { ed25519Profile } from '@cpnet/security';
import { createClient } from '@cpnet/client';
import type { NodeContext } from '../context.ts';
import { certificateKey } from '../identity.ts';
import type { GrantBody } from './grant.ts';
import { runChecks, type RunChecksDeps } from './checks.ts';
import { verifyGrant } from './verify-grant.ts';
import { learnPeer } from '../links/tls-discovery.ts';
import { conformanceKey } from '../acceptance/evidence.ts';

type Sleep = (ms: number) => Promise<boolean>;

function readApplication(ctx: Pick<NodeContext, 'config' | 'endpoint' | 'identity'>): unknown {
  const file = ctx.config.applicationFile;
  if (!file) return null;
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return { ...data, endpoint: ctx.endpoint(), publicKey: ctx.identity.publicKeyPem };
}

/** What a node needs to know to tell whether it can onboard: its configuration and what it already holds. */
export interface OnboardingStart {
  readonly config: NodeContext['config'];
  /** True once the node holds a certificate or has applied (a restart continues from there). */
  readonly applied: boolean;
  readonly endpoint: string;
  readonly publicKeyPem: string;
}

/**
 * Why a regional or industry node cannot begin onboarding, or null when it can: on first start it needs a readable,
 * valid application whose role and region match its configuration. Checked before the node listens, so a missing
 * or bad application stops the start (the CLI exits 2) instead of a node that never applies.
 */
export function applicationProblem(start: OnboardingStart): string | null {
  const { config } = start;
  if (config.role === 'national' || start.applied) return null;
  const file = config.applicationFile;
  if (!file)
    return (
      `a ${config.role} node applies to its parent on first start, and no application was given: ` +
      'pass --application <file> (or CPNET_APPLICATION), the application (申报) JSON; `cpnet check init` writes a sample'
    );
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return `application file ${file}: ${(e as Error).message}`;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return `application file ${file}: not a JSON object`;
  const valid = validate(Application, { ...data, endpoint: start.endpoint, publicKey: start.publicKeyPem });
  if (!valid.ok) return `application file ${file}: ${valid.error.error.message}`;
  const a = valid.value;
  const [, region, industry] = config.code.split('.');
  if (a.role !== config.role)
    return `application file ${file}: role: "${a.role}", but this node's role is ${config.role}`;
  if (a.region !== region)
    return `application file ${file}: region: "${a.region}", but this node's code is ${config.code}`;
  if ((a.industry ?? undefined) !== industry)
    return `application file ${file}: industry: "${a.industry}", but this node's code is ${config.code}`;
  return null;
}

async function submit(
  ctx: Pick<NodeContext, 'clientFor' | 'config' | 'deps' | 'endpoint' | 'identity' | 'setLifecycle'>,
  sleep: Sleep,
): Promise<string | null> {
  let body: unknown;
  try {
    body = readApplication(ctx);
  } catch (e) {
    ctx.deps.logger.error(
      { file: ctx.config.applicationFile, err: (e as Error).message },
      'cannot read the application file; not applying',
    );
    return null;
  }
  if (body === null) {
    ctx.deps.logger.warn('no application file is configured; this node does not apply');
    return null;
  }
  const valid = validate(Application, body);
  if (!valid.ok) {
    ctx.deps.logger.error({ reason: valid.error.error.message }, 'the application file is invalid; not applying');
    return null;
  }
  const parent = ctx.clientFor(ctx.config.parentUrl!);
  let delay = ctx.config.retry.initialMs;
  for (;;) {
    const r = await parent.apply(body as never);
    if (r.ok) {
      ctx.deps.logger.info({ id: r.value.id, status: r.value.status }, 'application submitted');
      return r.value.id;
    }
    // 401 is retried too: a parent too busy to read the request before its signature expired answers 401, and each
    // retry is signed afresh (seen with ~90 nodes applying at once). A refusal by the rules is a 4xx other than these.
    if (r.status !== 0 && r.status < 500 && r.status !== 429 && r.status !== 401 && r.status !== 408) {
      ctx.deps.logger.error(
        { status: r.status, reason: r.error.message, field: r.error.field },
        'the parent refused the application',
      );
      await ctx.setLifecycle('rejected', r.error.message);
      return null;
    }
    ctx.deps.logger.warn(
      { parent: ctx.config.parentUrl, retryInMs: delay, reason: r.error.message },
      'parent unreachable; retrying the application',
    );
    if (!(await sleep(delay))) return null;
    delay = Math.min(delay * 2, ctx.config.retry.maxMs);
  }
}

async function waitForGrant(
  ctx: Pick<NodeContext, 'clientFor' | 'config' | 'deps' | 'setLifecycle'>,
  input: { id: string; sleep: Sleep },
): Promise<GrantBody | null> {
  const parent = ctx.clientFor(ctx.config.parentUrl!);
  for (;;) {
    const r = await parent.application(input.id);
    if (r.ok && r.value.status === 'approved' && r.value.grant) return r.value.grant as GrantBody;
    if (r.ok && r.value.status === 'rejected') {
      await ctx.setLifecycle('rejected', r.value.reasons.map((x) => x.message).join('; ') || 'rejected by review');
      return null;
    }
    if (!r.ok)
      ctx.deps.logger.warn(
        { status: r.status, reason: r.error.message },
        'cannot read the application state; retrying',
      );
    if (!(await input.sleep(ctx.config.pollMs))) return null;
  }
}

/** Verifies and stores a grant: the chain up to the trust anchor, the delegation of our configured code. */
async function installGrant(
  ctx: Pick<
    NodeContext,
    | 'audit'
    | 'cache'
    | 'config'
    | 'db'
    | 'deps'
    | 'events'
    | 'identity'
    | 'outbox'
    | 'setLifecycle'
    | 'settings'
    | 'tls'
  >,
  grant: GrantBody,
): Promise<void> {
  const { chain, root } = await verifyGrant(ctx, grant);
  const parentCert = chain[1]!;
  Object.assign(ctx.identity, { certificate: grant.certificate, chain, root, delegation: grant.delegation });
  await ctx.settings.set('certificate', grant.certificate);
  await ctx.settings.setJson('chain', chain);
  await ctx.settings.set('root', root);
  await ctx.settings.set('delegation', grant.delegation);
  const parent = parentPrefix(ctx.config.code)!;
  const peer = {
    relation: 'parent',
    role: parent === 'CPN' ? 'national' : 'regional',
    endpoint: ctx.config.parentUrl!,
    publicKey: ed25519Profile.exportPublicKey(certificateKey(parentCert)),
    certificate: parentCert,
    lifecycle: 'online',
  };
  await ctx.db.peers.put(parent, peer);
  if (parent !== 'CPN') {
    const info = await createClient({ baseUrl: ctx.config.parentUrl! }).node();
    const nationalUrl = info.ok ? info.value.parentUrl : null;
    if (nationalUrl) {
      const national = {
        relation: 'ancestor',
        role: 'national',
        endpoint: nationalUrl,
        publicKey: ed25519Profile.exportPublicKey(certificateKey(root)),
        certificate: root,
        lifecycle: 'online',
      };
      await ctx.db.peers.put('CPN', national);
    }
  }
  await ctx.setLifecycle('approved', 'certificate and delegation received');
  await startTlsLinks(ctx);
}

/**
 * With TLS enabled: start the HTTPS listener now that the node holds a certificate, and learn the https endpoints
 * of the parent and the national node.
 */
async function startTlsLinks(
  ctx: Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'outbox' | 'tls'>,
): Promise<void> {
  if (!ctx.tls.enabled) return;
  try {
    await ctx.tls.serve();
  } catch (e) {
    ctx.deps.logger.error(
      { err: (e as Error).message, port: ctx.config.tls.port },
      'cannot start the TLS listener; node links stay on plain HTTP',
    );
  }
  const peers = await ctx.db.peers.list({ relations: ['ancestor', 'parent'] });
  for (const p of peers) await learnPeer(ctx, p);
}

/** What this node advertises in the joint-debugging handshake. */
const HANDSHAKE_EXT = { capabilities: [...CAPABILITIES] };

/** Keeps what this node and `peer` can both use, from the peer's answer to the handshake. */
async function keepCapabilities(ctx: Pick<NodeContext, 'settings'>, peer: string, answer: unknown): Promise<void> {
  await ctx.settings.setJson(`peer.capabilities.${peer}`, commonCapabilities(CAPABILITIES, capabilitiesOf(answer)));
}

/** What `jointDebug` uses of the node. */
type JointDebugDeps = RunChecksDeps & Pick<NodeContext, 'endpoint' | 'setLifecycle' | 'settings'>;

/** Joint debugging both ways: with the national node first (industry nodes), then with the parent, which accepts. */
export async function jointDebug(ctx: JointDebugDeps): Promise<boolean> {
  await ctx.setLifecycle('joint-debugging');
  const targets = await ctx.db.peers.list({ relations: ['ancestor', 'parent'], byRelation: true });
  let accepted = false;
  for (const t of targets) {
    const own = await runChecks(ctx, { prefix: t.prefix, endpoint: t.endpoint });
    const r = await ctx
      .clientFor(t.endpoint)
      .jointDebug({ target: ctx.config.code, endpoint: ctx.endpoint(), result: own, ext: HANDSHAKE_EXT });
    if (!r.ok) {
      ctx.deps.logger.warn({ peer: t.prefix, reason: r.error.message }, 'joint debugging request failed');
      return false;
    }
    await keepCapabilities(ctx, t.prefix, r.value);
    // The latest full result this peer ran on us: the conformance report of the 验收 evidence pack.
    await ctx.settings.setJson(conformanceKey(t.prefix), r.value.result);
    if (!own.passed || !r.value.result.passed) {
      ctx.deps.logger.warn(
        {
          peer: t.prefix,
          ours: own.checks.filter((c) => !c.passed),
          theirs: r.value.result.checks.filter((c) => !c.passed),
        },
        'joint debugging failed',
      );
      return false;
    }
    if (t.relation === 'parent') accepted = r.value.lifecycle === 'online';
    if (t.relation === 'parent') await ctx.settings.set('acceptance.waiting', String(!accepted));
    if (t.relation === 'parent' && !accepted)
      ctx.deps.logger.info(
        { peer: t.prefix, acceptance: (r.value as { ext?: { acceptance?: string } }).ext?.acceptance ?? null },
        'joint debugging passed both ways; waiting for the authority’s acceptance (待验收)',
      );
  }
  if (!accepted) return false;
  await ctx.setLifecycle('accepted', 'every joint-debugging check passed both ways');
  await ctx.setLifecycle('online');
  return true;
}

/** Reruns in progress, per node context, with the request id of the one asked for while it ran (run next). */
const rerunning = new WeakMap<object, { next: string | null }>();

/**
 * Runs the joint-debugging checks again against the parent (and the national node) and submits the results, without
 * changing this node's lifecycle: a parent asked for a fresh result (POST /joint-debug/request). Each result echoes
 * the asker's `request` id as `ext.request`. A request while a run is going is run right after it (the latest one
 * only). False when it was queued that way.
 */
export function rerunJointDebug(
  ctx: RunChecksDeps & Pick<NodeContext, 'endpoint' | 'settings'>,
  request: string | null = null,
): boolean {
  const state = rerunning.get(ctx);
  if (state) {
    state.next = request ?? '';
    return false;
  }
  const mine = { next: null as string | null };
  rerunning.set(ctx, mine);
  const runOnce = async (id: string | null) => {
    const targets = await ctx.db.peers.list({ relations: ['ancestor', 'parent'], byRelation: true });
    for (const t of targets) {
      const checked = await runChecks(ctx, { prefix: t.prefix, endpoint: t.endpoint });
      const own = id ? { ...checked, ext: { request: id } } : checked;
      const r = await ctx
        .clientFor(t.endpoint)
        .jointDebug({ target: ctx.config.code, endpoint: ctx.endpoint(), result: own, ext: HANDSHAKE_EXT });
      if (!r.ok) ctx.deps.logger.warn({ peer: t.prefix, reason: r.error.message }, 'joint debugging rerun refused');
      else {
        await keepCapabilities(ctx, t.prefix, r.value);
        await ctx.settings.setJson(conformanceKey(t.prefix), r.value.result);
      }
    }
  };
  const run = async () => {
    let id: string | null = request;
    for (;;) {
      await runOnce(id).catch((e: unknown) => ctx.deps.logger.warn({ err: e }, 'joint debugging rerun failed'));
      if (mine.next === null) return;
      id = mine.next || null;
      mine.next = null;
    }
  };
  void run().finally(() => rerunning.delete(ctx));
  return true;
}

/** What `startApplicant` uses of the node. */
type StartApplicantDeps = JointDebugDeps &
  Pick<
    NodeContext,
    | 'audit'
    | 'cache'
    | 'clientFor'
    | 'config'
    | 'db'
    | 'deps'
    | 'endpoint'
    | 'events'
    | 'identity'
    | 'outbox'
    | 'setLifecycle'
    | 'settings'
    | 'state'
    | 'tls'
  >;

/** The applicant's background work: apply (retrying while the parent is unreachable), wait for review, install the grant, joint-debug. */
export function startApplicant(ctx: StartApplicantDeps): () => void {
  let stopped = false;
  let wake: (() => void) | null = null;
  const sleep: Sleep = (ms) =>
    new Promise((resolve) => {
      if (stopped) return resolve(false);
      // Node time: polling the review and retrying follow the node's clock (virtual in a simulation).
      const cancel = ctx.deps.clock.setTimeout(() => {
        wake = null;
        resolve(!stopped);
      }, ms);
      wake = () => {
        cancel();
        resolve(false);
      };
    });
  const run = async () => {
    if (['online', 'accepted', 'suspended', 'revoked', 'rejected'].includes(ctx.state.lifecycle)) return;
    if (!ctx.identity.certificate) {
      let id = ctx.settings.get('application.id') ?? null;
      if (!id) {
        id = await submit(ctx, sleep);
        if (!id) return;
        await ctx.settings.set('application.id', id);
        await ctx.setLifecycle('reviewing');
      }
      const grant = await waitForGrant(ctx, { id, sleep });
      if (!grant || stopped) return;
      await installGrant(ctx, grant);
    }
    let delay = ctx.config.retry.initialMs;
    while (!stopped && !(await jointDebug(ctx))) {
      // Passed and waiting for the authority's decision (待验收): ask again at the slow pace, not the retry pace.
      const waiting = ctx.settings.get('acceptance.waiting') === 'true';
      if (!(await sleep(waiting ? ctx.config.acceptancePollMs : delay))) return;
      delay = Math.min(delay * 2, ctx.config.retry.maxMs);
    }
  };
  run().catch((e: unknown) => ctx.deps.logger.error({ err: e }, 'onboarding stopped'));
  return () => {
    stopped = true;
    (wake as (() => void) | null)?.();
  };
}
