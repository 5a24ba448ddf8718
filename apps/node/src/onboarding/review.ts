import { formatTime, ROUTES, type Review, type Application } from '@cpnet/protocol';
import { b64url, type RuleViolation } from '@cpnet/security';
import type { ApplicationRow as Row } from '../store/applications.ts';
import type { NodeContext } from '../context.ts';
import { fail, HttpError } from '../http/http-error.ts';
import { applicantPrefix, brokenRules, OVERRIDABLE } from './rules.ts';
import { issueGrant } from './grant.ts';
import { guideOf } from './guide-file.ts';

type StoredReview = { by: string; at: string; review: Review };

/** The wire state of a stored application (the grant included once approved). */
export function applicationState(row: Row) {
  return {
    id: row.id,
    application: JSON.parse(row.body) as Application,
    status: row.status,
    submittedAt: row.submittedAt.toISOString(),
    reasons: JSON.parse(row.reasons) as { rule: string; message: string }[],
    reviews: JSON.parse(row.reviews) as StoredReview[],
    ext: {
      applicant: row.applicant,
      routedTo: row.routedTo,
      ...(row.forwardedBy ? { forwardedBy: row.forwardedBy } : {}),
    },
    ...(row.grant ? { grant: JSON.parse(row.grant) as unknown } : {}),
  };
}

/**
 * An application's state as anyone may read it: no contact person (name, phone, e-mail), no reviewers' names or
 * opinions, no grant. Organisations (builder, operator, their credit codes) are public in the guide's 公示.
 */
export function publicApplicationState(row: Row) {
  const full = applicationState(row);
  const { contact: _contact, ...application } = full.application as Application & { contact?: unknown };
  void _contact;
  return {
    id: full.id,
    application,
    status: full.status,
    submittedAt: full.submittedAt,
    reasons: full.reasons,
    reviews: full.reviews.map((r) => ({ at: r.at, decision: r.review.decision })),
    ext: { ...full.ext, redacted: ['application.contact', 'reviews', 'grant'] },
  };
}

const reasonsOf = (v: RuleViolation[]) => v.map((x) => ({ rule: x.rule, message: x.reason }));

function ruleError(violations: RuleViolation[]): HttpError {
  const first = violations[0]!;
  const code = first.rule === 'deadline' ? 'DEADLINE_PASSED' : 'RULE_VIOLATION';
  return new HttpError(code, violations.map((v) => `${v.rule}: ${v.reason}`).join('; '), first.field || undefined);
}

/** What `receiveApplication` uses of the node. */
type ReceiveApplicationDeps = Pick<
  NodeContext,
  'audit' | 'clientFor' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'outbox' | 'serials'
>;

/** Receives an application (or a forwarded one): rules checked with reasons, stored, auto-reviewed if configured. */
export async function receiveApplication(
  ctx: ReceiveApplicationDeps,
  input: { app: Application; forwarded?: { by: string; originId: string; opinion: Review } },
): Promise<[number, Row]> {
  const applicant = applicantPrefix(input.app);
  const existing = await ctx.db.applications.openOf(applicant);
  // The same applicant (same key) re-applying gets its application back; another key claiming the same code is a
  // second applicant, judged by the rules (one regional node per province, one industry node per industry).
  if (existing && (JSON.parse(existing.body) as Application).publicKey === input.app.publicKey) return [200, existing];
  // Under a guide a forwarded application is the province's 上报, whose own window the chain enforced; the
  // deadline of 组织申报 was the applicant's, checked where it applied.
  const reported = input.forwarded !== undefined && guideOf(ctx.config) !== null;
  const violations = (await brokenRules(ctx, { app: input.app })).filter((v) => !(reported && v.rule === 'deadline'));
  if (violations.some((v) => v.rule === 'deadline')) throw ruleError(violations.filter((v) => v.rule === 'deadline'));
  const hard = violations.filter((v) => !OVERRIDABLE.has(v.rule));
  const now = ctx.deps.clock.now();
  const reviews: StoredReview[] = input.forwarded
    ? [{ by: input.forwarded.by, at: formatTime(now), review: input.forwarded.opinion }]
    : [];
  const row = await ctx.db.applications.create({
    id: `APP-${b64url(ctx.deps.randomBytes(12))}`,
    applicant,
    role: input.app.role,
    region: input.app.region,
    industry: input.app.industry,
    body: JSON.stringify(input.app),
    status: hard.length > 0 ? 'rejected' : violations.length > 0 ? 'reviewing' : 'submitted',
    routedTo: ctx.config.code,
    forwardedBy: input.forwarded?.by ?? null,
    originId: input.forwarded?.originId ?? null,
    reasons: JSON.stringify(reasonsOf(violations)),
    reviews: JSON.stringify(reviews),
    submittedAt: new Date(now),
  });
  if (hard.length > 0) {
    // A refusal is kept for reviewers in a bounded log (the oldest go), with no public event: anyone can send one.
    await ctx.db.applications.pruneRefusals(ctx.config.limits.applications.refusalLog);
    throw ruleError(hard);
  }
  ctx.events.emit('application.submitted', { subject: applicant, data: { id: row.id, status: row.status } });
  // A node following a guide reviews through its chain, never by the rules alone.
  if (ctx.config.autoReview && !guideOf(ctx.config) && violations.length === 0)
    return [201, await autoReview(ctx, row, input.forwarded !== undefined)];
  return [201, row];
}

async function forwardToNational(
  ctx: Pick<NodeContext, 'clientFor' | 'config'>,
  input: { row: Row; review: Review; ext?: Record<string, unknown> },
): Promise<void> {
  const { row, review } = input;
  if (!ctx.config.parentUrl) fail('UNAVAILABLE', 'this node has no parent to forward to');
  const r = await ctx.clientFor(ctx.config.parentUrl).forward({
    originId: row.id,
    applicant: row.applicant,
    application: JSON.parse(row.body) as Application,
    opinion: review,
    ...(input.ext ? { ext: input.ext } : {}),
  });
  if (!r.ok)
    fail(
      r.status === 0 || r.status >= 500 ? 'UPSTREAM_UNAVAILABLE' : r.error.code,
      `the national node did not take the forwarded application: ${r.error.message}`,
    );
}

async function approve(
  ctx: Pick<NodeContext, 'audit' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'outbox' | 'serials'>,
  input: { row: Row; by: string; review: Review },
): Promise<string | null> {
  const app = JSON.parse(input.row.body) as Application;
  const override =
    input.review.override?.rule === 'one-industry-per-industry'
      ? { reviewer: input.by, reason: input.review.override.reason }
      : undefined;
  const violations = (await brokenRules(ctx, { app, ...(override ? { override } : {}) })).filter(
    (v) => v.rule !== 'deadline',
  );
  if (violations.length > 0) throw ruleError(violations);
  if (input.row.forwardedBy) {
    // The national node's final decision on an industry node: the regional node issues the grant.
    const regional = await ctx.db.peers.byPrefix(input.row.forwardedBy);
    if (!regional) fail('UNAVAILABLE', `${input.row.forwardedBy} is not a known child`);
    const peer = {
      relation: 'descendant',
      role: app.role,
      endpoint: app.endpoint,
      publicKey: app.publicKey,
      lifecycle: 'approved',
    };
    await ctx.db.peers.put(input.row.applicant, peer);
    await ctx.outbox.enqueue({
      endpoint: regional.endpoint,
      path: ROUTES.reviews.replace(':id', encodeURIComponent(input.row.originId ?? '')),
      body: input.review,
    });
    ctx.outbox.kick();
    return null;
  }
  return JSON.stringify(await issueGrant(ctx, { applicant: input.row.applicant, app }));
}

/** The decisions a review may take here: recommend / not-recommend at a regional node, else approve / reject. */
export function allowedDecisions(ctx: Pick<NodeContext, 'config'>, row: Row): readonly string[] {
  if (ctx.config.role === 'regional' && row.status !== 'forwarded') return ['recommend', 'not-recommend'];
  return ['approve', 'reject'];
}

/** What `decide` uses of the node. */
type DecideDeps = Pick<
  NodeContext,
  'audit' | 'clientFor' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'outbox' | 'serials'
>;

/**
 * Applies a review: the regional opinion (recommend → forwarded to the national node, with `forwardExt` — a guide's
 * dossier and review chain — in the forward's `ext`) or a final decision.
 */
export async function decide(
  ctx: DecideDeps,
  input: { row: Row; by: string; review: Review; forwardExt?: Record<string, unknown> },
): Promise<Row> {
  const { row, review } = input;
  if (row.status === 'approved' || row.status === 'rejected')
    fail('CONFLICT', `application ${row.id} is already ${row.status}`);
  const allowed = allowedDecisions(ctx, row);
  if (!allowed.includes(review.decision))
    fail(
      'SCHEMA_VIOLATION',
      `decision "${review.decision}" does not fit here; expected ${allowed.join(' or ')}`,
      'decision',
    );
  let status: string;
  let grant: string | null = null;
  if (review.decision === 'recommend') {
    // Route it to the national node before forwarding: its decision may come back before the forward returns.
    const reviews = JSON.stringify([
      ...(JSON.parse(row.reviews) as StoredReview[]),
      { by: input.by, at: formatTime(ctx.deps.clock.now()), review },
    ]);
    const forwarded = await ctx.db.applications.update(row.id, { status: 'forwarded', routedTo: 'CPN', reviews });
    try {
      await forwardToNational(ctx, { row, review, ...(input.forwardExt ? { ext: input.forwardExt } : {}) });
    } catch (e) {
      await ctx.db.applications.update(row.id, { status: row.status, routedTo: row.routedTo, reviews: row.reviews });
      throw e;
    }
    ctx.events.emit('application.reviewed', {
      subject: row.applicant,
      data: { id: row.id, status: 'forwarded' },
    });
    return (await ctx.db.applications.byId(row.id)) ?? forwarded;
  } else if (review.decision === 'approve') {
    grant = await approve(ctx, input);
    status = 'approved';
  } else {
    status = 'rejected';
    if (row.forwardedBy) {
      const regional = await ctx.db.peers.byPrefix(row.forwardedBy);
      if (regional) {
        await ctx.outbox.enqueue({
          endpoint: regional.endpoint,
          path: ROUTES.reviews.replace(':id', encodeURIComponent(row.originId ?? '')),
          body: review,
        });
        ctx.outbox.kick();
      }
    }
  }
  const reviews = [
    ...(JSON.parse(row.reviews) as StoredReview[]),
    { by: input.by, at: formatTime(ctx.deps.clock.now()), review },
  ];
  const updated = await ctx.db.applications.update(row.id, {
    status,
    reviews: JSON.stringify(reviews),
    ...(grant ? { grant } : {}),
  });
  // Events are public: who reviewed stays in the application and the audit log.
  ctx.events.emit('application.decided', { subject: row.applicant, data: { id: row.id, status } });
  return updated;
}

// Applications being auto-reviewed right now, per node: the retry sweep must not decide one twice (two grants).
const reviewing = new WeakMap<object, Set<string>>();

/** Decides an application by the rules alone (the auto-review setting); a failure leaves it pending for a retry. */
async function autoReview(
  ctx: Pick<
    NodeContext,
    'audit' | 'clientFor' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'outbox' | 'serials'
  >,
  row: Row,
  forwarded: boolean,
): Promise<Row> {
  let busy = reviewing.get(ctx);
  if (!busy) reviewing.set(ctx, (busy = new Set()));
  if (busy.has(row.id)) return row;
  busy.add(row.id);
  const decision = ctx.config.role === 'regional' && !forwarded ? 'recommend' : 'approve';
  try {
    return await decide(ctx, {
      row,
      by: ctx.config.code,
      review: { decision, opinion: 'auto-review: every rule of the guide is met' },
    });
  } catch (e) {
    ctx.deps.logger.warn({ err: e, id: row.id }, 'auto-review could not complete; it will be retried');
    return row;
  } finally {
    busy.delete(row.id);
  }
}

/** What `startAutoReviewRetries` uses of the node. */
type StartAutoReviewRetriesDeps = Pick<
  NodeContext,
  'audit' | 'clientFor' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'outbox' | 'serials'
>;

/**
 * Retries auto-review of applications left pending — e.g. an industry application that arrived before its regional
 * node was itself approved, so the national node could not yet take the forwarded application. Returns a stop function.
 */
export function startAutoReviewRetries(ctx: StartAutoReviewRetriesDeps): () => void {
  if (!ctx.config.autoReview || guideOf(ctx.config)) return () => undefined;
  let running = false;
  // Node time: a retry schedule of the node's own work.
  return ctx.deps.clock.setInterval(
    () => {
      if (running) return;
      running = true;
      void (async () => {
        const pending = await ctx.db.applications.waitingAt(ctx.config.code);
        for (const row of pending) {
          const current = await ctx.db.applications.byId(row.id);
          if (current?.status !== 'submitted') continue;
          const violations = await brokenRules(ctx, { app: JSON.parse(current.body) as Application });
          if (violations.length === 0) await autoReview(ctx, current, current.forwardedBy !== null);
        }
      })()
        .catch((e: unknown) => ctx.deps.logger.warn({ err: e }, 'auto-review retry failed'))
        .finally(() => {
          running = false;
        });
    },
    Math.max(200, ctx.config.pollMs * 5),
  );
}
