import { createClient } from '@cpnet/client';
import { generateKeyPair, signRequest } from '@cpnet/security';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@cpnet/protocol';
import type { Action, Fault } from '../scenario/schema.ts';
import { formatDuration } from '../scenario/duration.ts';
import type { StepResult } from '../report/report.ts';
import { now, wallRate, type RunContext } from './context.ts';
import { submitOne } from './jobs.ts';
import { acceptanceAction } from './acceptance.ts';
import { chainStep, dossierStep } from './guide-steps.ts';

/** Runs one action; never throws — a failed action is a step result that says why. */
export async function runAction(ctx: RunContext, step: Action): Promise<StepResult> {
  const at = now(ctx);
  const label = describeAction(step);
  try {
    const detail = await perform(ctx, step);
    return { at, action: label, ok: true, detail };
  } catch (e) {
    return { at, action: label, ok: false, detail: (e as Error).message };
  }
}

/** A short label of an action for progress lines and reports. */
export function describeAction(step: Action): string {
  switch (step.do) {
    case 'apply':
      return `apply ${step.node}${step.breaks.length ? ` (breaking ${step.breaks.join(', ')})` : ''}`;
    case 'review':
      return `review ${step.node}: ${step.decision}`;
    case 'dossier':
      return `dossier of ${step.node}${step.breaks.length ? ` (breaking ${step.breaks.join(', ')})` : ''}`;
    case 'chain': {
      const by = step.by === 'applicant' ? 'the applicant' : `${step.by.role} of ${step.by.agency}`;
      return `${step.stage}:${step.action} on ${step.node} by ${by}`;
    }
    case 'joint-debug':
      return `joint-debug ${step.node}`;
    case 'register':
      return `register ${step.count} ${step.kind} at ${step.node}`;
    case 'submit':
      return `submit ${step.count ?? 'all'} of ${step.stream}`;
    case 'fault':
      return `fault ${step.fault.kind} ${step.fault.target}`;
    case 'heal':
      return `heal ${step.fault}`;
    case 'restart':
      return `restart ${step.node}`;
    case 'wait':
      return `wait ${formatDuration(step.for)}`;
    case 'advance':
      return `advance the calendar by ${formatDuration(step.by)}`;
    case 'acceptance':
      return `acceptance ${step.act} ${step.node}${step.decision ? `: ${step.decision}` : ''}${step.action ? `: ${step.action}` : ''}`;
  }
}

async function perform(ctx: RunContext, step: Action): Promise<string> {
  switch (step.do) {
    case 'apply': {
      const sim = await ctx.net.startNode(step.node, { breaks: step.breaks });
      const keys = ctx.applicants.get(step.node) ?? [];
      keys.push([...ctx.net.nodes.entries()].find(([, n]) => n === sim)?.[0] ?? step.node);
      ctx.applicants.set(step.node, keys);
      return `started at ${sim.url}, applying to ${sim.spec.parentUrl ?? '-'}`;
    }
    case 'register':
      return register(ctx, step);
    case 'joint-debug': {
      const sim = nodeOf(ctx, step.node);
      const parent = parentCode(step.node);
      if (!parent) throw new Error('the national node has no parent to joint-debug with');
      const parentNode = nodeOf(ctx, parent);
      const asChild = createClient({
        baseUrl: parentNode.url,
        signer: { keyid: step.node, privateKey: sim.privateKey() },
        clock: ctx.clock,
        timeoutMs: 30_000,
      });
      const r = await asChild.jointDebug({ target: step.node, endpoint: ctx.net.urlOf(step.node) });
      if (!r.ok) throw new Error(`${parent} refused: ${r.error.message}`);
      return `list ${r.value.result.listVersion}: ${r.value.result.passed ? 'passed' : 'failed'}`;
    }
    case 'review':
      return review(ctx, step);
    case 'acceptance':
      return acceptanceAction(ctx, step);
    case 'dossier':
      return dossierStep(ctx, step);
    case 'chain':
      return chainStep(ctx, step);
    case 'fault':
      return fault(ctx, step.fault);
    case 'heal': {
      const undo = ctx.faults.get(step.fault);
      if (!undo) throw new Error(`no fault named or targeting "${step.fault}" is in force`);
      await undo();
      ctx.faults.delete(step.fault);
      return 'healed';
    }
    case 'restart': {
      await ctx.net.restart(step.node);
      ctx.checker.recovered(`node ${step.node}`, now(ctx));
      return `restarted from its database at ${nodeOf(ctx, step.node).url}`;
    }
    case 'wait':
      return `waited ${formatDuration(step.for)}`;
    case 'advance': {
      const from = ctx.clock.now();
      await ctx.clock.governor.advance(step.by);
      ctx.advanced.ms += step.by;
      return `calendar ${new Date(from).toISOString()} → ${new Date(ctx.clock.now()).toISOString()}`;
    }
    case 'submit': {
      const stream = ctx.scenario.workload.jobs.find((j) => j.name === step.stream);
      if (!stream) throw new Error(`no job stream named "${step.stream}" in the workload`);
      const count = step.count ?? stream.count;
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) => submitOne(ctx, { stream, index: ctx.jobs.length + i })),
      );
      const refused = results.filter((r) => !r.ok);
      if (refused.length)
        throw new Error(`${count - refused.length} of ${count} accepted; first refusal: ${refused[0]!.detail}`);
      return `${count} submitted to ${stream.submitTo}`;
    }
  }
}

/** The running node of a code. */
export function nodeOf(ctx: RunContext, code: string) {
  const n = ctx.net.nodes.get(code);
  if (!n) throw new Error(`node ${code} was not started (add an apply step, or it is not in the topology)`);
  return n;
}

/** The code of a node's parent, or null for the national node. */
export function parentCode(code: string): string | null {
  const dot = code.lastIndexOf('.');
  return dot < 0 ? null : code.slice(0, dot);
}

async function register(ctx: RunContext, step: Extract<Action, { do: 'register' }>): Promise<string> {
  const client = nodeOf(ctx, step.node).self();
  let done = 0;
  const failures: string[] = [];
  for (let i = 0; i < step.count; i++) {
    const op = `${step.node}:${ctx.registered.length + i}:${ctx.faker.string.alphanumeric(8)}`;
    const r = await client.register({
      kind: step.kind,
      values: [{ index: 1, type: 'CPN_SIM', data: { op }, ttl: 30 }],
    });
    if (r.ok) {
      done++;
      ctx.registered.push({ id: r.value.id, node: step.node, op, at: now(ctx) });
      ctx.checker.ack({ key: op, kind: 'register', at: now(ctx) });
    } else failures.push(r.error.message);
  }
  if (failures.length) throw new Error(`${done} of ${step.count} registered; first refusal: ${failures[0]}`);
  return `${done} registered`;
}

async function review(ctx: RunContext, step: Extract<Action, { do: 'review' }>): Promise<string> {
  const parent = parentCode(step.node);
  if (!parent) throw new Error('the national node is not reviewed');
  const reviewerNode = nodeOf(ctx, parent);
  const account = `reviewer-${parent.replaceAll('.', '-').toLowerCase()}`;
  await reviewerNode
    .self()
    .createAccount({ id: account, name: `评审专家 ${parent}`, role: 'reviewer', password: 'simulated-reviewer' });
  const token = await reviewerNode.anon().token({ account, password: 'simulated-reviewer' });
  if (!token.ok) throw new Error(`no reviewer token at ${parent}: ${token.error.message}`);
  const client = createClient({ baseUrl: reviewerNode.url, token: token.value.token, clock: ctx.clock });
  const apps = await client.applications();
  if (!apps.ok) throw new Error(`cannot list applications at ${parent}: ${apps.error.message}`);
  const mine = apps.value.items.find(
    (a) => a.status !== 'approved' && a.status !== 'rejected' && codeOfApplication(a.application) === step.node,
  );
  if (!mine) throw new Error(`no open application of ${step.node} at ${parent}`);
  const decision =
    step.decision === 'approve'
      ? parent.includes('.') && step.node.split('.').length === 3
        ? 'recommend'
        : 'approve'
      : step.node.split('.').length === 3
        ? 'not-recommend'
        : 'reject';
  const r = await client.review(mine.id, {
    decision,
    opinion: step.decision === 'approve' ? '材料齐全，符合条件' : '不符合条件',
    ...(step.override ? { override: step.override } : {}),
  });
  if (!r.ok) throw new Error(`review refused: ${r.error.message}`);
  return `${decision} → ${r.value.status}`;
}

/** The node code an application is for. */
export function codeOfApplication(a: { region: string; industry: string | null }): string {
  return a.industry ? `CPN.${a.region}.${a.industry}` : `CPN.${a.region}`;
}

async function fault(ctx: RunContext, f: Fault): Promise<string> {
  const name = f.name ?? f.target;
  const at = now(ctx);
  ctx.faultTimes.set(name, at);
  switch (f.kind) {
    case 'kill': {
      await ctx.net.kill(f.target);
      ctx.checker.failed(`node ${f.target}`, at);
      ctx.faults.set(name, async () => {
        await ctx.net.restart(f.target);
        ctx.checker.recovered(`node ${f.target}`, now(ctx));
      });
      return 'killed (sockets cut, nothing drained)';
    }
    case 'partition':
    case 'one-way-partition':
    case 'latency':
    case 'bandwidth':
    case 'pause': {
      const child = f.target.split('~')[0]!;
      const faults =
        f.kind === 'partition' || f.kind === 'pause'
          ? { partition: 'full' as const }
          : f.kind === 'one-way-partition'
            ? { partition: 'up' as const }
            : f.kind === 'latency'
              ? { latencyMs: (f.latency ?? 100) / wallRate(ctx), jitterMs: (f.jitter ?? 0) / wallRate(ctx) }
              : { bandwidthKbps: f.bandwidthKbps ?? 1000 };
      ctx.net.setLinkFaults(child, faults);
      ctx.checker.failed(`link ${child}`, at);
      ctx.faults.set(name, () => {
        ctx.net.healLink(child);
        ctx.checker.recovered(`link ${child}`, now(ctx));
      });
      return `link ${child}~${parentCode(child) ?? '-'}: ${JSON.stringify(faults)}`;
    }
    case 'reset': {
      const l = ctx.net.links.get(f.target.split('~')[0]!);
      if (!l) throw new Error(`no link of ${f.target}`);
      l.up?.reset();
      l.down.reset();
      return 'connections reset';
    }
    case 'skew-clock': {
      ctx.net.skew(f.target, f.skew ?? 60_000);
      ctx.faults.set(name, () => ctx.net.skew(f.target, 0));
      return `clock of ${f.target} skewed by ${formatDuration(f.skew ?? 60_000)}`;
    }
    case 'revoke-certificate': {
      const parent = parentCode(f.target);
      if (!parent) throw new Error('the national root cannot be revoked by a parent');
      const r = await nodeOf(ctx, parent)
        .self()
        .emergency({ target: f.target, action: 'revoke', reason: 'simulated certificate revocation' });
      if (!r.ok) throw new Error(`revocation refused: ${r.error.message}`);
      return `revoked by ${parent}: ${r.value.lifecycle}`;
    }
    case 'forge':
      return forge(ctx, f.target);
    case 'out-of-scope':
      return outOfScope(ctx, f.target);
    case 'revoked-write':
      return revokedWrite(ctx, f.target);
    case 'suspend-provider': {
      const p = ctx.providers.find((x) => x.planned.key === f.target || x.id === f.target);
      if (!p) throw new Error(`no provider "${f.target}" (a provider key such as p0, or its identifier)`);
      const node = nodeOf(ctx, p.planned.node);
      const r = await node
        .self()
        .emergency({ target: p.id, action: 'suspend', reason: 'simulated emergency: provider suspended' });
      if (!r.ok) throw new Error(`suspension refused: ${r.error.message}`);
      ctx.faults.set(name, async () => {
        const back = await node
          .self()
          .emergency({ target: p.id, action: 'reinstate', reason: 'simulated emergency over' });
        if (!back.ok) throw new Error(`reinstatement refused: ${back.error.message}`);
      });
      return `${p.planned.name} (${p.id}) suspended by ${p.planned.node}: ${r.value.lifecycle}`;
    }
    case 'replay':
      return replay(ctx, f.target);
    case 'cluster-down': {
      const found = findCluster(ctx, f.target);
      found.cluster.fail('simulated cluster outage');
      ctx.checker.failed(`cluster ${found.id}`, at);
      ctx.faults.set(name, () => {
        found.cluster.recover();
        ctx.checker.recovered(`cluster ${found.id}`, now(ctx));
      });
      return `cluster ${found.id} is down: its jobs failed and it stopped reporting`;
    }
    case 'gateway-down': {
      const p = ctx.providers.find((x) => x.planned.key === f.target || x.id === f.target);
      if (!p)
        throw new Error(
          `no provider "${f.target}" (use a provider key such as p0 from \`cpnet sim validate --json\`, or its identifier)`,
        );
      p.disconnect();
      ctx.checker.failed(`gateway ${p.id}`, at);
      ctx.faults.set(name, async () => {
        await p.reconnect();
        ctx.checker.recovered(`gateway ${p.id}`, now(ctx));
      });
      return `the gateway of ${p.planned.name} is disconnected`;
    }
  }
}

async function forge(ctx: RunContext, target: string): Promise<string> {
  // A write signed with a key that is not the claimed signer's: every node must refuse it with 401.
  const victim = nodeOf(ctx, target);
  const impostor = generateKeyPair();
  const client = createClient({
    baseUrl: victim.url,
    signer: { keyid: target, privateKey: impostor.privateKey },
    clock: ctx.clock,
  });
  const r = await client.register({
    kind: 'SV',
    values: [{ index: 1, type: 'URL', data: 'https://forged.example.cn' }],
  });
  const refused = !r.ok && r.status === 401;
  ctx.attacks.push({
    kind: 'forge',
    target,
    refused,
    status: r.ok ? 201 : r.status,
    detail: r.ok ? 'accepted!' : r.error.message,
  });
  if (!refused) throw new Error(`a forged write was ${r.ok ? 'ACCEPTED' : `answered ${r.status}`}`);
  return `forged write refused: ${r.error.message}`;
}

async function replay(ctx: RunContext, target: string): Promise<string> {
  // Sign one genuine write and send the very same bytes twice: the second must be refused as a replay.
  const victim = nodeOf(ctx, target);
  const url = `${victim.url}/cpn/v1/identifiers`;
  const body = JSON.stringify({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://genuine.example.cn' }] });
  const headers: Record<string, string> = { 'content-type': 'application/json', [PROTOCOL_HEADER]: PROTOCOL_VERSION };
  const signed = signRequest(
    { method: 'POST', url, headers, body },
    { keyid: target, privateKey: victim.privateKey(), clock: ctx.clock },
  );
  const send = () => fetch(url, { method: 'POST', headers: { ...headers, ...signed }, body });
  const first = await send();
  if (first.status !== 201)
    throw new Error(`the genuine write was answered ${first.status}: ${(await first.text()).slice(0, 200)}`);
  const again = await send();
  const text = await again.text();
  const refused = again.status === 401;
  ctx.attacks.push({ kind: 'replay', target, refused, status: again.status, detail: text.slice(0, 300) });
  if (!refused) throw new Error(`a replayed write was answered ${again.status}`);
  return `replay refused: ${text.slice(0, 200)}`;
}

function findCluster(ctx: RunContext, target: string) {
  for (const p of ctx.providers) {
    const id = p.idOfKey.get(target) ?? (p.clusters.has(target) ? target : undefined);
    const cluster = id ? p.clusters.get(id) : undefined;
    if (id && cluster) return { id, cluster, provider: p };
  }
  throw new Error(
    `no running cluster "${target}" (use a cluster key such as p0c1 from \`cpnet sim validate --json\`, or its identifier)`,
  );
}

async function outOfScope(ctx: RunContext, target: string): Promise<string> {
  // A genuine, correctly signed node writing outside its own subtree: the policy must refuse it (403).
  const sim = nodeOf(ctx, target);
  const parent = parentCode(target);
  const foreign =
    [...ctx.net.nodes.keys()].find(
      (k) => !k.includes('#') && k !== target && !k.startsWith(`${target}.`) && k !== parent && k.split('.').length > 1,
    ) ??
    parent ??
    'CPN';
  const parentNode = nodeOf(ctx, parent ?? target);
  const client = createClient({
    baseUrl: parentNode.url,
    signer: { keyid: target, privateKey: sim.privateKey() },
    clock: ctx.clock,
  });
  const r = await client.register({
    kind: 'SV',
    prefix: foreign,
    values: [{ index: 1, type: 'URL', data: 'https://out-of-scope.example.cn' }],
  });
  const refused = !r.ok && (r.status === 403 || r.status === 401);
  ctx.attacks.push({
    kind: 'out-of-scope',
    target,
    refused,
    status: r.ok ? 201 : r.status,
    detail: r.ok ? 'accepted!' : r.error.message,
  });
  if (!refused) throw new Error(`${target} writing under ${foreign} was ${r.ok ? 'ACCEPTED' : `answered ${r.status}`}`);
  return `${target} writing under ${foreign} refused: ${r.error.message}`;
}

async function revokedWrite(ctx: RunContext, target: string): Promise<string> {
  // After its revocation, a node's own signed writes to its parent must be refused everywhere.
  const sim = nodeOf(ctx, target);
  const parent = parentCode(target);
  if (!parent) throw new Error('the national node has no parent');
  const client = createClient({
    baseUrl: nodeOf(ctx, parent).url,
    signer: { keyid: target, privateKey: sim.privateKey() },
    clock: ctx.clock,
  });
  const body = await client.register({
    kind: 'SV',
    values: [{ index: 1, type: 'URL', data: 'https://revoked.example.cn' }],
  });
  const refused = !body.ok && (body.status === 401 || body.status === 403);
  ctx.attacks.push({
    kind: 'revoked-write',
    target,
    refused,
    status: body.ok ? 201 : body.status,
    detail: body.ok ? 'accepted!' : body.error.message,
  });
  if (!refused)
    throw new Error(`a write signed by revoked ${target} was ${body.ok ? 'ACCEPTED' : `answered ${body.status}`}`);
  return `write by revoked ${target} refused: ${body.error.message}`;
}
