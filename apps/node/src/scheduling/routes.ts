import { Router, type Request } from 'express';
import { parseIdentifier } from '@cpnet/identifier';
import {
  JobCancelRelay,
  JobListQuery,
  JobRelayBody,
  MeteringQuery,
  MeteringSummary,
  PlacementBody,
  ROUTES,
  SCHEDULING_ROUTES,
  SchedulingSummary,
  SelectionRelay,
  SelectionRequest,
  SubmitJob,
} from '@cpnet/protocol';
import type { AccessRequest } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { authenticate, hasCredentials, type Caller } from '../http/authenticate.ts';
import { parseWith } from '../http/body.ts';
import { fail } from '../http/http-error.ts';
import { peerRow } from '../http/principal.ts';
import { audited, authorize, writeRoute, type RouteDeps } from '../http/write-route.ts';
import { jobView, tenantKey, type JobRecord } from './job-machine.ts';
import { NeverPlaceable, QuotaExceeded, type SchedulingService } from './service.ts';

const JOB_BASE = `${ROUTES.jobs}/`;

function jobParam(req: Request): string {
  let text: string;
  try {
    text = decodeURIComponent((req.originalUrl.split('?')[0] ?? '').slice(JOB_BASE.length));
  } catch {
    fail('INVALID_IDENTIFIER', 'the job identifier in the URL is not valid percent-encoding', 'id');
  }
  const p = parseIdentifier(text);
  if (!p.ok)
    fail('INVALID_IDENTIFIER', `${p.error.segment}: ${p.error.message}; expected ${p.error.expected}`, p.error.segment);
  if (p.value.kind !== 'JB')
    fail('INVALID_IDENTIFIER', `${p.value.id} is a ${p.value.kind} identifier, not a job (JB)`, 'id');
  return p.value.id;
}

async function reader(
  ctx: Pick<
    NodeContext,
    'accounts' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'nonceStore' | 'state'
  >,
  req: Request,
): Promise<Caller> {
  if (!hasCredentials(req)) fail('UNAUTHENTICATED', 'reading jobs and metering needs a signature or an API token');
  return authenticate(ctx, req, { raw: Buffer.alloc(0) });
}

/**
 * The tenant a read is limited to: a tenant reads only its own (403 naming `tenant` when it names another); anyone
 * else needs `read` on `resource` and may name a tenant or none.
 */
async function tenantScope(
  ctx: Pick<
    NodeContext,
    | 'accounts'
    | 'audit'
    | 'config'
    | 'db'
    | 'deps'
    | 'events'
    | 'identity'
    | 'metrics'
    | 'nonceStore'
    | 'policy'
    | 'state'
  >,
  req: Request,
  o: { tenant: string | undefined; what: string; resource: AccessRequest['resource']; requestId: string },
): Promise<string | undefined> {
  const caller = await reader(ctx, req);
  if (caller.principal.kind === 'person' && caller.principal.role === 'tenant') {
    if (o.tenant !== undefined && o.tenant !== caller.principal.id)
      fail('FORBIDDEN', `a tenant ${o.what} (${caller.principal.id})`, 'tenant');
    return caller.principal.id;
  }
  await authorize(ctx, {
    request: { principal: caller.principal, action: 'read', resource: o.resource },
    requestId: o.requestId,
  });
  return o.tenant;
}

/** The tenant a caller acts for: a person's account; a node may name one in the template. */
const tenantOf = (caller: Caller, named: string | undefined): string =>
  caller.principal.kind === 'person' ? caller.principal.id : (named ?? caller.principal.id);

/** A peer node calling: the parent or a child of this node, else 403. Returns the resource prefix to authorise. */
async function peerCaller(ctx: Pick<NodeContext, 'config' | 'db'>, caller: Caller): Promise<string> {
  if (caller.principal.kind !== 'node') fail('FORBIDDEN', 'only a parent or child node may call this');
  const peer = peerRow(ctx, caller.principal.id);
  if (!peer || (peer.relation !== 'parent' && peer.relation !== 'child'))
    fail('FORBIDDEN', `${caller.principal.id} is neither the parent nor a child of ${ctx.config.code}`);
  return peer.relation === 'parent' ? ctx.config.code : caller.principal.id;
}

/** What `schedulingRoutes` uses of the node. */
type SchedulingRoutesDeps = RouteDeps;

/** Scheduling routes: selections, jobs, metering, and the node-to-node placement protocol. */
export function schedulingRoutes(
  ctx: SchedulingRoutesDeps,
  deps: { service: SchedulingService; sync: () => Promise<void> },
): Router {
  const { service, sync } = deps;
  const router = Router();
  const view = (j: JobRecord) => jobView(j);

  router.post(
    ROUTES.selections,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const input = parseWith(SelectionRequest, body);
      await authorize(ctx, {
        request: {
          principal: caller.principal,
          action: 'run',
          resource: { type: 'selection', prefix: ctx.config.code },
        },
        requestId,
      });
      await sync();
      return [200, await service.select(input.template, input.topK)];
    }),
  );

  router.post(
    ROUTES.jobs,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const input = parseWith(SubmitJob, body);
      const tenant = tenantOf(caller, input.template.tenant);
      await authorize(ctx, {
        request: {
          principal: caller.principal,
          action: 'submit',
          resource: { type: 'job', prefix: ctx.config.code, owner: tenant },
        },
        requestId,
      });
      if (ctx.state.lifecycle === 'suspended' || ctx.state.lifecycle === 'revoked')
        fail('FORBIDDEN', `${ctx.config.code} is ${ctx.state.lifecycle}; it accepts no jobs`);
      await sync();
      try {
        const job = await service.submit({ ...input.template, tenant }, tenant);
        await audited(ctx, { who: caller.who, action: 'submit', resource: `job:${job.id}`, requestId });
        return [201, view(job)];
      } catch (e) {
        if (e instanceof QuotaExceeded || e instanceof NeverPlaceable)
          fail('RULE_VIOLATION', e.message, 'template.demand');
        throw e;
      }
    }),
  );

  router.get(ROUTES.jobs, async (req, res) => {
    const q = parseWith(JobListQuery, req.query);
    q.tenant = await tenantScope(ctx, req, {
      tenant: q.tenant,
      what: 'lists only its own jobs',
      resource: { type: 'job', prefix: ctx.config.code, ...(q.tenant ? { owner: q.tenant } : {}) },
      requestId: String(res.locals.requestId ?? '-'),
    });
    // One more than asked tells whether another page follows.
    const jobs = await service.list({ tenant: q.tenant, after: q.cursor, limit: q.limit + 1 });
    const items = jobs.slice(0, q.limit);
    res.json({ items: items.map(view), next: jobs.length > q.limit ? items.at(-1)!.id : null });
  });

  router.get(`${JOB_BASE}*id`, async (req, res) => {
    const id = jobParam(req);
    const caller = await reader(ctx, req);
    const job = service.job(id) ?? (ctx.db.jobs.has(id) ? await service.stored(id) : null);
    if (!job) fail('NOT_FOUND', `no job ${id} at ${ctx.config.code}`);
    await authorize(ctx, {
      request: {
        principal: caller.principal,
        action: 'read',
        resource: { type: 'job', prefix: ctx.config.code, owner: job.tenant, ownerNode: job.origin },
      },
      requestId: String(res.locals.requestId ?? '-'),
    });
    res.json(view(job));
  });

  router.delete(
    `${JOB_BASE}*id`,
    writeRoute(ctx, async (req, { caller, requestId }) => {
      const id = jobParam(req);
      const held = service.job(id) ?? (await service.stored(id));
      if (!held) fail('NOT_FOUND', `no job ${id} at ${ctx.config.code}`);
      await authorize(ctx, {
        request: {
          principal: caller.principal,
          action: 'cancel',
          resource: { type: 'job', prefix: ctx.config.code, owner: held.tenant, ownerNode: held.origin },
        },
        requestId,
      });
      const job = await service.cancel(id, caller.who);
      if (!job) fail('NOT_FOUND', `no job ${id} at ${ctx.config.code}`);
      if (job.state !== 'cancelled') fail('CONFLICT', `job ${id} is already ${job.state}`, 'id');
      await audited(ctx, { who: caller.who, action: 'cancel', resource: `job:${id}`, requestId });
      return [200, view(job)];
    }),
  );

  router.get(ROUTES.metering, async (req, res) => {
    const q = parseWith(MeteringQuery, req.query);
    q.tenant = await tenantScope(ctx, req, {
      tenant: q.tenant,
      what: 'reads only its own metering',
      resource: { type: 'metrics', prefix: ctx.config.code },
      requestId: String(res.locals.requestId ?? '-'),
    });
    // Metering names a tenant by the pair `account@node`: a bare account means one of this node's accounts.
    if (q.tenant !== undefined && !q.tenant.includes('@')) q.tenant = tenantKey(ctx.config.code, q.tenant);
    const m = await service.metering(q);
    const children = ctx.db.jobs.childMetering().map((summary) => MeteringSummary.parse(JSON.parse(summary)));
    res.json({ node: ctx.config.code, lines: m.lines, totals: m.totals, children });
  });

  // ── node to node ──
  const peerRoute = <T>(handle: (body: unknown, from: string) => Promise<[number, T]>) =>
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const prefix = await peerCaller(ctx, caller);
      await authorize(ctx, {
        request: { principal: caller.principal, action: 'place', resource: { type: 'job', prefix } },
        requestId,
      });
      return handle(body, caller.principal.id);
    });
  router.post(
    SCHEDULING_ROUTES.placements,
    peerRoute(async (body, from): Promise<[number, unknown]> => {
      const input = parseWith(PlacementBody, body);
      await sync();
      if (!('placements' in input)) return [200, await service.onPlacement(input, from)];
      // Each placement is placed on its own (its own lock and answer); they share the commits of one turn.
      return [200, { answers: await Promise.all(input.placements.map((p) => service.onPlacement(p, from))) }];
    }),
  );
  router.post(
    SCHEDULING_ROUTES.selections,
    peerRoute(async (body) => {
      const req = parseWith(SelectionRelay, body);
      await sync();
      return [200, await service.onSelectionRelay(req)];
    }),
  );
  router.post(
    SCHEDULING_ROUTES.jobUpdates,
    peerRoute(async (body): Promise<[number, { accepted: boolean | boolean[] }]> => {
      const input = parseWith(JobRelayBody, body);
      if (!('relays' in input)) return [200, { accepted: await service.onRelay(input) }];
      // Relays of different jobs apply concurrently (their writes share one commit); one job's keep their order.
      return [200, { accepted: await Promise.all(input.relays.map((r) => service.onRelay(r))) }];
    }),
  );
  router.post(
    SCHEDULING_ROUTES.cancels,
    peerRoute(async (body, from) => [
      200,
      { accepted: await service.onCancelRelay(parseWith(JobCancelRelay, body), from) },
    ]),
  );
  router.post(
    SCHEDULING_ROUTES.summaries,
    peerRoute(async (body, from) => {
      service.onSummary(parseWith(SchedulingSummary, body), from);
      // The answer carries the whole hierarchy's ceiling, so the child can refuse impossible jobs at submission.
      const ceiling = service.hierarchyCeiling();
      return [200, { accepted: true, ...(ceiling ? { ceiling } : {}) }];
    }),
  );
  router.post(
    SCHEDULING_ROUTES.metering,
    peerRoute(async (body, from) => {
      const s = parseWith(MeteringSummary, body);
      // Every child sends its totals every metering interval: the store writes them synchronously (group commit).
      const summary = JSON.stringify({ ...s, node: from });
      await ctx.db.jobs.putChildMetering({ node: from, at: s.at, summary });
      return [200, { accepted: true }];
    }),
  );
  return router;
}
