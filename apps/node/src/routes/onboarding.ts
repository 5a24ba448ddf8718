import { createHash } from 'node:crypto';
import type { Router } from 'express';
import { z } from 'zod';
import type { Principal } from '@cpnet/security';
import {
  Application,
  ApplicationList,
  ApplicationState,
  ForwardedApplication,
  PublicApplicationState,
  Review,
  ROUTES,
} from '@cpnet/protocol';
import { parentPrefix } from '@cpnet/identifier';
import type { NodeContext } from '../context.ts';
import { fail, HttpError } from '../http/http-error.ts';
import { WindowLimiter } from '../http/rate-limit.ts';
import { audited, type RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import { importPublicKey } from '../identity.ts';
import { applicantPrefix } from '../onboarding/rules.ts';
import { applicationState, decide, publicApplicationState, receiveApplication } from '../onboarding/review.ts';
import { guideOf } from '../onboarding/guide-file.ts';
import { forwardedChainProblem, receiveForwardedChain } from '../onboarding/dossier.ts';

/** The applicant's own key, taken from the application it signed (proof of possession of that key). */
function applicantKey(body: unknown) {
  return (keyid: string) => {
    const b = body as { publicKey?: unknown; role?: unknown; region?: unknown; industry?: unknown } | undefined;
    if (!b || typeof b.publicKey !== 'string' || (b.role !== 'regional' && b.role !== 'industry')) return null;
    const prefix = applicantPrefix({
      role: b.role,
      region: String(b.region),
      industry: typeof b.industry === 'string' ? b.industry : null,
    });
    return prefix === keyid ? importPublicKey(b.publicKey) : null;
  };
}

/** What `onboardingRoutes` uses of the node. */
type OnboardingRoutesDeps = RouteDeps &
  Pick<NodeContext, 'cache' | 'clientFor' | 'endpoint' | 'outbox' | 'serials' | 'settings' | 'tls'> & {
    /** The application throttles, one set per node (`limits.applications`, windows on the node's clock). */
    readonly throttles: { byKey: WindowLimiter; byAddress: WindowLimiter; refusalsByAddress: WindowLimiter };
  };

const route = defineRoute<OnboardingRoutesDeps>();

const APP_PARAM = { id: { description: 'The application id this node gave it (`APP-…`)' } };

/** An active node, reviewer or operator: who reads applications whole. */
const mayReadWhole = (p: Principal) =>
  p.status === 'active' &&
  (p.kind === 'node' || (p.kind === 'person' && (p.role === 'reviewer' || p.role === 'operator')));

/** Applications (申报), reviews (审核) and forwarding; joint debugging (联调) is `joint-debug.ts`. */
export const ONBOARDING_ROUTES: RouteTable<OnboardingRoutesDeps> = [
  // The list carries applicants' contact details and organisations: reviewers, operators and nodes only.
  route({
    operationId: 'listApplications',
    method: 'get',
    path: ROUTES.applications,
    tag: 'onboarding',
    summary: 'Applications received',
    auth: 'required',
    responses: { 200: { description: 'Every application received here, whole', schema: ApplicationList } },
    errors: { 403: 'the caller is not an active node, reviewer or operator' },
    access: { rule: 'an active node (signature), reviewer or operator (token)' },
    handle: async ({ env, caller }) => {
      const p = caller!.principal;
      if (p.kind !== 'node' && !(p.kind === 'person' && (p.role === 'reviewer' || p.role === 'operator')))
        fail('FORBIDDEN', `${caller!.who} may not read the applications; reviewers, operators and nodes may`);
      if (p.status !== 'active') fail('FORBIDDEN', `${caller!.who} is ${p.status}`);
      const rows = await env.db.applications.all();
      return [200, { items: rows.map(applicationState) }];
    },
  }),
  // Anyone may follow an application's status; its contact person and the reviewers' names and opinions go only to
  // the applicant (signing with the key it applied with), reviewers, operators and nodes.
  route({
    operationId: 'getApplication',
    method: 'get',
    path: '/cpn/v1/applications/{id}',
    tag: 'onboarding',
    summary: 'An application, with the grant once approved',
    description:
      'Without credentials (or for another caller) the public state: no contact person, no reviewers, no grant. ' +
      'The applicant signing with the key it applied with, reviewers, operators and nodes get it whole.',
    auth: 'optional',
    pathParams: APP_PARAM,
    responses: {
      200: {
        description: 'The whole state, or the public one',
        schema: z.union([ApplicationState, PublicApplicationState]),
      },
    },
    errors: { 404: 'no such application' },
    access: { rule: 'anyone; the whole state for the applicant, active nodes, reviewers and operators' },
    readerKey: async (env, req) => {
      const row = await env.db.applications.byId(String(req.params.id));
      if (!row) return undefined;
      return (keyid: string) =>
        keyid === row.applicant ? importPublicKey((JSON.parse(row.body) as { publicKey: string }).publicKey) : null;
    },
    handle: async ({ env, req, caller }) => {
      const row = await env.db.applications.byId(String(req.params.id));
      if (!row) fail('NOT_FOUND', `no application ${String(req.params.id)}`);
      return [200, caller && mayReadWhole(caller.principal) ? applicationState(row) : publicApplicationState(row)];
    },
  }),
  route({
    operationId: 'apply',
    method: 'post',
    path: ROUTES.applications,
    tag: 'onboarding',
    summary: 'Apply (申报), signed with the key in the application (keyid = the applicant prefix)',
    description:
      'The body is read first (64 KiB at most) for its key. Every broken rule of the guide is listed in a 422; ' +
      'applications are throttled per key and per address (429).',
    auth: 'self-keyed',
    selfKey: applicantKey,
    body: Application,
    responses: {
      200: { description: 'The same applicant asked again: nothing new was stored', schema: ApplicationState },
      201: { description: 'Received', schema: ApplicationState },
    },
    errors: {
      403: "signed by another key than the applicant's, or this node takes no node applications",
      422: 'the wrong parent, a broken rule of the guide, or applications are closed',
      429: 'too many applications from this key or address',
      503: 'the parent this application must be forwarded to cannot be reached',
    },
    access: { rule: "the applicant's own key (proof of possession)" },
    audit: 'apply',
    handle: async ({ env, req, caller, body: app, requestId }) => {
      const { byKey, byAddress, refusalsByAddress } = env.throttles;
      const applicant = applicantPrefix(app);
      // Anyone can make a key and apply: applications are throttled per key and per address (before anything is
      // stored), refusals per address more tightly (limits.applications).
      const key = createHash('sha256').update(app.publicKey).digest('base64url');
      const address = req.socket.remoteAddress ?? '-';
      byKey.check(key, 'applications from this key');
      byAddress.check(address, 'applications from this address');
      refusalsByAddress.check(address, 'refused applications from this address');
      if (caller!.principal.id !== applicant)
        fail(
          'FORBIDDEN',
          `an application for ${applicant} is signed by that node's own key (keyid ${applicant}), not ${caller!.principal.id}`,
        );
      if (parentPrefix(applicant) !== env.config.code)
        fail(
          'RULE_VIOLATION',
          `${applicant} applies to ${parentPrefix(applicant)}, not to ${env.config.code}`,
          app.role === 'industry' ? 'region' : 'role',
        );
      if (env.config.role === 'industry') fail('FORBIDDEN', 'an industry node takes no node applications');
      await audited(env, { who: caller!.who, action: 'apply', resource: `application:${applicant}`, requestId });
      let received: Awaited<ReturnType<typeof receiveApplication>>;
      try {
        received = await receiveApplication(env, { app });
      } catch (e) {
        if (e instanceof HttpError && (e.code === 'RULE_VIOLATION' || e.code === 'DEADLINE_PASSED')) {
          byKey.hit(key);
          refusalsByAddress.hit(address);
        }
        throw e;
      }
      const [status, row] = received;
      // 200 is the same applicant asking again: nothing new was stored.
      if (status === 201) {
        byKey.hit(key);
        byAddress.hit(address);
      }
      return [status === 201 ? 201 : 200, applicationState(row)];
    },
  }),
  route({
    operationId: 'forwardApplication',
    method: 'post',
    path: `${ROUTES.applications}/forwarded`,
    tag: 'onboarding',
    summary: 'Node to node: a regional node forwards an industry application with its opinion',
    auth: 'required',
    body: ForwardedApplication,
    responses: {
      200: { description: 'Already held: nothing new was stored', schema: ApplicationState },
      201: { description: 'Received', schema: ApplicationState },
    },
    errors: { 403: 'not the national node, or the caller is not the parent of the applicant', 422: 'a broken rule' },
    access: {
      rule:
        "a child (regional) node, for its own industry nodes' applications, at the national node; under a guide also " +
        'a regional node whose own application is open here (上报 of both comes before the list)',
    },
    audit: 'forward',
    // Under a guide the province reports its industry nodes before its regional node is approved: a regional node
    // with an open application here signs with the key it applied with.
    readerKey: async (env) => {
      if (!guideOf(env.config)) return undefined;
      const open = (await env.db.applications.notRejected()).filter((a) => a.role === 'regional');
      return (keyid: string) => {
        const a = open.find((x) => x.applicant === keyid);
        return a ? importPublicKey((JSON.parse(a.body) as { publicKey: string }).publicKey) : null;
      };
    },
    handle: async ({ env, caller, body: fwd, requestId }) => {
      if (env.config.role !== 'national') fail('FORBIDDEN', 'only the national node takes forwarded applications');
      const p = caller!.principal;
      const peer = await env.db.peers.byPrefix(p.id);
      const applying = guideOf(env.config) !== null && (await env.db.applications.openOf(p.id))?.role === 'regional';
      if (p.kind !== 'node' || (peer?.relation !== 'child' && !applying) || parentPrefix(fwd.applicant) !== p.id)
        fail('FORBIDDEN', `${p.id} may forward only applications of its own industry nodes`);
      if (applicantPrefix(fwd.application) !== fwd.applicant)
        fail('SCHEMA_VIOLATION', 'applicant does not match the application', 'applicant');
      // The province's signed steps must be the forwarding node's, over exactly what they say.
      const key =
        peer?.publicKey ??
        (JSON.parse((await env.db.applications.openOf(p.id))?.body ?? '{}') as { publicKey?: string }).publicKey;
      const problem = key
        ? await forwardedChainProblem({ ext: fwd.ext, originId: fwd.originId, key: importPublicKey(key) })
        : null;
      if (problem) fail('RULE_VIOLATION', problem, 'ext.chain');
      await audited(env, { who: caller!.who, action: 'forward', resource: `application:${fwd.applicant}`, requestId });
      const [status, row] = await receiveApplication(env, {
        app: fwd.application,
        forwarded: { by: p.id, originId: fwd.originId, opinion: fwd.opinion },
      });
      // Under a guide the regional node's 上报 carries the dossier and the province's signed steps: the expert
      // review, 公示 and the list continue here from them.
      if (status === 201) await receiveForwardedChain(env, { row, ext: fwd.ext });
      return [status === 201 ? 201 : 200, applicationState(row)];
    },
  }),
  route({
    operationId: 'reviewApplication',
    method: 'post',
    path: '/cpn/v1/applications/{id}/reviews',
    tag: 'onboarding',
    summary: 'Review (初审推荐 / final decision)',
    auth: 'required',
    pathParams: APP_PARAM,
    body: Review,
    responses: { 200: { description: 'The application after the review', schema: ApplicationState } },
    errors: {
      404: 'no such application',
      409: 'the application is already decided',
      422: 'an override of a rule that cannot be overridden',
      503: 'a recommendation this node must forward to its parent cannot be delivered',
    },
    access: {
      action: 'review',
      resource: 'application',
      rule: 'the policy: `review` on the application (a reviewer of the node it is routed to)',
    },
    audit: 'review:<decision>',
    authorize: async ({ env, req, caller }) => {
      const row = await env.db.applications.byId(String(req.params.id));
      if (!row) fail('NOT_FOUND', `no application ${String(req.params.id)}`);
      return {
        principal: caller!.principal,
        action: 'review',
        resource: {
          type: 'application',
          prefix: env.config.code,
          id: row.id,
          routedTo: row.routedTo,
          reviewers: await env.db.accounts.reviewerIds(),
        },
      };
    },
    audited: ({ req, body }) => ({
      action: `review:${body.decision}`,
      resource: `application:${String(req.params.id)}`,
    }),
    handle: async ({ env, req, caller, body: review }) => {
      const row = await env.db.applications.byId(String(req.params.id));
      if (!row) fail('NOT_FOUND', `no application ${String(req.params.id)}`);
      const guide = guideOf(env.config);
      // Under a guide people review through its chain; nodes still send their decisions here (the national
      // node's list decision coming back to the regional node).
      if (guide && caller!.principal.kind === 'person')
        fail(
          'CONFLICT',
          `${env.config.code} follows ${guide.id}: review through POST /cpn/v1/applications/${row.id}/chain`,
        );
      const updated = await decide(env, { row, by: caller!.principal.id, review });
      return [200, applicationState(updated)];
    },
  }),
];

/** Mounts the onboarding area with this node's application throttles. */
export function onboardingRoutes(ctx: Omit<OnboardingRoutesDeps, 'throttles'>): Router {
  const limits = ctx.config.limits.applications;
  const clock = ctx.deps.clock;
  const throttles = {
    byKey: new WindowLimiter({ limit: limits.perKey, windowMs: limits.windowMs, clock }),
    byAddress: new WindowLimiter({ limit: limits.perAddress, windowMs: limits.windowMs, clock }),
    refusalsByAddress: new WindowLimiter({ limit: limits.refusalsPerAddress, windowMs: limits.windowMs, clock }),
  };
  return mountTable({ ...ctx, throttles }, ONBOARDING_ROUTES);
}
