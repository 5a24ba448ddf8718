import type { Request, Router } from 'express';
import { parseIdentifier } from '@cpnet/identifier';
import {
  Job,
  JobBatchAnswer,
  JobListQuery,
  JobPage,
  MeteringQuery,
  MeteringReport,
  MeteringSummary,
  ROUTES,
  SelectionAnswer,
  SelectionRequest,
  SubmitJob,
  SubmitJobBatch,
  ERROR_CODES,
  checkTemplateExt,
  type WireError,
} from '@cpnet/protocol';
import type { AccessRequest } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import type { Caller } from '../http/authenticate.ts';
import { fail, HttpError } from '../http/http-error.ts';
import { audited, authorize, type RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import type { SchedulingRoutesDeps } from './route-deps.ts';
import { jobView, tenantKey } from './job-machine.ts';
import { NeverPlaceable, QuotaExceeded, type SchedulingService } from './service.ts';
import { SCHEDULING_PEER_ROUTES } from './peer-routes.ts';

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

/**
 * The tenant a read is limited to: a tenant reads only its own (403 naming `tenant` when it names another); anyone
 * else needs `read` on `resource` and may name a tenant or none.
 */
async function tenantScope(
  ctx: Pick<NodeContext, 'audit' | 'events' | 'policy'>,
  caller: Caller,
  o: { tenant: string | undefined; what: string; resource: AccessRequest['resource']; requestId: string },
): Promise<string | undefined> {
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

export type { SchedulingRoutesDeps } from './route-deps.ts';

const route = defineRoute<SchedulingRoutesDeps>();

const JOB_PARAM = {
  id: {
    description:
      'The job identifier (kind JB); its `/` is percent-encoded in the URL as `%2F` (`CPN.51%2FJB-…`). The raw-`/` ' +
      'form (`/cpn/v1/jobs/CPN.51/JB-…`) is an alias the node answers the same.',
  },
};

/** Scheduling routes: selections, jobs, metering, and the node-to-node placement protocol. */
export const SCHEDULING_ROUTE_TABLE: RouteTable<SchedulingRoutesDeps> = [
  route({
    operationId: 'select',
    method: 'post',
    path: ROUTES.selections,
    tag: 'scheduling',
    summary: 'Compute selection (算力选择), dry run: ranked candidates and every exclusion',
    description:
      'Escalated across the hierarchy when this subtree has no candidate. The template’s typed extensions ' +
      '`ext.data` (components.schemas.TemplateData) and `ext.locality` (TemplateLocality) are checked: a bad value ' +
      'is a 400 naming it (`template.ext.data.inputGib`).',
    auth: 'required',
    body: SelectionRequest,
    responses: { 200: { description: 'Ranked candidates and exclusions', schema: SelectionAnswer } },
    access: { action: 'run', resource: 'selection', rule: 'the policy: `run` on a selection here' },
    audit: 'none (a dry run changes nothing)',
    authorize: ({ env, caller }) => ({
      principal: caller!.principal,
      action: 'run',
      resource: { type: 'selection', prefix: env.config.code },
    }),
    handle: async ({ env, body: input }) => {
      const bad = checkTemplateExt(input.template);
      if (bad) fail('SCHEMA_VIOLATION', bad.message, bad.field);
      await env.settled();
      return [200, await env.service.select(input.template, input.topK)];
    },
  }),
  route({
    operationId: 'submitJob',
    method: 'post',
    path: ROUTES.jobs,
    tag: 'scheduling',
    summary: 'Submit a job (tenant): placed locally or escalated, answered once dispatched or queued',
    description:
      'A person submits for its own account; a node may name the tenant in the template. The body’s ' +
      '`idempotencyKey` (or the Idempotency-Key header) is answered once. The template’s typed extensions ' +
      '`ext.data` (input data: components.schemas.TemplateData) and `ext.locality` (gang locality, spread, ' +
      'affinity groups: TemplateLocality) are checked: a bad value is a 400 naming it (`template.ext.data.inputGib`).',
    auth: 'required',
    body: SubmitJob,
    responses: { 201: { description: 'Accepted: dispatched or queued', schema: Job } },
    errors: {
      403: 'the policy refuses, or this node is suspended or revoked',
      422: "over the tenant's quota, or no cluster in the hierarchy could ever take it",
    },
    access: { action: 'submit', resource: 'job', rule: 'the policy: `submit` on a job owned by the tenant' },
    audit: 'submit',
    audited: (_input, out) => ({ resource: `job:${(out as { id: string }).id}` }),
    authorize: ({ env, caller, body }) => ({
      principal: caller!.principal,
      action: 'submit',
      resource: { type: 'job', prefix: env.config.code, owner: tenantOf(caller!, body.template.tenant) },
    }),
    handle: async ({ env, caller, body: input }) => {
      const tenant = tenantOf(caller!, input.template.tenant);
      // The typed extensions (issue 27): a bad value is a 400 naming `template.ext.data.inputGib`, not a queued job.
      const bad = checkTemplateExt(input.template);
      if (bad) fail('SCHEMA_VIOLATION', bad.message, bad.field);
      if (env.state.lifecycle === 'suspended' || env.state.lifecycle === 'revoked')
        fail('FORBIDDEN', `${env.config.code} is ${env.state.lifecycle}; it accepts no jobs`);
      await env.settled();
      try {
        const job = await env.service.submit({ ...input.template, tenant }, tenant);
        return [201, jobView(job)];
      } catch (e) {
        if (e instanceof QuotaExceeded || e instanceof NeverPlaceable)
          fail('RULE_VIOLATION', e.message, 'template.demand');
        throw e;
      }
    },
  }),
  route({
    operationId: 'submitJobs',
    method: 'post',
    path: ROUTES.jobBatches,
    tag: 'scheduling',
    summary: 'Submit many jobs in one request (tenant): each as POST /cpn/v1/jobs takes it, answered together',
    description:
      'Each job is checked, authorised, placed and audited as `POST /cpn/v1/jobs` would do it; the request is one ' +
      'signature or token check and one answer for up to 100 jobs. Everything that makes the whole request wrong ' +
      'is answered first and submits nothing: a bad body or typed extension is a 400 naming the job ' +
      '(`jobs[3].template.ext.data.inputGib`), a tenant the caller may not submit for a 403. Then every job is ' +
      "submitted; the answer lists each job's outcome in the order sent: 201 and the job, or 422 when the job is " +
      "over the tenant's quota or no cluster in the hierarchy could ever take it (its `field` names the job). The " +
      'batch\u2019s `idempotencyKey` (or the Idempotency-Key header) is answered once.',
    auth: 'required',
    body: SubmitJobBatch,
    responses: { 200: { description: "Each job's outcome, in the order sent", schema: JobBatchAnswer } },
    errors: {
      403: 'the policy refuses a job of the batch (none is submitted), or this node is suspended or revoked',
    },
    access: { action: 'submit', resource: 'job', rule: 'the policy: `submit` on a job owned by each tenant named' },
    audit: 'submit (one entry per job accepted)',
    handle: async ({ env, caller, body: input, requestId }) => {
      const tenants = input.jobs.map((j) => tenantOf(caller!, j.template.tenant));
      input.jobs.forEach((j, i) => {
        const bad = checkTemplateExt(j.template);
        if (bad) fail('SCHEMA_VIOLATION', bad.message, `jobs[${i}].${bad.field}`);
      });
      for (const owner of new Set(tenants))
        await authorize(env, {
          request: {
            principal: caller!.principal,
            action: 'submit',
            resource: { type: 'job', prefix: env.config.code, owner },
          },
          requestId,
        });
      if (env.state.lifecycle === 'suspended' || env.state.lifecycle === 'revoked')
        fail('FORBIDDEN', `${env.config.code} is ${env.state.lifecycle}; it accepts no jobs`);
      await env.settled();
      // All at once: the node's group commit and placement batches take them together, as concurrent requests.
      const outcomes = await Promise.allSettled(
        input.jobs.map((j, i) => env.service.submit({ ...j.template, tenant: tenants[i]! }, tenants[i]!)),
      );
      type Item = { status: 201; job: ReturnType<typeof jobView> } | { status: number; error: WireError };
      const items = outcomes.map((o, i): Item => {
        if (o.status === 'fulfilled') return { status: 201, job: jobView(o.value) };
        const e: unknown = o.reason;
        if (e instanceof QuotaExceeded || e instanceof NeverPlaceable)
          return {
            status: 422,
            error: { code: 'RULE_VIOLATION', message: e.message, field: `jobs[${i}].template.demand` },
          };
        // Nothing else is expected of a submission; the jobs accepted beside it must still be answered.
        env.deps.logger.error({ err: e, job: i, requestId }, 'a job of a batch failed');
        const code = e instanceof HttpError ? e.code : 'INTERNAL';
        const message = e instanceof HttpError ? e.message : 'the node failed to take this job; submit it again';
        return { status: ERROR_CODES[code].status, error: { code, message, field: `jobs[${i}]` } };
      });
      // One audit entry per job accepted, as its own submission would have: in the order sent, in one group commit.
      await Promise.all(
        items.map((item) =>
          'job' in item
            ? audited(env, { who: caller!.who, action: 'submit', resource: `job:${item.job.id}`, requestId })
            : undefined,
        ),
      );
      return [200, { items }];
    },
  }),
  route({
    operationId: 'listJobs',
    method: 'get',
    path: ROUTES.jobs,
    tag: 'scheduling',
    summary: 'The jobs submitted here, in identifier order (paged)',
    description:
      'A tenant sees its own (403 naming `tenant` for another’s); others need `read` on jobs and may filter by ' +
      '`tenant`. `next` is the identifier of the last job of the page: pass it back as `cursor` with the same ' +
      'filter; null on the last page.',
    auth: 'required',
    query: JobListQuery,
    responses: { 200: { description: 'A page of jobs', schema: JobPage } },
    errors: { 403: 'a tenant naming another tenant, or the policy refuses' },
    access: { action: 'read', resource: 'job', rule: 'a tenant: its own; anyone else: the policy, `read` on jobs' },
    handle: async ({ env, res, caller, query: q }) => {
      const tenant = await tenantScope(env, caller!, {
        tenant: q.tenant,
        what: 'lists only its own jobs',
        resource: { type: 'job', prefix: env.config.code, ...(q.tenant ? { owner: q.tenant } : {}) },
        requestId: String(res.locals.requestId ?? '-'),
      });
      // One more than asked tells whether another page follows.
      const jobs = await env.service.list({ tenant, after: q.cursor, limit: q.limit + 1 });
      const items = jobs.slice(0, q.limit);
      return [200, { items: items.map(jobView), next: jobs.length > q.limit ? items.at(-1)!.id : null }];
    },
  }),
  route({
    operationId: 'getJob',
    method: 'get',
    path: `${ROUTES.jobs}/{id}`,
    expressPath: `${JOB_BASE}*id`,
    tag: 'scheduling',
    summary: 'A job with its history',
    auth: 'required',
    pathParams: JOB_PARAM,
    responses: { 200: { description: 'The job', schema: Job } },
    errors: { 404: 'no such job here' },
    access: {
      action: 'read',
      resource: 'job',
      rule: 'the policy: `read` on the job (its tenant, its nodes, operators)',
    },
    handle: async ({ env, req, res, caller }) => {
      const id = jobParam(req);
      const job = env.service.job(id) ?? ((await env.db.jobs.has(id)) ? await env.service.stored(id) : null);
      if (!job) fail('NOT_FOUND', `no job ${id} at ${env.config.code}`);
      await authorize(env, {
        request: {
          principal: caller!.principal,
          action: 'read',
          resource: { type: 'job', prefix: env.config.code, owner: job.tenant, ownerNode: job.origin },
        },
        requestId: String(res.locals.requestId ?? '-'),
      });
      return [200, jobView(job)];
    },
  }),
  route({
    operationId: 'cancelJob',
    method: 'delete',
    path: `${ROUTES.jobs}/{id}`,
    expressPath: `${JOB_BASE}*id`,
    tag: 'scheduling',
    summary: 'Cancel a job (idempotent for the same Idempotency-Key)',
    auth: 'required',
    pathParams: JOB_PARAM,
    responses: { 200: { description: 'The cancelled job', schema: Job } },
    errors: { 404: 'no such job here', 409: 'the job already finished' },
    access: { action: 'cancel', resource: 'job', rule: 'the policy: `cancel` on the job' },
    audit: 'cancel',
    audited: ({ req }) => ({ resource: `job:${jobParam(req)}` }),
    authorize: async ({ env, req, caller }) => {
      const id = jobParam(req);
      const held = env.service.job(id) ?? (await env.service.stored(id));
      if (!held) fail('NOT_FOUND', `no job ${id} at ${env.config.code}`);
      return {
        principal: caller!.principal,
        action: 'cancel',
        resource: { type: 'job', prefix: env.config.code, owner: held.tenant, ownerNode: held.origin },
      };
    },
    handle: async ({ env, req, caller }) => {
      const id = jobParam(req);
      const job = await env.service.cancel(id, caller!.who);
      if (!job) fail('NOT_FOUND', `no job ${id} at ${env.config.code}`);
      if (job.state !== 'cancelled') fail('CONFLICT', `job ${id} is already ${job.state}`, 'id');
      return [200, jobView(job)];
    },
  }),
  route({
    operationId: 'metering',
    method: 'get',
    path: ROUTES.metering,
    tag: 'scheduling',
    summary: "Metering (计量统计) lines and totals per tenant and provider, with children's totals",
    description: 'A tenant reads its own; a bare account in `tenant` means one of this node’s (`account@node`).',
    auth: 'required',
    query: MeteringQuery,
    responses: { 200: { description: 'The metering report', schema: MeteringReport } },
    errors: { 403: 'a tenant naming another tenant, or the policy refuses' },
    access: {
      action: 'read',
      resource: 'metrics',
      rule: 'a tenant: its own; anyone else: the policy, `read` on metrics',
    },
    handle: async ({ env, res, caller, query: q }) => {
      q.tenant = await tenantScope(env, caller!, {
        tenant: q.tenant,
        what: 'reads only its own metering',
        resource: { type: 'metrics', prefix: env.config.code },
        requestId: String(res.locals.requestId ?? '-'),
      });
      // Metering names a tenant by the pair `account@node`: a bare account means one of this node's accounts.
      if (q.tenant !== undefined && !q.tenant.includes('@')) q.tenant = tenantKey(env.config.code, q.tenant);
      const m = await env.service.metering(q);
      const children = (await env.db.jobs.childMetering()).map((summary) => MeteringSummary.parse(JSON.parse(summary)));
      return [200, { node: env.config.code, lines: m.lines, totals: m.totals, children }];
    },
  }),
  ...SCHEDULING_PEER_ROUTES,
];

/** Mounts the scheduling area. */
export function schedulingRoutes(
  ctx: RouteDeps,
  deps: { service: SchedulingService; settled: () => Promise<void> },
): Router {
  return mountTable({ ...ctx, ...deps }, SCHEDULING_ROUTE_TABLE);
}
