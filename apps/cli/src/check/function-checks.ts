import { AGGREGATION_CHECKS, MONITORING_CHECKS } from './aggregation-checks.ts';
import type { FunctionEnv, Shared } from './function-env.ts';
import { Failed } from './function-env.ts';
import { SCHEDULING_CHECKS, SECURITY_CHECKS } from './scheduling-checks.ts';

export type { FunctionEnv } from './function-env.ts';

/**
 * The checks of the node functions (check list 1.1), run by the parent against the target with a virtual provider,
 * in order: 资源汇聚, 算力选择, 互联调度, 数据监测, 安全保障.
 */
export const FUNCTION_CHECKS = [...AGGREGATION_CHECKS, ...SCHEDULING_CHECKS, ...MONITORING_CHECKS, ...SECURITY_CHECKS];

/** The outcome of one node-function check. */
export interface FunctionOutcome {
  readonly id: string;
  readonly description: string;
  readonly passed: boolean;
  readonly notRun?: true;
  readonly evidence?: unknown;
}

/** Runs the node-function checks in order; a check whose prerequisite failed is reported as not run. */
export async function runFunctionChecks(env: FunctionEnv, say: (line: string) => void): Promise<FunctionOutcome[]> {
  const s: Shared = {};
  const out: FunctionOutcome[] = [];
  const passed = new Set<string>();
  try {
    for (const c of FUNCTION_CHECKS) {
      const missing = c.needs.filter((n) => !passed.has(n));
      if (missing.length > 0) {
        out.push({
          id: c.id,
          description: c.description,
          passed: false,
          notRun: true,
          evidence: { expected: 'the check to run', detail: `not run: ${missing.join(', ')} did not pass` },
        });
        continue;
      }
      say(`check ${c.id}`);
      try {
        await c.run(env, s);
        passed.add(c.id);
        out.push({ id: c.id, description: c.description, passed: true });
      } catch (e) {
        const evidence =
          e instanceof Failed ? e.evidence : { expected: 'the check to complete', detail: (e as Error).message };
        out.push({ id: c.id, description: c.description, passed: false, evidence });
      }
    }
  } finally {
    s.provider?.close();
  }
  return out;
}
