import { describe, expect, it } from 'vitest';
import { CHECKS, CHECK_LIST_VERSION } from './checks.ts';
import { judgeJointDebugResult } from './reverse-result.ts';

const who = { by: 'CPN.51', target: 'CPN' };
const result = (over: Record<string, unknown> = {}) => ({
  listVersion: CHECK_LIST_VERSION,
  target: 'CPN',
  by: 'CPN.51',
  at: '2026-12-04T00:00:00.000Z',
  passed: true,
  checks: CHECKS.map((c) => ({ id: c.id, description: c.description, passed: true })),
  ...over,
});

describe('a submitted joint-debugging result is judged by the checks it lists', () => {
  it('passes a complete passing result', () => {
    expect(judgeJointDebugResult(result(), who)).toMatchObject({ passed: true, problems: [] });
  });
  it('refuses { passed: true, checks: [] }, naming every missing check', () => {
    const v = judgeJointDebugResult(result({ checks: [] }), who);
    expect(v.passed).toBe(false);
    expect(v.problems[0]).toContain(`checks missing from the result: ${CHECKS.map((c) => c.id).join(', ')}`);
    expect(Object.values(v.outcomes).every((o) => o === 'missing')).toBe(true);
  });
  it('refuses a result claiming to pass with a failed check, another runner, target or list', () => {
    const checks = CHECKS.map((c, i) => ({ id: c.id, description: c.description, passed: i !== 0 }));
    expect(judgeJointDebugResult(result({ checks }), who).problems).toEqual([`checks failed: ${CHECKS[0].id}`]);
    expect(judgeJointDebugResult(result({ by: 'CPN.44' }), who).problems).toEqual(['run by CPN.44, expected CPN.51']);
    expect(judgeJointDebugResult(result({ target: 'CPN.44' }), who).passed).toBe(false);
    expect(judgeJointDebugResult(result({ listVersion: '0.9' }), who).passed).toBe(false);
  });
  it('judges against the list asked for: a 1.0 result fails the 1.1 list (metrics-series missing), a 1.1 one passes 1.0', () => {
    const old = CHECKS.filter((c) => c.id !== 'metrics-series').map((c) => ({ ...c, passed: true }));
    const v = judgeJointDebugResult(result({ listVersion: '1.0', checks: old }), who);
    expect(v.problems).toEqual(['check list 1.0, expected 1.1', 'checks missing from the result: metrics-series']);
    expect(judgeJointDebugResult(result({ listVersion: '1.0', checks: old }), { ...who, list: '1.0' }).passed).toBe(
      true,
    );
    expect(judgeJointDebugResult(result(), { ...who, list: '1.0' }).passed).toBe(true);
  });
  it('refuses what is not a result at all', () => {
    expect(judgeJointDebugResult({ passed: true }, who).problems[0]).toMatch(/^not a joint-debugging result/);
  });
});
