import { validate, JointDebugResult } from '@cpnet/protocol';
import { CHECK_LISTS, CHECK_LIST_VERSION } from './checks.ts';

/** A joint-debugging result a child submitted, judged by what it lists, not by the `passed` it claims. */
export interface ResultVerdict {
  readonly passed: boolean;
  /** Why it does not count as a pass (empty when it passes). */
  readonly problems: readonly string[];
  /** Each check id of the list with the outcome the result gives (`missing` when absent). */
  readonly outcomes: Readonly<Record<string, 'passed' | 'failed' | 'missing'>>;
}

/**
 * Judges a joint-debugging result (POST /cpn/v1/joint-debug) against a check list (`list`, default the current
 * `CHECK_LIST_VERSION`): it passes only when it is a valid result of that list version or a later one, by `by` against
 * `target`, listing every check id of the list with `passed: true`. `{ "passed": true, "checks": [] }` does not pass.
 */
export function judgeJointDebugResult(
  result: unknown,
  expect: { by: string; target: string; list?: keyof typeof CHECK_LISTS },
): ResultVerdict {
  const list = expect.list ?? CHECK_LIST_VERSION;
  const outcomes: Record<string, 'passed' | 'failed' | 'missing'> = {};
  for (const id of CHECK_LISTS[list] ?? []) outcomes[id] = 'missing';
  const v = validate(JointDebugResult, result);
  if (!v.ok) return { passed: false, problems: [`not a joint-debugging result: ${v.error.error.message}`], outcomes };
  const r = v.value;
  const problems: string[] = [];
  // A later list holds every check of an earlier one: a 1.1 result answers a 1.0 run, not the other way round.
  if (!(r.listVersion in CHECK_LISTS) || r.listVersion < list)
    problems.push(`check list ${r.listVersion}, expected ${list}${list === CHECK_LIST_VERSION ? '' : ' or later'}`);
  if (r.by !== expect.by) problems.push(`run by ${r.by}, expected ${expect.by}`);
  if (r.target !== expect.target) problems.push(`run against ${r.target}, expected ${expect.target}`);
  for (const c of r.checks) if (c.id in outcomes) outcomes[c.id] = c.passed ? 'passed' : 'failed';
  const missing = Object.keys(outcomes).filter((id) => outcomes[id] === 'missing');
  const failed = Object.keys(outcomes).filter((id) => outcomes[id] === 'failed');
  if (missing.length > 0) problems.push(`checks missing from the result: ${missing.join(', ')}`);
  if (failed.length > 0) problems.push(`checks failed: ${failed.join(', ')}`);
  if (!r.passed && problems.length === 0) problems.push('the result says it did not pass');
  return { passed: problems.length === 0, problems, outcomes };
}
