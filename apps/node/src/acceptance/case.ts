import {
  formatTime,
  type AcceptanceCase,
  type AcceptanceDecisionInput,
  type AcceptancePlan,
  type ErrorCode,
  type MilestoneReport,
  type SupervisionOrder,
} from '@cpnet/protocol';

/**
 * The acceptance case's rules, as data in and data out: no clock, no database. `now` is node time in ms. A refusal
 * names the rule; the case passed in is never changed (every function returns a new case).
 */
export type CaseResult = { ok: true; value: AcceptanceCase } | { ok: false; error: Refusal };

/** Why a change was refused: an error code of the wire contract, the rule, the field. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly field?: string;
}

const refuse = (code: ErrorCode, message: string, field?: string): CaseResult => ({
  ok: false,
  error: { code, message, ...(field ? { field } : {}) },
});

/** An RFC 3339 time with any offset, as UTC with milliseconds. */
export function utc(time: string): string {
  return formatTime(Date.parse(time));
}

/** The case a node's approval opens: its construction period begins (建设实施). */
export function openCase(input: {
  node: string;
  authority: string;
  mode: 'authority' | 'automatic';
  approvedAt: string;
}): AcceptanceCase {
  return {
    ...input,
    status: 'construction',
    milestones: [],
    jointDebug: { window: null, runs: [], passedAt: null, overdue: false },
    evidence: null,
    decisions: [],
    supervision: { state: 'normal', orders: [] },
    flags: [],
  };
}

/** Sets the 实施计划: milestones (kept progress by id) and the joint-debugging window. */
export function planCase(c: AcceptanceCase, plan: AcceptancePlan): CaseResult {
  if (c.status === 'accepted') return refuse('CONFLICT', `${c.node} is already accepted (已验收); its plan is closed`);
  const approved = Date.parse(c.approvedAt);
  const seen = new Set<string>();
  for (const [i, m] of plan.milestones.entries()) {
    if (seen.has(m.id)) return refuse('SCHEMA_VIOLATION', `milestone ${m.id} is listed twice`, `milestones.${i}.id`);
    seen.add(m.id);
    if (Date.parse(m.due) <= approved)
      return refuse(
        'RULE_VIOLATION',
        `milestone ${m.id}: due ${utc(m.due)} is not after the approval (${c.approvedAt}); ` +
          'the construction period begins at approval',
        `milestones.${i}.due`,
      );
  }
  const { from, to } = plan.jointDebugWindow;
  if (Date.parse(from) < approved)
    return refuse(
      'RULE_VIOLATION',
      `the joint-debugging window opens ${utc(from)}, before the approval (${c.approvedAt})`,
      'jointDebugWindow.from',
    );
  if (Date.parse(to) <= Date.parse(from))
    return refuse('SCHEMA_VIOLATION', 'the joint-debugging window must end after it opens', 'jointDebugWindow.to');
  const before = new Map(c.milestones.map((m) => [m.id, m]));
  const milestones = plan.milestones.map((m) => {
    const old = before.get(m.id);
    return {
      id: m.id,
      title: m.title,
      due: utc(m.due),
      status: old?.status ?? ('planned' as const),
      ...(old?.doneAt ? { doneAt: old.doneAt } : {}),
      ...(old?.note ? { note: old.note } : {}),
      overdue: false,
    };
  });
  return {
    ok: true,
    value: { ...c, milestones, jointDebug: { ...c.jointDebug, window: { from: utc(from), to: utc(to) } } },
  };
}

/** The node reports progress on one milestone. */
export function reportMilestone(
  c: AcceptanceCase,
  input: { id: string; report: MilestoneReport; now: number },
): CaseResult {
  const m = c.milestones.find((x) => x.id === input.id);
  if (!m) return refuse('NOT_FOUND', `${c.node} has no milestone ${input.id} in its plan`, 'milestone');
  if (m.status === 'done') return refuse('CONFLICT', `milestone ${input.id} was reported done at ${m.doneAt}`);
  const doneAt = input.report.status === 'done' ? { doneAt: formatTime(input.now) } : {};
  const note = input.report.note ? { note: input.report.note } : {};
  const milestones = c.milestones.map((x) =>
    x.id === input.id ? { ...x, status: input.report.status, ...doneAt, ...note } : x,
  );
  return { ok: true, value: { ...c, milestones } };
}

/** Whether `at` lies in the window (none set: any time after approval counts). */
function inWindow(c: AcceptanceCase, at: number): boolean {
  const w = c.jointDebug.window;
  if (!w) return at >= Date.parse(c.approvedAt);
  return at >= Date.parse(w.from) && at < Date.parse(w.to);
}

/**
 * Records a joint-debugging run of the full check list, both ways. A passing run inside the window moves the case to
 * 待验收 (`awaiting-acceptance`), or straight to accepted when the authority accepts automatically (rehearsals and
 * simulations). A failing run, or one outside the window, is recorded and changes nothing else.
 */
export function recordRun(c: AcceptanceCase, run: { at: number; by: string; passed: boolean }): AcceptanceCase {
  const within = inWindow(c, run.at);
  // A node waiting for its decision keeps re-running the checks: the case keeps the latest runs only.
  const runs = [
    ...c.jointDebug.runs,
    { at: formatTime(run.at), by: run.by, passed: run.passed, inWindow: within },
  ].slice(-RUNS_KEPT);
  const waiting = ['construction', 'joint-debugging', 'failed'].includes(c.status);
  if (!waiting) return { ...c, jointDebug: { ...c.jointDebug, runs } };
  if (!run.passed || !within) return { ...c, status: 'joint-debugging', jointDebug: { ...c.jointDebug, runs } };
  return {
    ...c,
    status: c.mode === 'automatic' ? 'accepted' : 'awaiting-acceptance',
    jointDebug: { ...c.jointDebug, runs, passedAt: formatTime(run.at) },
  };
}

/** Joint-debugging runs kept per case (the newest). */
export const RUNS_KEPT = 100;

/** A decision before it is signed: what the officer recorded. */
export type UnsignedDecision = Omit<AcceptanceCase['decisions'][number], 'signature'>;

/** Checks an officer's decision against the case and returns it in its stored form (to be signed). */
export function checkDecision(
  c: AcceptanceCase,
  input: { decision: AcceptanceDecisionInput; by: string; now: number },
): { ok: true; value: UnsignedDecision } | { ok: false; error: Refusal } {
  const d = input.decision;
  const no = (code: ErrorCode, message: string, field?: string) => ({
    ok: false as const,
    error: { code, message, ...(field ? { field } : {}) },
  });
  if (c.supervision.state !== 'normal')
    return no('RULE_VIOLATION', `${c.node} is under supervision (${c.supervision.state}); restore it before 验收`);
  if (c.status !== 'awaiting-acceptance' && c.status !== 'conditional')
    return no(
      'RULE_VIOLATION',
      `验收 follows joint debugging passed within its window (按期); ${c.node} is ${c.status}` +
        (c.jointDebug.passedAt ? '' : ', no passing run recorded'),
    );
  if (!c.evidence)
    return no('RULE_VIOLATION', `no evidence pack gathered for ${c.node}: gather it (POST …/evidence) before deciding`);
  const conditions = (d.conditions ?? []).map((x) => ({ text: x.text, due: utc(x.due) }));
  if (d.decision === 'pass-with-conditions' && conditions.length === 0)
    return no('SCHEMA_VIOLATION', 'pass-with-conditions needs the conditions (what, by when)', 'conditions');
  if (d.decision !== 'pass-with-conditions' && conditions.length > 0)
    return no('SCHEMA_VIOLATION', `conditions go with pass-with-conditions, not ${d.decision}`, 'conditions');
  const late = conditions.findIndex((x) => Date.parse(x.due) <= input.now);
  if (late >= 0) return no('RULE_VIOLATION', 'a condition is due in the past', `conditions.${late}.due`);
  return {
    ok: true,
    value: { decision: d.decision, reasons: d.reasons, conditions, by: input.by, at: formatTime(input.now) },
  };
}

const AFTER_DECISION = { pass: 'accepted', 'pass-with-conditions': 'conditional', fail: 'failed' } as const;

/** Applies a signed decision: pass → 已验收; with conditions → conditional; fail → joint debugging again. */
export function applyDecision(c: AcceptanceCase, decision: AcceptanceCase['decisions'][number]): AcceptanceCase {
  const status = AFTER_DECISION[decision.decision];
  const jointDebug = status === 'failed' ? { ...c.jointDebug, passedAt: null } : c.jointDebug;
  return { ...c, status, jointDebug, decisions: [...c.decisions, decision] };
}

/** An order before it is signed. */
export type UnsignedOrder = Omit<AcceptanceCase['supervision']['orders'][number], 'signature'>;

const SUPERVISION_FROM = {
  suspend: ['normal'],
  'require-rectification': ['suspended', 'rectifying'],
  reinspect: ['rectifying'],
  restore: ['reinspected'],
} as const;

/** Checks a supervisor's order: suspend → require rectification → re-inspect (pass) → restore. */
export function checkOrder(
  c: AcceptanceCase,
  input: { order: SupervisionOrder; by: string; now: number },
): { ok: true; value: UnsignedOrder } | { ok: false; error: Refusal } {
  const o = input.order;
  const no = (code: ErrorCode, message: string, field?: string) => ({
    ok: false as const,
    error: { code, message, ...(field ? { field } : {}) },
  });
  const from: readonly string[] = SUPERVISION_FROM[o.action];
  if (!from.includes(c.supervision.state))
    return no(
      'RULE_VIOLATION',
      `${o.action} applies to a node that is ${from.join(' or ')} under supervision; ${c.node} is ${c.supervision.state}` +
        (o.action === 'restore' ? ' (restore follows a re-inspection that passed)' : ''),
      'action',
    );
  if (o.action === 'require-rectification' && (!o.due || Date.parse(o.due) <= input.now))
    return no('RULE_VIOLATION', 'require-rectification needs a due date after now', 'due');
  if (o.action === 'reinspect' && !o.result) return no('SCHEMA_VIOLATION', 'reinspect needs its result', 'result');
  if (o.action !== 'reinspect' && o.result)
    return no('SCHEMA_VIOLATION', 'a result goes with reinspect only', 'result');
  return {
    ok: true,
    value: {
      action: o.action,
      reason: o.reason,
      ...(o.due ? { due: utc(o.due) } : {}),
      ...(o.result ? { result: o.result } : {}),
      by: input.by,
      at: formatTime(input.now),
    },
  };
}

/** Applies a signed order to the supervision state. */
export function applyOrder(c: AcceptanceCase, order: AcceptanceCase['supervision']['orders'][number]): AcceptanceCase {
  const state =
    order.action === 'suspend'
      ? 'suspended'
      : order.action === 'require-rectification'
        ? 'rectifying'
        : order.action === 'reinspect'
          ? order.result === 'pass'
            ? 'reinspected'
            : 'rectifying'
          : 'normal';
  return { ...c, supervision: { state, orders: [...c.supervision.orders, order] } };
}

/** The lifecycle an order gives the node: suspended, or back to where it was when restored. */
export function lifecycleAfterOrder(c: AcceptanceCase, action: SupervisionOrder['action']): string | null {
  if (action === 'suspend') return 'suspended';
  if (action === 'restore') return c.status === 'accepted' ? 'online' : 'joint-debugging';
  return null;
}

type Flag = AcceptanceCase['flags'][number];

/**
 * Recomputes what is overdue at `now` (node time): milestones not done by their date, joint debugging not passed by
 * the end of its window, conditions and rectifications past due. New flags are returned to be raised to the
 * supervising authority once; a flag whose cause is gone is marked cleared (it stays in the record).
 */
export function refreshFlags(c: AcceptanceCase, now: number): { value: AcceptanceCase; raised: Flag[] } {
  const due: { kind: Flag['kind']; subject: string; due: string; late: boolean }[] = [];
  for (const m of c.milestones)
    due.push({
      kind: 'milestone-overdue',
      subject: m.id,
      due: m.due,
      late: m.status !== 'done' && Date.parse(m.due) < now,
    });
  const w = c.jointDebug.window;
  if (w)
    due.push({
      kind: 'joint-debug-overdue',
      subject: 'joint-debugging',
      due: w.to,
      late: c.jointDebug.passedAt === null && Date.parse(w.to) < now,
    });
  const last = c.decisions.at(-1);
  if (last?.decision === 'pass-with-conditions')
    for (const [i, k] of last.conditions.entries())
      due.push({
        kind: 'condition-overdue',
        subject: `condition-${i + 1}`,
        due: k.due,
        late: c.status === 'conditional' && Date.parse(k.due) < now,
      });
  const rect = [...c.supervision.orders].reverse().find((o) => o.action === 'require-rectification');
  if (rect?.due)
    due.push({
      kind: 'rectification-overdue',
      subject: 'rectification',
      due: rect.due,
      late: c.supervision.state === 'rectifying' && Date.parse(rect.due) < now,
    });
  const raised: Flag[] = [];
  const flags = c.flags.map((f) => {
    const still = due.find((d) => d.kind === f.kind && d.subject === f.subject && d.due === f.due);
    return f.cleared || still?.late ? f : { ...f, cleared: true };
  });
  for (const d of due) {
    if (!d.late) continue;
    const open = flags.some((f) => f.kind === d.kind && f.subject === d.subject && f.due === d.due && !f.cleared);
    if (open) continue;
    const flag = { kind: d.kind, subject: d.subject, due: d.due, raisedAt: formatTime(now), cleared: false };
    flags.push(flag);
    raised.push(flag);
  }
  const milestones = c.milestones.map((m) => ({ ...m, overdue: m.status !== 'done' && Date.parse(m.due) < now }));
  const overdue = w !== null && c.jointDebug.passedAt === null && Date.parse(w.to) < now;
  return { value: { ...c, milestones, flags, jointDebug: { ...c.jointDebug, overdue } }, raised };
}
