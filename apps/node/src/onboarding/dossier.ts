import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  ChainStep,
  Dossier,
  formatTime,
  type Application,
  type AttachmentUpload,
  type ChainStepInput,
  type Review,
} from '@cpnet/protocol';
import { bytesEqual, jcsBytes, signCompact, verifyCompact, type PublicKeyHandle } from '@cpnet/security';
import {
  chainView,
  checkNetworkRules,
  stagesFor,
  refuseStep,
  validateDossier,
  type Actor,
  type Guide,
  type RecordedStep,
} from '@cpnet/guide';
import type { NodeContext } from '../context.ts';
import type { ApplicationRow as Row } from '../store/applications.ts';
import type { ChainStepRow } from '../store/dossiers.ts';
import { fail } from '../http/http-error.ts';
import { guideOf } from './guide-file.ts';
import { allowedDecisions, decide } from './review.ts';

/** The node's guide, or a 409 saying it runs the rehearsal chain. */
export function requireGuide(ctx: Pick<NodeContext, 'config'>): Guide {
  const g = guideOf(ctx.config);
  if (!g)
    fail(
      'CONFLICT',
      `${ctx.config.code} runs the rehearsal chain (no guideFile): it takes no dossiers and has no review chain`,
    );
  return g;
}

/** The body limit of attachment uploads: the guide's largest file, base64-encoded, and room for the JSON around it. */
export function attachmentBodyLimit(ctx: Pick<NodeContext, 'config'>): number {
  const largest = Math.max(0, ...(guideOf(ctx.config)?.materials.map((m) => m.maxBytes) ?? [0]));
  return Math.max(ctx.config.bodyLimitBytes, Math.ceil(largest / 3) * 4 + 16 * 1024);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const MAGIC: Readonly<Record<string, (b: Buffer) => boolean>> = {
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
};

/** Stores an attachment by its digest after the guide's type and size rules; nothing is stored on a refusal. */
export async function storeAttachment(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps'>,
  input: { row: Row; upload: AttachmentUpload },
) {
  const guide = requireGuide(ctx);
  const { row, upload } = input;
  if ((await ctx.db.dossiers.steps(row.id)).length > 0)
    fail('CONFLICT', `application ${row.id} is under review: its materials are frozen`);
  const rule = guide.materials.find((m) => m.kind === upload.kind);
  if (!rule) fail('RULE_VIOLATION', `${guide.id} asks for no ${upload.kind} attachment`, 'kind');
  if (!rule.mediaTypes.includes(upload.mediaType))
    fail(
      'RULE_VIOLATION',
      `${rule.title} (${upload.kind}) is ${rule.mediaTypes.join(', ')}, not ${upload.mediaType}`,
      'mediaType',
    );
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(upload.contentBase64) || upload.contentBase64.length % 4 !== 0)
    fail('SCHEMA_VIOLATION', 'contentBase64 is not base64', 'contentBase64');
  const bytes = Buffer.from(upload.contentBase64, 'base64');
  if (bytes.length > rule.maxBytes)
    fail(
      'PAYLOAD_TOO_LARGE',
      `${upload.file} is ${bytes.length} bytes; ${rule.title} takes at most ${rule.maxBytes}`,
      'contentBase64',
    );
  if (!MAGIC[upload.mediaType]?.(bytes))
    fail(
      'RULE_VIOLATION',
      `${upload.file} is not a ${upload.mediaType} file (its first bytes say otherwise)`,
      'mediaType',
    );
  const at = new Date(ctx.deps.clock.now());
  const stored = { sha256: sha256(bytes), kind: upload.kind, file: upload.file, mediaType: upload.mediaType };
  await ctx.db.dossiers.addAttachment({ applicationId: row.id, ...stored, bytes: bytes.length, at, content: bytes });
  return { ...stored, bytes: bytes.length, at: formatTime(at.getTime()) };
}

/** The dossier of an application with its digest and stored attachments, or null. */
export async function dossierState(ctx: Pick<NodeContext, 'db'>, row: Row) {
  const held = await ctx.db.dossiers.get(row.id);
  if (!held) return null;
  const attachments = await ctx.db.dossiers.attachments(row.id);
  return {
    application: row.id,
    sha256: held.sha256,
    updatedAt: formatTime(held.updatedAt.getTime()),
    dossier: JSON.parse(held.body) as Dossier,
    attachments: attachments.map((a) => ({
      kind: a.kind as Dossier['attachments'][number]['kind'],
      file: a.file,
      mediaType: a.mediaType,
      bytes: a.bytes,
      sha256: a.sha256,
      at: formatTime(a.at.getTime()),
    })),
  };
}

function joinReasons(reasons: readonly { field: string; message: string }[]): string {
  return reasons.map((r) => `${r.field}: ${r.message}`).join('; ');
}

/**
 * Stores an application's dossier after every rule of the guide: it must match the application, meet the offline
 * rules and the network ones (disqualified credit codes), and each attachment it lists must be stored with that digest.
 */
export async function putDossier(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps'>,
  input: { row: Row; dossier: Dossier; lang: 'zh' | 'en' },
) {
  const guide = requireGuide(ctx);
  const { row, dossier: d } = input;
  if ((await ctx.db.dossiers.steps(row.id)).length > 0)
    fail('CONFLICT', `application ${row.id} is under review: its dossier is frozen`);
  if (row.status === 'rejected' || row.status === 'approved')
    fail('CONFLICT', `application ${row.id} is ${row.status}`);
  const app = JSON.parse(row.body) as Application;
  const decl = d.declaration;
  for (const [field, mine, theirs] of [
    ['declaration.role', decl.role, app.role],
    ['declaration.region', decl.region, app.region],
    ['declaration.industry', decl.industry, app.industry],
    ['declaration.builder.creditCode', decl.builder.creditCode, app.builder.creditCode],
    ['declaration.operator.creditCode', decl.operator.creditCode, app.operator.creditCode],
  ] as const)
    if (mine !== theirs) fail('RULE_VIOLATION', `${field} is ${mine}, but application ${row.id} says ${theirs}`, field);
  const offline = validateDossier(d, { guide, now: ctx.deps.clock.now(), lang: input.lang });
  const disqualified = (await ctx.db.dossiers.disqualified()).map((x) => x.creditCode);
  const network = checkNetworkRules(d, { guide, known: [], disqualified, lang: input.lang });
  const reasons = [...offline, ...network];
  if (reasons.length > 0) {
    const deadline = reasons.every((r) => r.rule === 'deadline');
    fail(deadline ? 'DEADLINE_PASSED' : 'RULE_VIOLATION', joinReasons(reasons), reasons[0]!.field);
  }
  const stored = new Set((await ctx.db.dossiers.attachments(row.id)).map((a) => a.sha256));
  d.attachments.forEach((a, i) => {
    if (!stored.has(a.sha256))
      fail(
        'RULE_VIOLATION',
        `attachment ${a.file} (${a.sha256}) is not stored: upload it to /cpn/v1/applications/${row.id}/attachments first`,
        `attachments.${i}.sha256`,
      );
  });
  const body = jcsBytes(d);
  await ctx.db.dossiers.put(row.id, {
    body: Buffer.from(body).toString('utf8'),
    sha256: sha256(body),
    updatedAt: new Date(ctx.deps.clock.now()),
  });
  return (await dossierState(ctx, row))!;
}

const recorded = (r: ChainStepRow): RecordedStep => ({
  by: r.by,
  role: r.role,
  agency: r.agency,
  at: r.at.getTime(),
  step: JSON.parse(r.step) as ChainStepInput,
});

const wire = (r: ChainStepRow) => ({
  seq: r.seq,
  by: r.by,
  role: r.role,
  agency: r.agency,
  at: formatTime(r.at.getTime()),
  step: JSON.parse(r.step) as ChainStepInput,
  signature: r.signature,
});

/** An application's review chain: its signed steps and the stage it waits in. */
export async function chainState(ctx: Pick<NodeContext, 'config' | 'db'>, row: Row) {
  const guide = requireGuide(ctx);
  const rows = await ctx.db.dossiers.steps(row.id);
  const held = await ctx.db.dossiers.get(row.id);
  const city = held ? (JSON.parse(held.body) as Dossier).declaration.authority.city : null;
  const view = chainView({ guide, role: row.role as 'regional' | 'industry', city, steps: rows.map(recorded) });
  // Reported (上报) to the national node: the chain goes on there; its decision comes back as the status.
  const reported = row.routedTo !== ctx.config.code;
  const there =
    row.status === 'approved' ? 'listed' : row.status === 'rejected' ? 'rejected' : `forwarded:${row.routedTo}`;
  return {
    application: row.id,
    guide: guide.id,
    stage: reported ? there : view.stage,
    steps: rows.map(wire),
  };
}

/** The JWS type of a signed chain step. */
const STEP_TYP = 'cpn-chain-step+jws';

/**
 * Why a forwarded chain cannot be kept, or null: each step must be signed by the forwarding node over exactly what it
 * says (its application id there, seq, author, role, agency, time and step).
 */
export async function forwardedChainProblem(input: {
  ext: Record<string, unknown> | undefined;
  originId: string;
  key: PublicKeyHandle;
}): Promise<string | null> {
  if (!input.ext || input.ext.chain === undefined) return null;
  const chain = z.array(ChainStep).max(200).safeParse(input.ext.chain);
  if (!chain.success) return 'ext.chain is not a list of chain steps';
  if (!Dossier.safeParse(input.ext.dossier).success) return 'ext.dossier is not a dossier';
  for (const [i, s] of chain.data.entries()) {
    const v = await verifyCompact(s.signature, input.key, STEP_TYP);
    const { signature: _sig, ext: _ext, ...rest } = s;
    const expected = jcsBytes({ application: input.originId, ...rest });
    if (!v.ok || !bytesEqual(v.value.payload, expected) || s.seq !== i + 1)
      return `ext.chain.${i}: not signed by the forwarding node over this step (${v.ok ? 'content differs' : v.error})`;
  }
  return null;
}

// One step at a time per application and node: a step is judged against the steps before it.
const queues = new WeakMap<object, Map<string, Promise<unknown>>>();
function serially<T>(owner: object, key: string, fn: () => Promise<T>): Promise<T> {
  let m = queues.get(owner);
  if (!m) queues.set(owner, (m = new Map()));
  const next = (m.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
  m.set(key, next);
  return next;
}

/** What `takeStep` uses of the node. */
type StepDeps = Parameters<typeof decide>[0];

/**
 * Takes one step of the review chain: refused (naming the rule or field, nothing stored) unless the guide allows it
 * now, for this actor, at this point; otherwise signed by this node, stored, and acted on — 上报 forwards an industry
 * application (with its dossier and chain) to the national node, the published list approves, a failed stage or a
 * false-materials finding rejects (and the finding disqualifies the credit codes).
 */
export function takeStep(ctx: StepDeps, input: { row: Row; actor: Actor; step: ChainStepInput }) {
  return serially(ctx, input.row.id, () => takeStepNow(ctx, input));
}

async function takeStepNow(ctx: StepDeps, input: { row: Row; actor: Actor; step: ChainStepInput }) {
  const guide = requireGuide(ctx);
  const row = (await ctx.db.applications.byId(input.row.id)) ?? input.row;
  if (row.routedTo !== ctx.config.code)
    fail('CONFLICT', `application ${row.id} was reported to ${row.routedTo}; its review goes on there`);
  const held = await ctx.db.dossiers.get(row.id);
  if (!held) fail('CONFLICT', `application ${row.id} has no dossier yet: it cannot be reviewed`, 'dossier');
  const dossier = JSON.parse(held.body) as Dossier;
  const role = row.role as 'regional' | 'industry';
  const rows = await ctx.db.dossiers.steps(row.id);
  const steps = rows.map(recorded);
  const now = ctx.deps.clock.now();
  const chain = { guide, role, city: dossier.declaration.authority.city, steps };
  const refused = refuseStep({ ...chain, step: input.step, actor: input.actor, now });
  if (refused) fail(refused.code, `${refused.rule}: ${refused.message}`, refused.field);
  const seq = rows.length + 1;
  const at = new Date(now);
  const base = { by: input.actor.id, role: input.actor.role, agency: input.actor.agency };
  const signed = { application: row.id, seq, ...base, at: formatTime(now), step: input.step };
  const signature = await signCompact(
    jcsBytes(signed),
    { typ: STEP_TYP, kid: ctx.config.code },
    ctx.identity.keys.privateKey,
  );
  const stepRow: ChainStepRow = {
    applicationId: row.id,
    seq,
    ...base,
    at,
    step: JSON.stringify(input.step),
    signature,
  };
  const after = chainView({ ...chain, steps: [...steps, recorded(stepRow)] });
  // Act first: a forward or a decision that fails leaves the chain as it was.
  await actOn(ctx, { row, after, dossier, chain: [...rows, stepRow], step: input.step, by: input.actor.id });
  await ctx.db.dossiers.addSteps([stepRow]);
  if (input.step.action === 'false-materials') {
    const d = dossier.declaration;
    const codes = [
      d.builder.creditCode,
      d.operator.creditCode,
      ...(d.consortium?.members.map((m) => m.creditCode) ?? []),
    ];
    for (const creditCode of new Set(codes))
      await ctx.db.dossiers.disqualify({ creditCode, applicationId: row.id, reason: input.step.comment, at });
  }
  ctx.events.emit('application.reviewed', {
    subject: row.applicant,
    data: { id: row.id, status: after.stage },
  });
  return chainState(ctx, (await ctx.db.applications.byId(row.id)) ?? row);
}

async function actOn(
  ctx: StepDeps,
  input: {
    row: Row;
    after: ReturnType<typeof chainView>;
    dossier: Dossier;
    chain: ChainStepRow[];
    step: ChainStepInput;
    by: string;
  },
): Promise<void> {
  const { row, after } = input;
  const [yes, no] = allowedDecisions(ctx, row) as [Review['decision'], Review['decision']];
  const opinion = `${input.step.stage}: ${input.step.comment}`;
  if (after.ended && after.stage !== 'listed') {
    await decide(ctx, { row, by: input.by, review: { decision: no, opinion } });
    return;
  }
  if (after.passed === 'list') {
    await decide(ctx, { row, by: input.by, review: { decision: yes, opinion } });
    return;
  }
  // 上报 at a regional node: the national node (工信部) continues with the expert review, 公示 and the list.
  const reportStage = stagesFor(requireGuide(ctx), row.role as 'regional' | 'industry').find(
    (s) => s.kind === 'report',
  );
  if (after.passed === reportStage?.key && ctx.config.role === 'regional' && yes === 'recommend')
    await decide(ctx, {
      row,
      by: input.by,
      review: { decision: 'recommend', opinion },
      forwardExt: { dossier: input.dossier, chain: input.chain.map(wire) },
    });
}

/**
 * Keeps the dossier and the province's signed steps a regional node's 上报 carried (`ext.dossier`, `ext.chain`), so
 * the chain continues here. Malformed or absent, nothing is kept: the application then has no dossier here.
 */
export async function receiveForwardedChain(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps'>,
  input: { row: Row; ext: Record<string, unknown> | undefined },
): Promise<void> {
  if (!guideOf(ctx.config) || !input.ext) return;
  const dossier = Dossier.safeParse(input.ext.dossier);
  const chain = z.array(ChainStep).max(200).safeParse(input.ext.chain);
  if (!dossier.success || !chain.success) {
    ctx.deps.logger.warn({ id: input.row.id }, 'the forwarded dossier or chain is malformed; not kept');
    return;
  }
  const body = jcsBytes(dossier.data);
  await ctx.db.dossiers.put(input.row.id, {
    body: Buffer.from(body).toString('utf8'),
    sha256: sha256(body),
    updatedAt: new Date(ctx.deps.clock.now()),
  });
  await ctx.db.dossiers.addSteps(
    chain.data.map((s, i) => ({
      applicationId: input.row.id,
      seq: i + 1,
      by: s.by,
      role: s.role,
      agency: s.agency,
      at: new Date(Date.parse(s.at)),
      step: JSON.stringify(s.step),
      signature: s.signature,
    })),
  );
}

/** Applications in 公示 and those on the published list held here: what the guide makes public. */
export async function publicity(ctx: Pick<NodeContext, 'config' | 'db'>) {
  const guide = requireGuide(ctx);
  const items = [];
  for (const row of await ctx.db.applications.all()) {
    if (row.routedTo !== ctx.config.code) continue;
    const held = await ctx.db.dossiers.get(row.id);
    if (!held) continue;
    const rows = await ctx.db.dossiers.steps(row.id);
    const d = JSON.parse(held.body) as Dossier;
    const role = row.role as 'regional' | 'industry';
    const view = chainView({ guide, role, city: d.declaration.authority.city, steps: rows.map(recorded) });
    const waiting = stagesFor(guide, role).find((s) => s.key === view.stage)?.kind;
    const open = view.publicityEnds !== null && (waiting === 'publicity' || waiting === 'list');
    if (!open && view.stage !== 'listed') continue;
    const steps = rows.map(recorded);
    const published = steps.find((s) => s.step.action === 'publish');
    items.push({
      application: row.id,
      applicant: row.applicant,
      name: d.declaration.name,
      builder: d.declaration.builder.name,
      operator: d.declaration.operator.name,
      status: view.stage === 'listed' ? ('listed' as const) : ('publicity' as const),
      publicityEnds: view.publicityEnds === null ? null : formatTime(view.publicityEnds),
      objections: steps.filter((s) => s.step.action === 'object').length,
      unanswered: view.openObjections.length,
      listedAt: published ? formatTime(published.at) : null,
    });
  }
  return { guide: guide.id, items };
}
