import type { Router } from 'express';
import {
  ApplicationChecks,
  ApplicationChecksQuery,
  AttachmentDownload,
  AttachmentStored,
  AttachmentUpload,
  ChainState,
  ChainStepInput,
  DisqualifiedList,
  Dossier,
  DossierState,
  formatTime,
  NodeRole,
  PublicityList,
} from '@cpnet/protocol';
import { checkNetworkRules, NETWORK_RULES, sampleDossier, type Actor } from '@cpnet/guide';
import type { Principal } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import type { RouteDeps } from '../http/write-route.ts';
import type { Caller } from '../http/authenticate.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import { importPublicKey } from '../identity.ts';
import type { ApplicationRow } from '../store/applications.ts';
import {
  attachmentBodyLimit,
  chainState,
  dossierState,
  publicity,
  putDossier,
  requireGuide,
  storeAttachment,
  takeStep,
} from '../onboarding/dossier.ts';

/** What `dossierRoutes` uses of the node. */
type DossierRoutesDeps = RouteDeps & Pick<NodeContext, 'clientFor' | 'outbox' | 'serials'>;

const route = defineRoute<DossierRoutesDeps>();

const APP_PARAM = { id: { description: 'The application id this node gave it (`APP-…`)' } };

/** The people who review under a guide. */
const REVIEW_ROLES = new Set(['reviewer', 'city-reviewer', 'provincial-reviewer', 'expert']);

/** The applicant (its own key), an active reviewer of any stage, or this node itself. */
function mayRead(env: Pick<NodeContext, 'config'>, p: Principal, row: ApplicationRow): boolean {
  if (p.status !== 'active') return false;
  if (p.kind === 'node') return p.id === row.applicant || p.id === env.config.code;
  return p.kind === 'person' && p.role !== undefined && REVIEW_ROLES.has(p.role);
}

async function rowOf(env: Pick<NodeContext, 'db'>, id: string): Promise<ApplicationRow> {
  const row = await env.db.applications.byId(id);
  if (!row) fail('NOT_FOUND', `no application ${id}`);
  return row;
}

/** The applicant may sign with the key it applied with (keyid = its prefix). */
async function applicantKey(env: Pick<NodeContext, 'db'>, id: string) {
  const row = await env.db.applications.byId(id);
  if (!row) return undefined;
  return (keyid: string) =>
    keyid === row.applicant ? importPublicKey((JSON.parse(row.body) as { publicKey: string }).publicKey) : null;
}

async function actorOf(env: Pick<NodeContext, 'db'>, caller: Caller, row: ApplicationRow): Promise<Actor> {
  const p = caller.principal;
  if (p.kind === 'node' && p.id === row.applicant) return { id: p.id, kind: 'applicant', role: null, agency: null };
  if (p.kind === 'person') {
    const account = await env.db.accounts.byId(p.id);
    return { id: p.id, kind: 'person', role: p.role ?? null, agency: account?.agency ?? null };
  }
  return { id: p.id, kind: 'other', role: null, agency: null };
}

const readerKey = (env: DossierRoutesDeps, req: { params: Record<string, unknown> }) =>
  applicantKey(env, String(req.params.id));

/** Dossiers (申报书, 建设方案, attachments) and the guide's review chain. */
export const DOSSIER_ROUTES: RouteTable<DossierRoutesDeps> = [
  route({
    operationId: 'uploadAttachment',
    method: 'post',
    path: '/cpn/v1/applications/{id}/attachments',
    tag: 'dossiers',
    summary: 'Upload an attachment (法人证明, 资金实力证明, 电信业务经营许可 …), stored by its SHA-256 digest',
    description:
      'Its own body limit: the guide’s largest file base64-encoded. The kind’s media types and size come from the ' +
      'guide; the first bytes must match the media type.',
    auth: 'required',
    pathParams: APP_PARAM,
    body: AttachmentUpload,
    bodyLimitBytes: attachmentBodyLimit,
    readerKey,
    responses: { 201: { description: 'Stored', schema: AttachmentStored } },
    errors: {
      403: 'not the applicant',
      404: 'no such application',
      409: 'no guide here, or the application is under review (materials frozen)',
      413: 'over the guide’s limit for this kind',
      422: 'a kind the guide does not ask for, or the wrong media type',
    },
    access: { rule: "the applicant's own key" },
    audit: 'attach',
    audited: ({ req }) => ({ resource: `application:${String(req.params.id)}` }),
    handle: async ({ env, req, caller, body }) => {
      const row = await rowOf(env, String(req.params.id));
      if (caller!.principal.id !== row.applicant) fail('FORBIDDEN', `only ${row.applicant} uploads its attachments`);
      return [201, await storeAttachment(env, { row, upload: body })];
    },
  }),
  route({
    operationId: 'getAttachment',
    method: 'get',
    path: '/cpn/v1/applications/{id}/attachments/{sha256}',
    tag: 'dossiers',
    summary: 'An attachment with its bytes',
    auth: 'required',
    pathParams: { ...APP_PARAM, sha256: { description: 'its SHA-256, 64 hex characters' } },
    readerKey,
    responses: { 200: { description: 'The attachment', schema: AttachmentDownload } },
    errors: { 403: 'neither the applicant nor a reviewer', 404: 'no such application or attachment' },
    access: { rule: 'the applicant (its own key), reviewers of any stage, this node' },
    handle: async ({ env, req, caller }) => {
      const row = await rowOf(env, String(req.params.id));
      if (!mayRead(env, caller!.principal, row))
        fail('FORBIDDEN', `${caller!.who} may not read the attachments of ${row.id}`);
      const a = await env.db.dossiers.attachment(row.id, String(req.params.sha256));
      if (!a) fail('NOT_FOUND', `no attachment ${String(req.params.sha256)} in ${row.id}`);
      const { content, applicationId: _a, at, kind, ...meta } = a;
      void _a;
      const out = { ...meta, kind: kind as AttachmentStored['kind'], at: formatTime(at.getTime()) };
      return [200, { ...out, contentBase64: Buffer.from(content).toString('base64') }];
    },
  }),
  route({
    operationId: 'putDossier',
    method: 'put',
    path: '/cpn/v1/applications/{id}/dossier',
    tag: 'dossiers',
    summary: 'Submit (or replace, before review begins) the dossier: 申报书, 节点建设方案, attachment manifest',
    description:
      'Checked against every rule of the node’s guide; a 422 lists every reason (Chinese, or English with ' +
      '`?lang=en`). Each attachment listed must have been uploaded with that digest.',
    auth: 'required',
    pathParams: APP_PARAM,
    body: Dossier,
    readerKey,
    responses: { 200: { description: 'Stored', schema: DossierState } },
    errors: {
      403: 'not the applicant',
      404: 'no such application',
      409: 'no guide here, or the review has begun',
      422: 'a broken rule of the guide (every reason listed), or applications are closed',
    },
    access: { rule: "the applicant's own key" },
    audit: 'dossier',
    audited: ({ req }) => ({ resource: `application:${String(req.params.id)}` }),
    handle: async ({ env, req, caller, body }) => {
      const row = await rowOf(env, String(req.params.id));
      if (caller!.principal.id !== row.applicant) fail('FORBIDDEN', `only ${row.applicant} submits its dossier`);
      const lang = req.query.lang === 'en' ? 'en' : 'zh';
      return [200, await putDossier(env, { row, dossier: body, lang })];
    },
  }),
  route({
    operationId: 'getDossier',
    method: 'get',
    path: '/cpn/v1/applications/{id}/dossier',
    tag: 'dossiers',
    summary: 'The dossier, for the applicant and its reviewers',
    auth: 'required',
    pathParams: APP_PARAM,
    readerKey,
    responses: { 200: { description: 'The dossier', schema: DossierState } },
    errors: { 403: 'neither the applicant nor a reviewer', 404: 'no such application or no dossier yet' },
    access: { rule: 'the applicant (its own key), reviewers of any stage, this node' },
    handle: async ({ env, req, caller }) => {
      const row = await rowOf(env, String(req.params.id));
      if (!mayRead(env, caller!.principal, row))
        fail('FORBIDDEN', `${caller!.who} may not read the dossier of ${row.id}`);
      const state = await dossierState(env, row);
      if (!state) fail('NOT_FOUND', `application ${row.id} has no dossier yet`);
      return [200, state];
    },
  }),
  route({
    operationId: 'getChain',
    method: 'get',
    path: '/cpn/v1/applications/{id}/chain',
    tag: 'dossiers',
    summary: 'The review chain: signed steps and the stage the application waits in',
    auth: 'required',
    pathParams: APP_PARAM,
    readerKey,
    responses: { 200: { description: 'The chain', schema: ChainState } },
    errors: { 403: 'neither the applicant nor a reviewer', 404: 'no such application', 409: 'no guide here' },
    access: { rule: 'the applicant (its own key), reviewers of any stage, this node' },
    handle: async ({ env, req, caller }) => {
      const row = await rowOf(env, String(req.params.id));
      if (!mayRead(env, caller!.principal, row))
        fail('FORBIDDEN', `${caller!.who} may not read the chain of ${row.id}`);
      return [200, await chainState(env, row)];
    },
  }),
  route({
    operationId: 'takeChainStep',
    method: 'post',
    path: '/cpn/v1/applications/{id}/chain',
    tag: 'dossiers',
    summary: 'Take a step of the review chain (初审推荐, 联合复审, 上报, 专家评审, 公示 and objections, 名单)',
    description:
      'Refused, naming the rule or field, unless the guide allows it now: the stage the application waits in, the ' +
      'account role and agency of that stage, inside its window (逾期不再受理), one opinion per agency, one score per ' +
      'expert. Objections are open to anyone signed in while 公示 runs; the applicant (its own key) or a reviewer ' +
      'answers. Each step is signed by this node and audited.',
    auth: 'required',
    pathParams: APP_PARAM,
    body: ChainStepInput,
    readerKey,
    responses: { 200: { description: 'The chain after the step', schema: ChainState } },
    errors: {
      403: 'the wrong role or agency for the stage',
      404: 'no such application',
      409: 'no guide, no dossier, not this stage, ended, or a second opinion by the same agency',
      422: 'outside the stage’s window, or a malformed step',
      503: 'the 上报 could not be forwarded to the national node',
    },
    access: { rule: 'the role and agency the guide names for the stage; anyone signed in may object during 公示' },
    audit: 'chain',
    audited: ({ req, body }) => ({
      action: `chain:${body.stage}:${body.action}`,
      resource: `application:${String(req.params.id)}`,
    }),
    handle: async ({ env, req, caller, body }) => {
      const row = await rowOf(env, String(req.params.id));
      if (caller!.principal.status !== 'active') fail('FORBIDDEN', `${caller!.who} is ${caller!.principal.status}`);
      const actor = await actorOf(env, caller!, row);
      return [200, await takeStep(env, { row, actor, step: body })];
    },
  }),
  route({
    operationId: 'checkApplicationRules',
    method: 'get',
    path: '/cpn/v1/application-checks',
    tag: 'dossiers',
    summary: 'The guide’s rules that need a node (one per province, one per 中类, disqualifications), for a dossier',
    auth: 'none',
    query: ApplicationChecksQuery,
    responses: { 200: { description: 'What broke, if anything', schema: ApplicationChecks } },
    errors: { 409: 'no guide here' },
    handle: async ({ env, query }) => {
      const guide = requireGuide(env);
      const d = sampleDossier(guide, { role: query.role, ...(query.industry ? { industry: query.industry } : {}) });
      const codes = query.creditCodes.split(',').map((c) => c.trim().toUpperCase());
      d.declaration.region = query.region;
      d.declaration.industry = query.role === 'industry' ? (query.industry ?? null) : null;
      d.declaration.consortium = {
        members: codes.map((creditCode) => ({ name: '', creditCode, duty: '' })),
      };
      const apps = await env.db.applications.notRejected();
      const peers = await env.db.peers.list({ relations: ['child', 'descendant'] });
      const known = [
        ...apps.map((a) => ({ prefix: a.applicant, role: a.role, region: a.region, industry: a.industry })),
        ...peers.map((p) => {
          const [, region = '', industry = null] = p.prefix.split('.');
          return { prefix: p.prefix, role: p.role, region, industry };
        }),
      ].filter(
        (k): k is { prefix: string; role: 'regional' | 'industry'; region: string; industry: string | null } =>
          NodeRole.exclude(['national']).safeParse(k.role).success,
      );
      const unique = [...new Map(known.map((k) => [k.prefix, k])).values()];
      const disqualified = (await env.db.dossiers.disqualified()).map((x) => x.creditCode);
      const reasons = checkNetworkRules(d, { guide, known: unique, disqualified, lang: query.lang });
      return [200, { guide: guide.id, checked: [...NETWORK_RULES], reasons }];
    },
  }),
  route({
    operationId: 'listPublicity',
    method: 'get',
    path: '/cpn/v1/publicity',
    tag: 'dossiers',
    summary: 'Applications in 公示 (with its end and objections) and the published list (公布入选节点名单)',
    auth: 'none',
    responses: { 200: { description: 'In 公示 or listed', schema: PublicityList } },
    errors: { 409: 'no guide here' },
    handle: async ({ env }) => [200, await publicity(env)],
  }),
  route({
    operationId: 'listDisqualified',
    method: 'get',
    path: '/cpn/v1/disqualified',
    tag: 'dossiers',
    summary: 'Credit codes disqualified for false materials (取消申报资格，不得再次申报)',
    auth: 'none',
    responses: { 200: { description: 'The list', schema: DisqualifiedList } },
    handle: async ({ env }) => {
      const rows = await env.db.dossiers.disqualified();
      return [
        200,
        {
          items: rows.map((r) => ({
            creditCode: r.creditCode,
            application: r.applicationId,
            at: formatTime(r.at.getTime()),
            reason: r.reason,
          })),
        },
      ];
    },
  }),
];

/** Mounts the dossier area. */
export function dossierRoutes(ctx: DossierRoutesDeps): Router {
  return mountTable(ctx, DOSSIER_ROUTES);
}
