import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createClient, type NodeClient } from '@cpnet/client';
import { loadGuide, sampleDossier, type Guide } from '@cpnet/guide';
import type { ApplicationState, ChainStepInput } from '@cpnet/protocol';
import type { Action, Expectation } from '../scenario/schema.ts';
import type { RunContext } from './context.ts';
import { codeOfApplication, nodeOf, parentCode } from './actions.ts';

/** The file of a guide in the repository's guides/ folder (`sichuan-2026` → guides/sichuan-2026.yaml). */
export function guidePath(id: string): string {
  return fileURLToPath(new URL(`../../../guides/${id}.yaml`, import.meta.url));
}

const guides = new Map<string, Guide>();
function guideOf(ctx: RunContext): Guide {
  const id = ctx.scenario.topology.guide;
  if (!id) throw new Error('this step needs topology.guide (e.g. sichuan-2026)');
  let g = guides.get(id);
  if (!g) {
    const r = loadGuide(parse(readFileSync(guidePath(id), 'utf8')));
    if (!r.ok) throw new Error(`guide ${id}: ${r.error}`);
    guides.set(id, (g = r.value));
  }
  return g;
}

/** Where a node's application is held now: its parent, or the national node once reported (上报). */
async function holderOf(ctx: RunContext, code: string): Promise<{ holder: string; app: ApplicationState }> {
  const parent = parentCode(code);
  if (!parent) throw new Error('the national node does not apply');
  const find = async (at: string) => {
    const r = await nodeOf(ctx, at).self().applications();
    if (!r.ok) throw new Error(`cannot list applications at ${at}: ${r.error.message}`);
    const mine = r.value.items.filter((a) => codeOfApplication(a.application) === code);
    return mine.find((a) => a.status !== 'rejected') ?? mine[mine.length - 1];
  };
  const app = await find(parent);
  if (!app) throw new Error(`no application of ${code} at ${parent}`);
  if (app.ext?.routedTo && app.ext.routedTo !== parent) {
    const there = await find(app.ext.routedTo);
    if (there) return { holder: app.ext.routedTo, app: there };
  }
  return { holder: parent, app };
}

const applicantClient = (ctx: RunContext, code: string, at: string): NodeClient =>
  createClient({
    baseUrl: nodeOf(ctx, at).url,
    signer: { keyid: code, privateKey: nodeOf(ctx, code).privateKey() },
    clock: ctx.clock,
  });

// Reviewer sessions per run: accounts are made once, tokens renewed after 10 virtual minutes (a calendar advance).
const sessions = new WeakMap<RunContext, Map<string, { client: NodeClient; at: number }>>();

async function reviewer(ctx: RunContext, input: { node: string; role: string; agency: string; account?: string }) {
  let mine = sessions.get(ctx);
  if (!mine) sessions.set(ctx, (mine = new Map()));
  const id =
    input.account ??
    `${input.role}-${[...input.agency].map((c) => c.codePointAt(0)!.toString(36)).join('')}`.slice(0, 60);
  const key = `${input.node}|${id}`;
  const held = mine.get(key);
  if (held && ctx.clock.now() - held.at < 600_000) return held.client;
  const n = nodeOf(ctx, input.node);
  if (!held) {
    const made = await n.self().createAccount({
      id,
      name: `${input.agency} ${input.role}`,
      role: input.role as never,
      password: 'simulated-reviewer',
      agency: input.agency,
    });
    if (!made.ok && made.status !== 409) throw new Error(`no account ${id} at ${input.node}: ${made.error.message}`);
  }
  const t = await n.anon().token({ account: id, password: 'simulated-reviewer' });
  if (!t.ok) throw new Error(`no token for ${id} at ${input.node}: ${t.error.message}`);
  const client = createClient({ baseUrl: n.url, token: t.value.token, clock: ctx.clock });
  mine.set(key, { client, at: ctx.clock.now() });
  return client;
}

const PDF = '%PDF-1.4\n% simulated attachment\n';

/** `do: dossier`: the applicant uploads the guide's attachments and submits a dossier meeting the guide. */
export async function dossierStep(ctx: RunContext, step: Extract<Action, { do: 'dossier' }>): Promise<string> {
  const guide = guideOf(ctx);
  const { holder, app } = await holderOf(ctx, step.node);
  const client = applicantClient(ctx, step.node, holder);
  const a = app.application;
  const d = sampleDossier(guide, {
    role: a.role as 'regional' | 'industry',
    ...(a.industry ? { industry: a.industry } : {}),
  });
  d.declaration.builder.creditCode = a.builder.creditCode;
  d.declaration.builder.name = a.builder.name;
  d.declaration.operator.creditCode = a.operator.creditCode;
  d.declaration.operator.name = a.operator.name;
  d.declaration.name = a.name;
  if (step.breaks.includes('security-section')) d.plan.security = '';
  const attachments = [];
  for (const x of d.attachments) {
    const size = step.breaks.includes('oversize-attachment') ? guide.materials[0]!.maxBytes + 1 : 0;
    const body = Buffer.concat([Buffer.from(`${PDF}${x.kind} ${step.node}\n`), Buffer.alloc(size)]);
    const r = await client.uploadAttachment(app.id, {
      kind: x.kind,
      file: x.file,
      mediaType: 'application/pdf',
      contentBase64: body.toString('base64'),
    });
    if (!r.ok) return `refused: attachment ${x.kind}: ${r.status} ${r.error.field ?? ''} ${r.error.message}`;
    attachments.push({ ...x, bytes: r.value.bytes, sha256: r.value.sha256 });
  }
  const r = await client.putDossier(app.id, { ...d, attachments });
  if (!r.ok) return `refused: ${r.status} ${r.error.field ?? ''} ${r.error.message}`;
  return `dossier ${r.value.sha256.slice(0, 12)}… with ${attachments.length} attachments at ${holder}`;
}

/** `do: chain`: a step of the review chain where the application is held; `expect` names the rule of a refusal. */
export async function chainStep(ctx: RunContext, step: Extract<Action, { do: 'chain' }>): Promise<string> {
  const { holder, app } = await holderOf(ctx, step.node);
  const client =
    step.by === 'applicant'
      ? applicantClient(ctx, step.node, holder)
      : await reviewer(ctx, { node: holder, ...step.by });
  const body: ChainStepInput = {
    stage: step.stage,
    action: step.action,
    comment: step.comment,
    ...(step.verdict ? { verdict: step.verdict } : {}),
    ...(step.score !== undefined ? { score: step.score } : {}),
    ...(step.objection !== undefined ? { objection: step.objection } : {}),
    // 联合复审: each agency's verdict and comment on the three aspects.
    ...(step.stage === 'joint-review' && step.action === 'opinion'
      ? {
          aspects: (['qualification', 'feasibility', 'funding'] as const).map((aspect) => ({
            aspect,
            verdict: step.verdict ?? 'pass',
            comment: step.comment,
          })),
        }
      : {}),
  };
  const r = await client.chainStep(app.id, body);
  if (step.expect) {
    if (r.ok) throw new Error(`the step was taken; expected a refusal by ${step.expect}`);
    if (!r.error.message.startsWith(`${step.expect}:`))
      throw new Error(`refused, but not by ${step.expect}: ${r.status} ${r.error.message}`);
    return `refused as expected: ${r.status} ${r.error.message}`;
  }
  if (!r.ok) throw new Error(`chain step refused at ${holder}: ${r.status} ${r.error.message}`);
  return `${step.stage}:${step.action} at ${holder} → ${r.value.stage}`;
}

/** `that: chain`: the stage the node's application waits in (or its end) where it is held. */
export async function chainStageOf(ctx: RunContext, exp: Extract<Expectation, { that: 'chain' }>): Promise<string> {
  const { holder, app } = await holderOf(ctx, exp.node);
  const r = await nodeOf(ctx, holder).self().chain(app.id);
  if (!r.ok) return `unknown (${r.error.message})`;
  return r.value.stage;
}
