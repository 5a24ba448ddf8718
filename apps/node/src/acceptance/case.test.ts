import { describe, expect, it } from 'vitest';
import {
  applyDecision,
  applyOrder,
  checkDecision,
  checkOrder,
  openCase,
  planCase,
  recordRun,
  refreshFlags,
  reportMilestone,
} from './case.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T02:00:00.000Z');
const fresh = (mode: 'authority' | 'automatic' = 'authority') =>
  openCase({ node: 'CPN.51', authority: 'CPN', mode, approvedAt: new Date(T0).toISOString() });
const plan = {
  milestones: [{ id: 'site-ready', title: '机房就绪', due: '2026-06-11T10:00:00+08:00' }],
  jointDebugWindow: { from: '2026-06-20T00:00:00+08:00', to: '2026-07-20T00:00:00+08:00' },
};

describe('acceptance case rules', () => {
  it('takes offsets on input and stores UTC', () => {
    const r = planCase(fresh(), plan);
    expect(r.ok && r.value.milestones[0]?.due).toBe('2026-06-11T02:00:00.000Z');
    expect(r.ok && r.value.jointDebug.window?.from).toBe('2026-06-19T16:00:00.000Z');
  });

  it('refuses a milestone dated before approval, naming the field, and leaves the case as it was', () => {
    const c = fresh();
    const copy = structuredClone(c);
    const r = planCase(c, { ...plan, milestones: [{ id: 'a', title: 'x', due: '2026-05-31T00:00:00Z' }] });
    expect(r.ok ? null : r.error).toMatchObject({ code: 'RULE_VIOLATION', field: 'milestones.0.due' });
    expect(c).toEqual(copy);
  });

  it('counts only a passing run inside the window; automatic mode accepts at once', () => {
    const planned = planCase(fresh(), plan);
    if (!planned.ok) throw new Error(planned.error.message);
    const early = recordRun(planned.value, { at: T0 + DAY, by: 'CPN', passed: true });
    expect([early.status, early.jointDebug.runs[0]?.inWindow]).toEqual(['joint-debugging', false]);
    const failed = recordRun(early, { at: T0 + 20 * DAY, by: 'CPN', passed: false });
    expect(failed.status).toBe('joint-debugging');
    const passed = recordRun(failed, { at: T0 + 21 * DAY, by: 'CPN', passed: true });
    expect(passed.status).toBe('awaiting-acceptance');
    expect(recordRun(fresh('automatic'), { at: T0 + 1, by: 'CPN', passed: true }).status).toBe('accepted');
  });

  it('refuses a decision before joint debugging passed or without evidence; conditions need dates ahead', () => {
    const c = fresh();
    const before = checkDecision(c, { decision: { decision: 'pass', reasons: ['ok'] }, by: 'a', now: T0 + DAY });
    expect(before.ok ? null : before.error.message).toMatch(/按期/);
    const waiting = recordRun(c, { at: T0 + DAY, by: 'CPN', passed: true });
    const noEvidence = checkDecision(waiting, { decision: { decision: 'pass', reasons: ['ok'] }, by: 'a', now: T0 });
    expect(noEvidence.ok ? null : noEvidence.error.message).toMatch(/evidence/);
    const withEvidence = { ...waiting, evidence: {} as never };
    const noConditions = checkDecision(withEvidence, {
      decision: { decision: 'pass-with-conditions', reasons: ['ok'] },
      by: 'a',
      now: T0,
    });
    expect(noConditions.ok ? null : noConditions.error.field).toBe('conditions');
    const d = checkDecision(withEvidence, {
      decision: {
        decision: 'pass-with-conditions',
        reasons: ['ok'],
        conditions: [{ text: 'x', due: '2026-07-01T00:00:00Z' }],
      },
      by: 'a',
      now: T0 + DAY,
    });
    if (!d.ok) throw new Error(d.error.message);
    const conditional = applyDecision(withEvidence, { ...d.value, signature: 'a.b.c' });
    expect(conditional.status).toBe('conditional');
    const late = refreshFlags(conditional, Date.parse('2026-07-02T00:00:00Z'));
    expect(late.raised.map((f) => f.kind)).toEqual(['condition-overdue']);
  });

  it('flags an overdue milestone once and clears it when met', () => {
    const planned = planCase(fresh(), plan);
    if (!planned.ok) throw new Error(planned.error.message);
    const after = Date.parse('2026-06-12T00:00:00Z');
    const first = refreshFlags(planned.value, after);
    expect(first.raised.map((f) => f.subject)).toEqual(['site-ready']);
    expect(refreshFlags(first.value, after + 1).raised).toEqual([]);
    const met = reportMilestone(first.value, { id: 'site-ready', report: { status: 'done' }, now: after + 2 });
    if (!met.ok) throw new Error(met.error.message);
    expect(refreshFlags(met.value, after + 3).value.flags.every((f) => f.cleared)).toBe(true);
  });

  it('supervision goes suspend → rectify → re-inspect (pass) → restore, refusing anything out of order', () => {
    let c = fresh();
    const order = (action: 'suspend' | 'require-rectification' | 'reinspect' | 'restore', more = {}) =>
      checkOrder(c, { order: { action, reason: 'r', ...more }, by: 's', now: T0 });
    expect(order('restore').ok).toBe(false);
    for (const [action, more] of [
      ['suspend', {}],
      ['require-rectification', { due: '2026-06-08T00:00:00Z' }],
      ['reinspect', { result: 'pass' }],
      ['restore', {}],
    ] as const) {
      const o = order(action, more);
      if (!o.ok) throw new Error(o.error.message);
      c = applyOrder(c, { ...o.value, signature: 'a.b.c' });
    }
    expect(c.supervision.state).toBe('normal');
    expect(c.supervision.orders).toHaveLength(4);
  });
});
