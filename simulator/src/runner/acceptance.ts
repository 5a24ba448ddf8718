import { createClient, type NodeClient } from '@cpnet/client';
import { formatTime, type AcceptanceCase } from '@cpnet/protocol';
import type { Action, Expectation } from '../scenario/schema.ts';
import { poll, type RunContext } from './context.ts';

type Step = Extract<Action, { do: 'acceptance' }>;

const authorityOf = (node: string) => node.slice(0, node.lastIndexOf('.'));
const casePath = (node: string) => `/cpn/v1/acceptance/cases/${encodeURIComponent(node)}`;

/** A person of the authority (an acceptance officer or a supervisor), created on first use, with a token. */
async function person(ctx: RunContext, input: { authority: string; role: 'acceptance-officer' | 'supervisor' }) {
  const sim = ctx.net.nodes.get(input.authority);
  if (!sim?.running) throw new Error(`the authority ${input.authority} is not running`);
  const id = `${input.role}-${input.authority.replaceAll('.', '-').toLowerCase()}`;
  // 409 when it exists from an earlier step: the account is reused.
  await sim
    .self()
    .createAccount({ id, name: `${input.role} ${input.authority}`, role: input.role, password: 'simulated-person' });
  const t = await sim.anon().token({ account: id, password: 'simulated-person' });
  if (!t.ok) throw new Error(`no ${input.role} token at ${input.authority}: ${t.error.message}`);
  return createClient({ baseUrl: sim.url, token: t.value.token, clock: ctx.clock });
}

/** The node itself, signed, talking to its authority (it reports its own construction progress). */
function asNode(ctx: RunContext, node: string): NodeClient {
  const sim = ctx.net.nodes.get(node);
  const authority = ctx.net.nodes.get(authorityOf(node));
  if (!sim || !authority) throw new Error(`${node} or its authority was never started`);
  return createClient({
    baseUrl: authority.url,
    signer: { keyid: node, privateKey: sim.privateKey() },
    clock: ctx.clock,
  });
}

/** A calendar date `after` virtual ms from now (the governed clock, advances included). */
const fromNow = (ctx: RunContext, after: number) => formatTime(ctx.clock.now() + after);

/** Runs one acceptance step against the node's authority; the answer's status is the detail. */
export async function acceptanceAction(ctx: RunContext, step: Step): Promise<string> {
  const authority = authorityOf(step.node);
  const path = casePath(step.node);
  let client: NodeClient;
  let spec: { method: 'POST' | 'PUT'; path: string; body: unknown };
  switch (step.act) {
    case 'plan':
      if (!step.milestones || !step.window) throw new Error('plan needs milestones and window');
      client = await person(ctx, { authority, role: 'acceptance-officer' });
      spec = {
        method: 'PUT',
        path: `${path}/plan`,
        body: {
          milestones: step.milestones.map((m) => ({ id: m.id, title: m.title, due: fromNow(ctx, m.due) })),
          jointDebugWindow: { from: fromNow(ctx, step.window.from), to: fromNow(ctx, step.window.to) },
        },
      };
      break;
    case 'progress':
      if (!step.milestone) throw new Error('progress needs milestone');
      client = asNode(ctx, step.node);
      spec = {
        method: 'POST',
        path: `${path}/milestones/${encodeURIComponent(step.milestone)}`,
        body: { status: step.status ?? 'done' },
      };
      break;
    case 'gather':
      client = await person(ctx, { authority, role: 'acceptance-officer' });
      spec = { method: 'POST', path: `${path}/evidence`, body: {} };
      break;
    case 'decide':
      client = await person(ctx, { authority, role: 'acceptance-officer' });
      spec = {
        method: 'POST',
        path: `${path}/decisions`,
        body: {
          decision: step.decision ?? 'pass',
          reasons: step.reasons ?? ['模拟验收'],
          ...(step.conditions
            ? { conditions: step.conditions.map((k) => ({ text: k.text, due: fromNow(ctx, k.due) })) }
            : {}),
        },
      };
      break;
    case 'supervise':
      if (!step.action) throw new Error('supervise needs action');
      client = await person(ctx, { authority, role: 'supervisor' });
      spec = {
        method: 'POST',
        path: `${path}/supervision`,
        body: {
          action: step.action,
          reason: step.reason ?? '监督指导',
          ...(step.due !== undefined ? { due: fromNow(ctx, step.due) } : {}),
          ...(step.result ? { result: step.result } : {}),
        },
      };
      break;
  }
  const r = await client.request<AcceptanceCase>(spec);
  if (!r.ok) throw new Error(`${authority} refused: ${r.error.message}`);
  return `${step.node}: ${r.value.status}, supervision ${r.value.supervision.state}`;
}

type AcceptanceExpectation = Extract<Expectation, { that: 'acceptance' }>;

/** Checks the node's case at its authority (polled for `within` of virtual time). */
export async function acceptanceVerdict(
  ctx: RunContext,
  e: AcceptanceExpectation,
): Promise<{ passed: boolean; detail: string }> {
  const authority = authorityOf(e.node);
  const officer = await person(ctx, { authority, role: 'acceptance-officer' });
  const read = async (): Promise<{ ok: boolean; detail: string }> => {
    const r = await officer.request<AcceptanceCase>({ method: 'GET', path: casePath(e.node) });
    if (!r.ok) return { ok: false, detail: `cannot read the case: ${r.error.message}` };
    const c = r.value;
    const overdue = c.flags
      .filter((f) => f.kind === 'milestone-overdue' && !f.cleared)
      .map((f) => f.subject)
      .sort();
    const failedInWindow = c.jointDebug.runs.filter((x) => !x.passed && x.inWindow).length;
    const problems = [
      e.status && c.status !== e.status ? `status ${c.status}, expected ${e.status}` : null,
      e.overdue && overdue.join(',') !== [...e.overdue].sort().join(',')
        ? `overdue [${overdue.join(', ')}], expected [${e.overdue.join(', ')}]`
        : null,
      e.supervision && c.supervision.state !== e.supervision
        ? `supervision ${c.supervision.state}, expected ${e.supervision}`
        : null,
      e.runs?.failedInWindow !== undefined && failedInWindow < e.runs.failedInWindow
        ? `${failedInWindow} failed runs in the window, expected at least ${e.runs.failedInWindow}`
        : null,
    ].filter((x): x is string => x !== null);
    const state =
      `${c.status}, supervision ${c.supervision.state}, overdue [${overdue.join(', ')}], ` +
      `${failedInWindow} failed run(s) in window`;
    return { ok: problems.length === 0, detail: problems.length ? problems.join('; ') : state };
  };
  const got = await poll(ctx, read, { withinMs: e.within ?? 0, ok: (v) => v.ok });
  return { passed: got.ok, detail: got.detail };
}
