import { createHash } from 'node:crypto';
import { Router } from 'express';
import {
  Application,
  ForwardedApplication,
  JointDebugRequest,
  JointDebugResult,
  Review,
  ROUTES,
  validate,
} from '@cpnet/protocol';
import { parentPrefix } from '@cpnet/identifier';
import type { NodeContext } from '../context.ts';
import { fail, HttpError } from '../http/http-error.ts';
import { WindowLimiter } from '../http/rate-limit.ts';
import { parseWith } from '../http/body.ts';
import { audited, authorize, writeRoute, type RouteDeps } from '../http/write-route.ts';
import { authenticate, hasCredentials } from '../http/authenticate.ts';
import { importPublicKey } from '../identity.ts';
import { applicantPrefix } from '../onboarding/rules.ts';
import { applicationState, decide, publicApplicationState, receiveApplication } from '../onboarding/review.ts';
import { runChecks } from '../onboarding/checks.ts';
import { learnPeer } from '../links/tls-discovery.ts';
import { setChildLifecycle } from '../onboarding/grant.ts';

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

async function reviewerIds(ctx: Pick<NodeContext, 'db'>): Promise<string[]> {
  return ctx.db.accounts.reviewerIds();
}

/** What `onboardingRoutes` uses of the node. */
type OnboardingRoutesDeps = RouteDeps & Pick<NodeContext, 'cache' | 'clientFor' | 'outbox' | 'serials' | 'tls'>;

/** Applications (申报), reviews (审核), forwarding, and joint debugging (联调). */
export function onboardingRoutes(ctx: OnboardingRoutesDeps): Router {
  const router = Router();
  const limits = ctx.config.limits.applications;
  const clock = ctx.deps.clock;
  const appsByKey = new WindowLimiter({ limit: limits.perKey, windowMs: limits.windowMs, clock });
  const appsByAddress = new WindowLimiter({ limit: limits.perAddress, windowMs: limits.windowMs, clock });
  const refusalsByAddress = new WindowLimiter({ limit: limits.refusalsPerAddress, windowMs: limits.windowMs, clock });
  // The list carries applicants' contact details and organisations: reviewers, operators and nodes only.
  router.get(ROUTES.applications, async (req, res) => {
    if (!hasCredentials(req))
      fail('UNAUTHENTICATED', 'the list of applications needs a reviewer or operator token, or a node signature');
    const caller = await authenticate(ctx, req, { raw: Buffer.alloc(0) });
    const p = caller.principal;
    if (p.kind !== 'node' && !(p.kind === 'person' && (p.role === 'reviewer' || p.role === 'operator')))
      fail('FORBIDDEN', `${caller.who} may not read the applications; reviewers, operators and nodes may`);
    if (p.status !== 'active') fail('FORBIDDEN', `${caller.who} is ${p.status}`);
    const rows = await ctx.db.applications.all();
    res.json({ items: rows.map(applicationState) });
  });
  // Anyone may follow an application's status; its contact person and the reviewers' names and opinions go only to
  // the applicant (signing with the key it applied with), reviewers, operators and nodes.
  router.get(ROUTES.application, async (req, res) => {
    const row = await ctx.db.applications.byId(String(req.params.id));
    if (!row) fail('NOT_FOUND', `no application ${String(req.params.id)}`);
    if (!hasCredentials(req)) return void res.json(publicApplicationState(row));
    const own = (keyid: string) =>
      keyid === row.applicant ? importPublicKey((JSON.parse(row.body) as { publicKey: string }).publicKey) : null;
    const p = (await authenticate(ctx, req, { raw: Buffer.alloc(0), selfKey: own })).principal;
    const full =
      p.status === 'active' &&
      (p.kind === 'node' || (p.kind === 'person' && (p.role === 'reviewer' || p.role === 'operator')));
    res.json(full ? applicationState(row) : publicApplicationState(row));
  });
  router.post(
    ROUTES.applications,
    writeRoute(
      ctx,
      async (req, { caller, body, requestId }) => {
        const app = parseWith(Application, body);
        const applicant = applicantPrefix(app);
        // Anyone can make a key and apply: applications are throttled per key and per address (before anything is
        // stored), refusals per address more tightly (limits.applications).
        const key = createHash('sha256').update(app.publicKey).digest('base64url');
        const address = req.socket.remoteAddress ?? '-';
        appsByKey.check(key, 'applications from this key');
        appsByAddress.check(address, 'applications from this address');
        refusalsByAddress.check(address, 'refused applications from this address');
        if (caller.principal.id !== applicant)
          fail(
            'FORBIDDEN',
            `an application for ${applicant} is signed by that node's own key (keyid ${applicant}), not ${caller.principal.id}`,
          );
        if (parentPrefix(applicant) !== ctx.config.code)
          fail(
            'RULE_VIOLATION',
            `${applicant} applies to ${parentPrefix(applicant)}, not to ${ctx.config.code}`,
            app.role === 'industry' ? 'region' : 'role',
          );
        if (ctx.config.role === 'industry') fail('FORBIDDEN', 'an industry node takes no node applications');
        await audited(ctx, { who: caller.who, action: 'apply', resource: `application:${applicant}`, requestId });
        let received: Awaited<ReturnType<typeof receiveApplication>>;
        try {
          received = await receiveApplication(ctx, { app });
        } catch (e) {
          if (e instanceof HttpError && (e.code === 'RULE_VIOLATION' || e.code === 'DEADLINE_PASSED')) {
            appsByKey.hit(key);
            refusalsByAddress.hit(address);
          }
          throw e;
        }
        const [status, row] = received;
        // 200 is the same applicant asking again: nothing new was stored.
        if (status === 201) {
          appsByKey.hit(key);
          appsByAddress.hit(address);
        }
        return [status, applicationState(row)];
      },
      { selfKey: applicantKey },
    ),
  );
  router.post(
    `${ROUTES.applications}/forwarded`,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const fwd = parseWith(ForwardedApplication, body);
      if (ctx.config.role !== 'national') fail('FORBIDDEN', 'only the national node takes forwarded applications');
      const peer = await ctx.db.peers.byPrefix(caller.principal.id);
      if (
        caller.principal.kind !== 'node' ||
        peer?.relation !== 'child' ||
        parentPrefix(fwd.applicant) !== caller.principal.id
      )
        fail('FORBIDDEN', `${caller.principal.id} may forward only applications of its own industry nodes`);
      if (applicantPrefix(fwd.application) !== fwd.applicant)
        fail('SCHEMA_VIOLATION', 'applicant does not match the application', 'applicant');
      await audited(ctx, { who: caller.who, action: 'forward', resource: `application:${fwd.applicant}`, requestId });
      const [status, row] = await receiveApplication(ctx, {
        app: fwd.application,
        forwarded: { by: caller.principal.id, originId: fwd.originId, opinion: fwd.opinion },
      });
      return [status, applicationState(row)];
    }),
  );
  router.post(
    ROUTES.reviews,
    writeRoute(ctx, async (req, { caller, body, requestId }) => {
      const review = parseWith(Review, body);
      const row = await ctx.db.applications.byId(String(req.params.id));
      if (!row) fail('NOT_FOUND', `no application ${String(req.params.id)}`);
      await authorize(ctx, {
        request: {
          principal: caller.principal,
          action: 'review',
          resource: {
            type: 'application',
            prefix: ctx.config.code,
            id: row.id,
            routedTo: row.routedTo,
            reviewers: await reviewerIds(ctx),
          },
        },
        requestId,
      });
      const updated = await decide(ctx, { row, by: caller.principal.id, review });
      await audited(ctx, {
        who: caller.who,
        action: `review:${review.decision}`,
        resource: `application:${row.id}`,
        requestId,
      });
      return [200, applicationState(updated)];
    }),
  );
  router.get(ROUTES.jointDebug, async (_req, res) => {
    const rows = await ctx.db.jointDebug.all();
    res.json({ items: rows.map((r) => JSON.parse(r.result) as unknown) });
  });
  router.post(
    `${ROUTES.jointDebug}/echo`,
    writeRoute(ctx, async (_req, { caller, requestId }) => {
      if (caller.principal.kind !== 'node') fail('FORBIDDEN', 'the echo is for nodes');
      await audited(ctx, { who: caller.who, action: 'echo', resource: `node:${ctx.config.code}`, requestId });
      return [200, { ok: true, by: caller.principal.id }];
    }),
  );
  router.post(
    ROUTES.jointDebug,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const request = parseWith(JointDebugRequest, body);
      const peer = await ctx.db.peers.byPrefix(caller.principal.id);
      if (!peer || !['child', 'descendant'].includes(peer.relation) || request.target !== caller.principal.id)
        fail('FORBIDDEN', `${caller.principal.id} is not an approved node below ${ctx.config.code}`);
      if (!['approved', 'joint-debugging', 'accepted', 'online'].includes(peer.lifecycle))
        fail('FORBIDDEN', `${peer.prefix} is ${peer.lifecycle}`);
      const theirs = request.result === undefined ? null : validate(JointDebugResult, request.result);
      if (theirs && theirs.ok) {
        await ctx.db.jointDebug.add({
          target: ctx.config.code,
          by: peer.prefix,
          listVersion: theirs.value.listVersion,
          passed: theirs.value.passed,
          result: JSON.stringify(theirs.value),
          at: theirs.value.at,
        });
      }
      await learnPeer(ctx, peer);
      const result = await runChecks(ctx, { prefix: peer.prefix, endpoint: peer.endpoint });
      let lifecycle = peer.lifecycle;
      if (peer.relation === 'child' && result.passed && theirs?.ok && theirs.value.passed) {
        await setChildLifecycle(ctx, { prefix: peer.prefix, lifecycle: 'accepted' });
        await setChildLifecycle(ctx, { prefix: peer.prefix, lifecycle: 'online' });
        lifecycle = 'online';
      } else if (peer.relation === 'child') {
        await setChildLifecycle(ctx, { prefix: peer.prefix, lifecycle: 'joint-debugging' });
        lifecycle = 'joint-debugging';
      }
      await audited(ctx, { who: caller.who, action: 'joint-debug', resource: `node:${peer.prefix}`, requestId });
      return [200, { result, lifecycle }];
    }),
  );
  return router;
}
