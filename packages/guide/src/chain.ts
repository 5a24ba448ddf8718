import type { ChainStepInput } from '@cpnet/protocol';
import type { Guide, Stage } from './schema.ts';
import type { Lang, Reason } from './reasons.ts';
import { readableTime } from './time.ts';

/** Who takes a step: a person account (with its role and agency), the applicant, or anyone else signed in. */
export interface Actor {
  readonly id: string;
  readonly kind: 'person' | 'applicant' | 'other';
  readonly role: string | null;
  readonly agency: string | null;
}

/** A step already recorded. */
export interface RecordedStep {
  readonly by: string;
  readonly role: string | null;
  readonly agency: string | null;
  /** ms since the epoch */
  readonly at: number;
  readonly step: ChainStepInput;
}

/** Where an application stands in the chain. */
export interface ChainView {
  /** The stage waited in, or the end: `listed` (selected), `not-selected`, `refused`, `disqualified`. */
  readonly stage: string;
  readonly ended: boolean;
  /** Objections of 公示 not yet answered, by number. */
  readonly openObjections: number[];
  /** When 公示 ends, once opened (ms). */
  readonly publicityEnds: number | null;
  /** The stage that just passed with the last step, when one did (the node acts on `report` and `list`). */
  readonly passed: string | null;
}

/** What a chain decision needs: the guide, the applicant's role and 市州, the steps so far. */
export interface ChainInput {
  readonly guide: Guide;
  readonly role: 'regional' | 'industry';
  readonly city: string | null;
  readonly steps: readonly RecordedStep[];
  readonly lang?: Lang;
}

const DAY_MS = 86_400_000;

/** The stages of the guide an application of this role goes through, in order. */
export function stagesFor(guide: Guide, role: 'regional' | 'industry'): Stage[] {
  return guide.stages.filter((s) => s.appliesTo.includes(role));
}

type Outcome = 'pending' | 'pass' | 'fail';

function outcomeOf(stage: Stage, steps: readonly RecordedStep[]): Outcome {
  const mine = steps.filter((s) => s.step.stage === stage.key);
  const opinions = mine.filter((s) => s.step.action === 'opinion');
  switch (stage.kind) {
    case 'opinion':
      return opinions[0] ? (opinions[0].step.verdict === 'pass' ? 'pass' : 'fail') : 'pending';
    case 'joint-opinion':
    case 'report': {
      if (opinions.some((o) => o.step.verdict === 'fail')) return 'fail';
      if (stage.signers === 'any') return opinions.length > 0 ? 'pass' : 'pending';
      return stage.agencies.every((a) => opinions.some((o) => o.agency === a)) ? 'pass' : 'pending';
    }
    case 'panel': {
      const scores = mine.filter((s) => s.step.action === 'score');
      const panel = stage.panel ?? { minExperts: 1, passScore: 0 };
      if (scores.length < panel.minExperts) return 'pending';
      const mean = scores.reduce((n, s) => n + (s.step.score ?? 0), 0) / scores.length;
      return mean >= panel.passScore ? 'pass' : 'fail';
    }
    case 'publicity':
      // It ends by time and answers (`refuseList`); once the list is published it has passed.
      return steps.some((s) => s.step.action === 'publish') ? 'pass' : 'pending';
    case 'list': {
      const p = mine.find((s) => s.step.action === 'publish');
      return p ? (p.step.verdict === 'pass' ? 'pass' : 'fail') : 'pending';
    }
  }
}

function publicityOf(steps: readonly RecordedStep[], stage: Stage | undefined) {
  if (!stage) return { opened: null, ends: null, open: [] as number[] };
  const mine = steps.filter((s) => s.step.stage === stage.key);
  const opened = mine.find((s) => s.step.action === 'open-publicity')?.at ?? null;
  const objections = mine.filter((s) => s.step.action === 'object');
  const answered = new Set(mine.filter((s) => s.step.action === 'answer').map((s) => s.step.objection));
  const open = objections.map((_, i) => i + 1).filter((n) => !answered.has(n));
  return { opened, ends: opened === null ? null : opened + (stage.days ?? 0) * DAY_MS, open };
}

/** Where an application stands, from the steps recorded so far. */
export function chainView(input: Omit<ChainInput, 'lang'>): ChainView {
  const stages = stagesFor(input.guide, input.role);
  const pub = publicityOf(
    input.steps,
    stages.find((s) => s.kind === 'publicity'),
  );
  const base = { openObjections: pub.open, publicityEnds: pub.ends };
  const last = input.steps[input.steps.length - 1];
  if (input.steps.some((s) => s.step.action === 'false-materials'))
    return { stage: 'disqualified', ended: true, passed: null, ...base };
  let passed: string | null = null;
  for (const stage of stages) {
    const o = outcomeOf(stage, input.steps);
    if (o === 'pending') return { stage: stage.key, ended: false, passed, ...base };
    if (o === 'fail')
      return { stage: stage.kind === 'list' ? 'not-selected' : 'refused', ended: true, passed: null, ...base };
    passed = last?.step.stage === stage.key ? stage.key : null;
    if (stage.kind === 'list') return { stage: 'listed', ended: true, passed, ...base };
  }
  return { stage: 'listed', ended: true, passed, ...base };
}

/** A refusal of a step, naming the field or the rule. */
export type StepRefusal = Reason & { readonly code: 'FORBIDDEN' | 'CONFLICT' | 'DEADLINE_PASSED' | 'RULE_VIOLATION' };

/** A refusal: its code, the rule and field it names, and why. */
const refuse = (code: StepRefusal['code'], [rule, field]: [string, string], message: string): StepRefusal => ({
  code,
  rule,
  field,
  message,
});

function mayAct(stage: Stage, actor: Actor, city: string | null): string | null {
  if (actor.kind !== 'person' || actor.role === null || !stage.roles.includes(actor.role))
    return `${stage.title} (${stage.key}) is for ${stage.roles.join(', ')} accounts; ${actor.id} is ${actor.role ?? actor.kind}`;
  if (stage.agencyLevel === 'city' && actor.agency !== city)
    return `${stage.title} of this application is by ${city ?? 'its 市州'}; ${actor.id} is of ${actor.agency ?? 'no agency'}`;
  if (stage.agencies.length > 0 && (actor.agency === null || !stage.agencies.includes(actor.agency)))
    return `${stage.title} is by ${stage.agencies.join(', ')}; ${actor.id} is of ${actor.agency ?? 'no agency'}`;
  return null;
}

function checkWindow(stage: Stage, input: { now: number; zone: string }): StepRefusal | null {
  const w = stage.window;
  if (!w) return null;
  const opens = Date.parse(w.opens);
  const closes = Date.parse(w.closes);
  if (input.now < opens)
    return refuse(
      'RULE_VIOLATION',
      ['window', 'stage'],
      `${stage.title} (${stage.key}) opens at ${readableTime(opens, input.zone)}; it is ${readableTime(input.now, input.zone)}`,
    );
  if (input.now > closes)
    return refuse(
      'DEADLINE_PASSED',
      ['window', 'stage'],
      `${stage.title} (${stage.key}) closed at ${readableTime(closes, input.zone)} (逾期不再受理); it is ${readableTime(input.now, input.zone)}`,
    );
  return null;
}

function checkShape(stage: Stage, step: ChainStepInput): StepRefusal | null {
  const bad = (field: string, message: string) => refuse('RULE_VIOLATION', ['step', field], message);
  const expected: Record<Stage['kind'], readonly string[]> = {
    opinion: ['opinion'],
    'joint-opinion': ['opinion'],
    report: ['opinion'],
    panel: ['score'],
    publicity: ['open-publicity', 'object', 'answer'],
    list: ['publish'],
  };
  if (step.action !== 'false-materials' && !expected[stage.kind].includes(step.action))
    return bad('action', `${stage.title} (${stage.key}) takes ${expected[stage.kind].join(', ')}, not ${step.action}`);
  if (['opinion', 'publish'].includes(step.action) && step.verdict === undefined)
    return bad('verdict', `a ${step.action} carries a verdict (pass or fail)`);
  if (stage.kind === 'joint-opinion' && step.action === 'opinion') {
    const aspects = new Set(step.aspects?.map((a) => a.aspect));
    for (const a of ['qualification', 'feasibility', 'funding'])
      if (!aspects.has(a as never))
        return bad('aspects', `联合复审 gives a verdict and a comment on ${a} (资质, 建设方案可行性, 资金保障能力)`);
    if (step.aspects!.length !== 3) return bad('aspects', 'each aspect once');
    const allPass = step.aspects!.every((a) => a.verdict === 'pass');
    if ((step.verdict === 'pass') !== allPass)
      return bad('verdict', 'the verdict is pass exactly when every aspect passes');
  }
  if (step.action === 'score' && step.score === undefined) return bad('score', 'an expert’s step carries a score');
  if (step.action === 'answer' && step.objection === undefined)
    return bad('objection', 'an answer names the objection it answers');
  return null;
}

/**
 * Whether a step may be taken now, by this actor, at this point of the chain: null when it may, else a refusal
 * naming the field or the rule (wrong stage, wrong role or agency, out of its window, a second opinion by the same
 * agency, a score by the same expert twice, an objection after 公示, a list with objections unanswered).
 */
export function refuseStep(
  input: ChainInput & { step: ChainStepInput; actor: Actor; now: number },
): StepRefusal | null {
  const { guide, step, actor, now } = input;
  const zone = guide.timezone;
  const view = chainView(input);
  if (view.ended) return refuse('CONFLICT', ['ended', 'stage'], `the review has ended: ${view.stage}`);
  const stage = stagesFor(guide, input.role).find((s) => s.key === step.stage);
  if (!stage)
    return refuse(
      'RULE_VIOLATION',
      ['stage', 'stage'],
      `no stage "${step.stage}" for a ${input.role} application; stages: ${stagesFor(guide, input.role)
        .map((s) => s.key)
        .join(', ')}`,
    );
  const shape = checkShape(stage, step);
  if (shape) return shape;
  let waiting = view.stage;
  if (stage.kind === 'list' && stagesFor(guide, input.role).find((s) => s.key === waiting)?.kind === 'publicity') {
    const why = refuseList({ ...input, now });
    if (why) return refuse('CONFLICT', ['publicity', 'stage'], why);
    waiting = stage.key;
  }
  if (stage.key !== waiting)
    return refuse('CONFLICT', ['order', 'stage'], `the application waits in ${view.stage}, not ${stage.key}`);
  const mine = input.steps.filter((s) => s.step.stage === stage.key);
  if (step.action === 'object' || step.action === 'answer') {
    if (view.publicityEnds === null)
      return refuse('CONFLICT', ['publicity', 'action'], `${stage.title} has not been opened`);
    if (step.action === 'object') {
      if (now > view.publicityEnds)
        return refuse(
          'DEADLINE_PASSED',
          ['publicity', 'action'],
          `${stage.title} ended at ${readableTime(view.publicityEnds, zone)}; objections are no longer taken`,
        );
      return null;
    }
    const objections = mine.filter((s) => s.step.action === 'object').length;
    if (step.objection! > objections)
      return refuse('RULE_VIOLATION', ['objection', 'objection'], `there is no objection ${step.objection}`);
    if (!view.openObjections.includes(step.objection!))
      return refuse('CONFLICT', ['objection', 'objection'], `objection ${step.objection} is already answered`);
    if (actor.kind === 'applicant') return null;
  }
  const who = mayAct(stage, actor, input.city);
  if (who) return refuse('FORBIDDEN', ['role', 'role'], who);
  const late = checkWindow(stage, { now, zone });
  if (late) return late;
  if (step.action === 'false-materials') return null;
  if (step.action === 'opinion' && stage.kind !== 'opinion' && mine.some((s) => s.agency === actor.agency))
    return refuse(
      'CONFLICT',
      ['one-opinion-per-agency', 'agency'],
      `${actor.agency} has already given its opinion at ${stage.title}; a second opinion by the same agency is refused`,
    );
  if (step.action === 'score' && mine.some((s) => s.by === actor.id))
    return refuse('CONFLICT', ['one-score-per-expert', 'by'], `${actor.id} has already scored at ${stage.title}`);
  if (step.action === 'open-publicity' && view.publicityEnds !== null)
    return refuse('CONFLICT', ['publicity', 'action'], `${stage.title} is already open`);
  return null;
}

/** Whether 公示 is over and every objection answered, so the list may be published; a reason otherwise. */
export function refuseList(input: ChainInput & { now: number }): string | null {
  const view = chainView(input);
  if (view.publicityEnds === null) return '公示 has not been opened';
  if (input.now < view.publicityEnds)
    return `公示 runs until ${readableTime(view.publicityEnds, input.guide.timezone)}`;
  if (view.openObjections.length > 0) return `objections ${view.openObjections.join(', ')} are not answered`;
  return null;
}
