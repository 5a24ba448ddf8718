import type { Router } from 'express';
import {
  ACCEPTANCE_ROUTES,
  AcceptanceCase,
  AcceptanceCaseList,
  AcceptanceDecisionInput,
  AcceptancePlan,
  EvidencePack,
  EvidenceQuery,
  GatherEvidence,
  MilestoneReport,
  ROUTES,
  SupervisionOrder,
  validate,
} from '@cpnet/protocol';
import type { Action, Principal } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { publicName } from '../http/public-name.ts';
import type { RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import { setChildLifecycle } from '../onboarding/grant.ts';
import {
  applyDecision,
  applyOrder,
  checkDecision,
  checkOrder,
  lifecycleAfterOrder,
  planCase,
  reportMilestone,
  utc,
} from './case.ts';
import { allCases, caseOr404, saveOrRefuse, signRecord } from './service.ts';
import { availability, gatherEvidence } from './evidence.ts';

/** What the acceptance routes use of the node. */
type AcceptanceRoutesDeps = RouteDeps &
  Pick<NodeContext, 'cache' | 'clientFor' | 'metrics' | 'outbox' | 'settings' | 'state' | 'tls'>;

const route = defineRoute<AcceptanceRoutesDeps>();

const NODE_PARAM = {
  node: { description: 'The prefix of the approved node (CPN.51, CPN.51.C151)', example: 'CPN.51' },
};

/** The policy's question about a case. */
const ask = (principal: Principal, action: Action, node: string) => ({
  principal,
  action,
  resource: { type: 'acceptance' as const, prefix: node, id: node },
});

/** Who did it, as the case records it: an account id or a node prefix. */
const who = (p: Principal) => (p.kind === 'person' ? `account:${p.id}` : p.id);

const param = (req: { params: Record<string, unknown> }, name: string) => String(req.params[name]);

/** Parses the optional period of the evidence; from before to. */
function period(q: { from?: string | undefined; to?: string | undefined }): { from?: number; to?: number } {
  const out = {
    ...(q.from ? { from: Date.parse(q.from) } : {}),
    ...(q.to ? { to: Date.parse(q.to) } : {}),
  };
  if (out.from !== undefined && out.to !== undefined && out.from >= out.to)
    fail('SCHEMA_VIOLATION', 'the period must end after it starts', 'to');
  return out;
}

/**
 * After approval (建设实施 → 验收): the authority's acceptance cases of the nodes it approved — construction plan and
 * progress, joint-debugging runs in their window, the evidence pack, the officer's signed decision and supervision
 * orders — and each node's own evidence pack.
 */
export const ACCEPTANCE_ROUTE_TABLE: RouteTable<AcceptanceRoutesDeps> = [
  route({
    operationId: 'listAcceptanceCases',
    method: 'get',
    path: ACCEPTANCE_ROUTES.cases,
    tag: 'acceptance',
    summary: 'The acceptance cases of the nodes this one approved',
    auth: 'required',
    responses: { 200: { description: 'Every case, with what is overdue now', schema: AcceptanceCaseList } },
    errors: { 403: 'the caller may not read acceptance cases here' },
    access: {
      action: 'read',
      resource: 'acceptance',
      rule: 'officers, supervisors, experts and operators of this node',
    },
    handle: async ({ env, caller }) => {
      const p = caller!.principal;
      const cases = await allCases(env);
      const mine = cases.filter((c) => env.policy.decide(ask(p, 'read', c.node)).allowed);
      if (cases.length > 0 && mine.length === 0) fail('FORBIDDEN', `${publicName(p)} may not read acceptance cases`);
      return [200, { items: mine }];
    },
  }),
  route({
    operationId: 'getAcceptanceCase',
    method: 'get',
    path: ACCEPTANCE_ROUTES.case,
    tag: 'acceptance',
    summary: 'One acceptance case: plan and progress, joint-debugging runs, evidence, decisions, supervision, flags',
    auth: 'required',
    pathParams: NODE_PARAM,
    responses: { 200: { description: 'The case as of now (node time)', schema: AcceptanceCase } },
    errors: { 404: 'no case for that node here' },
    access: { action: 'read', resource: 'acceptance', rule: 'the policy; the node itself reads its own case' },
    authorize: ({ caller, req }) => ask(caller!.principal, 'read', param(req, 'node')),
    handle: async ({ env, req }) => [200, await caseOr404(env, param(req, 'node'))],
  }),
  route({
    operationId: 'planConstruction',
    method: 'put',
    path: ACCEPTANCE_ROUTES.plan,
    tag: 'acceptance',
    summary: 'Set the construction plan: milestones of the 实施计划 and the joint-debugging window (按期)',
    auth: 'required',
    pathParams: NODE_PARAM,
    body: AcceptancePlan,
    responses: { 200: { description: 'The case with its plan', schema: AcceptanceCase } },
    errors: {
      404: 'no case for that node here',
      409: 'the node is already accepted',
      422: 'a milestone or the window is dated before the approval',
    },
    access: { action: 'plan', resource: 'acceptance', rule: 'an acceptance officer (or this node itself)' },
    audit: 'plan',
    authorize: ({ caller, req }) => ask(caller!.principal, 'plan', param(req, 'node')),
    audited: ({ req }) => ({ resource: `acceptance:${param(req, 'node')}` }),
    handle: async ({ env, req, body }) => {
      const c = await caseOr404(env, param(req, 'node'));
      return [200, await saveOrRefuse(env, planCase(c, body))];
    },
  }),
  route({
    operationId: 'reportMilestone',
    method: 'post',
    path: ACCEPTANCE_ROUTES.milestone,
    tag: 'acceptance',
    summary: 'The node reports progress on a construction milestone',
    auth: 'required',
    pathParams: {
      ...NODE_PARAM,
      milestone: { description: 'The milestone id from the plan', example: 'site-ready' },
    },
    body: MilestoneReport,
    responses: { 200: { description: 'The case after the report', schema: AcceptanceCase } },
    errors: { 404: 'no case, or no such milestone', 409: 'the milestone was already reported done' },
    access: { action: 'report', resource: 'acceptance', rule: 'the node itself, signed' },
    audit: 'report',
    authorize: ({ caller, req }) => ask(caller!.principal, 'report', param(req, 'node')),
    audited: ({ req }) => ({ resource: `acceptance:${param(req, 'node')}/${param(req, 'milestone')}` }),
    handle: async ({ env, req, body }) => {
      const c = await caseOr404(env, param(req, 'node'));
      const r = reportMilestone(c, { id: param(req, 'milestone'), report: body, now: env.deps.clock.now() });
      return [200, await saveOrRefuse(env, r)];
    },
  }),
  route({
    operationId: 'gatherEvidence',
    method: 'post',
    path: ACCEPTANCE_ROUTES.gather,
    tag: 'acceptance',
    summary: "Ask the node for its evidence pack and keep it in the case, with this authority's availability figure",
    description:
      'The authority fetches `GET /cpn/v1/acceptance/evidence` from the node (signed), checks it, replaces the ' +
      'availability figure by its own health watch of the node over the same period, and stores the pack.',
    auth: 'required',
    pathParams: NODE_PARAM,
    body: GatherEvidence,
    responses: { 200: { description: 'The case with the evidence pack', schema: AcceptanceCase } },
    errors: { 404: 'no case for that node here', 503: 'the node cannot be reached or sent an invalid pack' },
    access: { action: 'gather', resource: 'acceptance', rule: 'an acceptance officer (or this node itself)' },
    audit: 'gather',
    authorize: ({ caller, req }) => ask(caller!.principal, 'gather', param(req, 'node')),
    audited: ({ req }) => ({ resource: `acceptance:${param(req, 'node')}` }),
    handle: async ({ env, req, body }) => {
      const node = param(req, 'node');
      const c = await caseOr404(env, node);
      const peer = await env.db.peers.byPrefix(node);
      if (!peer) fail('NOT_FOUND', `${node} is not a known node below ${env.config.code}`);
      const q = new URLSearchParams();
      if (body.from) q.set('from', utc(body.from));
      if (body.to) q.set('to', utc(body.to));
      const path = `${ACCEPTANCE_ROUTES.evidence}${q.size > 0 ? `?${q.toString()}` : ''}`;
      const r = await env.clientFor(peer.endpoint).request({ method: 'GET', path, sign: true });
      if (!r.ok) fail('UPSTREAM_UNAVAILABLE', `${node} did not give its evidence: ${r.error.message}`);
      const pack = validate(EvidencePack, r.value);
      if (!pack.ok) fail('UPSTREAM_UNAVAILABLE', `${node} sent an invalid evidence pack: ${pack.error.error.message}`);
      if (pack.value.node !== node) fail('UPSTREAM_UNAVAILABLE', `the evidence pack names ${pack.value.node}`);
      const span = pack.value.runtime.period;
      const seen = await availability(env, { node, from: Date.parse(span.from), to: Date.parse(span.to) });
      const runtime = {
        ...pack.value.runtime,
        ...seen,
        latencyScope: `${pack.value.runtime.latencyScope}; availability from ${env.config.code}'s health watch of ${node}`,
      };
      return [200, await saveOrRefuse(env, { ok: true, value: { ...c, evidence: { ...pack.value, runtime } } })];
    },
  }),
  route({
    operationId: 'decideAcceptance',
    method: 'post',
    path: ACCEPTANCE_ROUTES.decisions,
    tag: 'acceptance',
    summary: '验收: an acceptance officer records the decision (pass, pass with conditions, fail) with reasons',
    description:
      'Refused (422, nothing changes) before joint debugging passed within its window, without an evidence pack, ' +
      'or while the node is under supervision. The decision is signed by this node and audited; pass makes the node ' +
      'accepted (已验收) and online.',
    auth: 'required',
    pathParams: NODE_PARAM,
    body: AcceptanceDecisionInput,
    responses: { 200: { description: 'The case with the signed decision', schema: AcceptanceCase } },
    errors: { 404: 'no case for that node here', 422: 'the case is not ready for a decision (the rule is named)' },
    access: { action: 'accept', resource: 'acceptance', rule: 'an acceptance officer of this node (a person)' },
    audit: 'accept',
    authorize: ({ caller, req }) => ask(caller!.principal, 'accept', param(req, 'node')),
    audited: ({ req, body }) => ({ action: `accept:${body.decision}`, resource: `acceptance:${param(req, 'node')}` }),
    handle: async ({ env, req, caller, body }) => {
      const c = await caseOr404(env, param(req, 'node'));
      const checked = checkDecision(c, { decision: body, by: who(caller!.principal), now: env.deps.clock.now() });
      if (!checked.ok) fail(checked.error.code, checked.error.message, checked.error.field);
      const signed = { ...checked.value, signature: await signRecord(env, { node: c.node, ...checked.value }) };
      const next = await saveOrRefuse(env, { ok: true, value: applyDecision(c, signed) });
      if (next.status === 'accepted') {
        await setChildLifecycle(env, { prefix: c.node, lifecycle: 'accepted' });
        await setChildLifecycle(env, { prefix: c.node, lifecycle: 'online' });
      }
      env.events.emit('acceptance.decided', {
        subject: c.node,
        severity: body.decision === 'fail' ? 'warning' : 'info',
        data: { decision: body.decision, by: signed.by, status: next.status },
      });
      return [200, next];
    },
  }),
  route({
    operationId: 'superviseNode',
    method: 'post',
    path: ACCEPTANCE_ROUTES.supervision,
    tag: 'acceptance',
    summary: 'Supervision (监督指导): suspend, require rectification, re-inspect, restore',
    description:
      'Each order is signed by this node and audited. Suspend and restore change the node’s lifecycle here and are ' +
      'sent to the node (an emergency order), so its operator sees them on the node itself.',
    auth: 'required',
    pathParams: NODE_PARAM,
    body: SupervisionOrder,
    responses: { 200: { description: 'The case with the signed order', schema: AcceptanceCase } },
    errors: { 404: 'no case for that node here', 422: 'the order does not follow the supervision state' },
    access: { action: 'supervise', resource: 'acceptance', rule: 'a supervisor of this node (a person)' },
    audit: 'supervise',
    authorize: ({ caller, req }) => ask(caller!.principal, 'supervise', param(req, 'node')),
    audited: ({ req, body }) => ({ action: `supervise:${body.action}`, resource: `acceptance:${param(req, 'node')}` }),
    handle: async ({ env, req, caller, body }) => {
      const c = await caseOr404(env, param(req, 'node'));
      const checked = checkOrder(c, { order: body, by: who(caller!.principal), now: env.deps.clock.now() });
      if (!checked.ok) fail(checked.error.code, checked.error.message, checked.error.field);
      const signed = { ...checked.value, signature: await signRecord(env, { node: c.node, ...checked.value }) };
      const next = await saveOrRefuse(env, { ok: true, value: applyOrder(c, signed) });
      const lifecycle = lifecycleAfterOrder(c, body.action);
      const peer = await env.db.peers.byPrefix(c.node);
      if (lifecycle && peer) {
        await setChildLifecycle(env, { prefix: c.node, lifecycle });
        const order = {
          target: c.node,
          action: body.action === 'suspend' ? 'suspend' : 'reinstate',
          reason: body.reason,
        };
        await env.outbox.enqueue({ endpoint: peer.endpoint, path: ROUTES.emergency, body: order });
        env.outbox.kick();
      }
      env.events.emit('acceptance.supervision', {
        subject: c.node,
        severity: body.action === 'suspend' ? 'critical' : 'info',
        data: { action: body.action, reason: body.reason, by: signed.by, state: next.supervision.state },
      });
      return [200, next];
    },
  }),
  route({
    operationId: 'acceptanceEvidence',
    method: 'get',
    path: ACCEPTANCE_ROUTES.evidence,
    tag: 'acceptance',
    summary: "This node's evidence pack for its 验收, gathered now and signed",
    description:
      'The latest full joint-debugging results its parent and the national node ran on it, runtime figures over ' +
      'the period (default the last 30 days of node time), the 等保2.0 三级 / GB/T 39786 security table and the ' +
      "audit log's signed tree head.",
    auth: 'required',
    query: EvidenceQuery,
    responses: { 200: { description: 'The signed evidence pack', schema: EvidencePack } },
    errors: { 403: 'the caller is neither this node’s operator, this node, nor an ancestor' },
    access: { rule: "this node's operators and itself, its parent and the national node" },
    handle: async ({ env, caller, query }) => {
      const p = caller!.principal;
      const peer = p.kind === 'node' ? await env.db.peers.byPrefix(p.id) : null;
      const allowed =
        (p.kind === 'node' && p.id === env.config.code) ||
        (p.kind === 'person' && p.role === 'operator') ||
        (peer !== null && ['parent', 'ancestor'].includes(peer.relation));
      if (!allowed) fail('FORBIDDEN', `the evidence of ${env.config.code} is for its operators and its authority`);
      return [200, await gatherEvidence(env, period(query))];
    },
  }),
];

/** This node's own case, fetched from its authority (the parent) with the node's signature. */
async function ownCase(
  env: AcceptanceRoutesDeps,
  spec: { method: 'GET' | 'POST'; path: string; body?: unknown },
): Promise<unknown> {
  if (!env.config.parentUrl) fail('NOT_FOUND', `${env.config.code} has no authority above it`);
  const r = await env.clientFor(env.config.parentUrl).request({ ...spec, sign: true });
  if (r.ok) return r.value;
  if (r.status === 0 || r.status >= 500) fail('UPSTREAM_UNAVAILABLE', `the authority: ${r.error.message}`);
  const code = r.status === 404 ? 'NOT_FOUND' : r.status === 409 ? 'CONFLICT' : 'RULE_VIOLATION';
  fail(code, `the authority refused: ${r.error.message}`, r.error.field);
}

/** This node itself or one of its operators. */
const selfOrOperator = (env: Pick<NodeContext, 'config'>, p: Principal) =>
  (p.kind === 'node' && p.id === env.config.code) || (p.kind === 'person' && p.role === 'operator');

/** The node's side: its operators read the case the authority keeps and report construction progress through it. */
export const OWN_ACCEPTANCE_ROUTES: RouteTable<AcceptanceRoutesDeps> = [
  route({
    operationId: 'ownAcceptanceCase',
    method: 'get',
    path: ACCEPTANCE_ROUTES.own,
    tag: 'acceptance',
    summary: "This node's acceptance case, as its authority keeps it (plan, runs, decisions, supervision orders)",
    auth: 'required',
    responses: { 200: { description: 'The case, read from the authority', schema: AcceptanceCase } },
    errors: {
      403: 'the caller is neither this node nor one of its operators',
      404: 'no case',
      503: 'the authority cannot be reached',
    },
    access: { rule: "this node's operators and itself" },
    handle: async ({ env, caller }) => {
      if (!selfOrOperator(env, caller!.principal))
        fail('FORBIDDEN', `the case of ${env.config.code} is for its operators`);
      const path = ACCEPTANCE_ROUTES.case.replace('{node}', encodeURIComponent(env.config.code));
      return [200, await ownCase(env, { method: 'GET', path })];
    },
  }),
  route({
    operationId: 'reportOwnMilestone',
    method: 'post',
    path: ACCEPTANCE_ROUTES.ownMilestone,
    tag: 'acceptance',
    summary: 'An operator reports construction progress; the node signs it to its authority',
    auth: 'required',
    pathParams: { milestone: { description: 'The milestone id from the plan', example: 'site-ready' } },
    body: MilestoneReport,
    responses: { 200: { description: 'The case after the report, from the authority', schema: AcceptanceCase } },
    errors: {
      403: 'the caller is neither this node nor one of its operators',
      404: 'no case or no such milestone',
      422: 'the authority refused the report',
      503: 'the authority cannot be reached',
    },
    access: { rule: "this node's operators and itself" },
    audit: 'report',
    audited: ({ req }) => ({ resource: `acceptance:own/${param(req, 'milestone')}` }),
    handle: async ({ env, req, caller, body }) => {
      if (!selfOrOperator(env, caller!.principal))
        fail('FORBIDDEN', `progress of ${env.config.code} is reported by its operators`);
      const path = ACCEPTANCE_ROUTES.milestone
        .replace('{node}', encodeURIComponent(env.config.code))
        .replace('{milestone}', encodeURIComponent(param(req, 'milestone')));
      return [200, await ownCase(env, { method: 'POST', path, body })];
    },
  }),
];

/** Mounts the acceptance area. */
export function acceptanceRoutes(ctx: AcceptanceRoutesDeps): Router {
  return mountTable(ctx, [...OWN_ACCEPTANCE_ROUTES, ...ACCEPTANCE_ROUTE_TABLE]);
}
