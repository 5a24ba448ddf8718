import type { Scenario } from './schema.ts';

/** A field of a scenario naming a node that its topology does not have. */
export interface UnknownNode {
  readonly path: readonly (string | number)[];
  readonly code: string;
  /** The node of the topology closest in spelling (every topology has at least the national node). */
  readonly suggestion: string | null;
}

/** The node codes a topology starts: the national node, each region and each of its industries. */
export function topologyNodeCodes(topology: Scenario['topology']): string[] {
  const codes = ['CPN'];
  for (const r of topology.regions) {
    codes.push(`CPN.${r.code}`);
    for (const ind of r.industries) codes.push(`CPN.${r.code}.${ind}`);
  }
  return codes;
}

/** A fault target that names nodes (a prefix, or a link "A~B" of two); cluster and provider targets name none. */
function faultTargetNodes(target: string): string[] {
  return target
    .split('~')
    .map((t) => t.trim())
    .filter((t) => /^CPN(\.|$)/.test(t) && !t.includes('/'));
}

/**
 * Every place a scenario names a node — provider placement, job streams, the trace, steps' `node`, `from` and fault
 * targets — that is neither in its topology nor started by an `apply` step. A run would only find these as a failed
 * expectation; they are input errors.
 */
export function unknownNodes(scenario: Scenario): UnknownNode[] {
  // An `apply` step may start an applicant the topology lacks (a rule-breaker to be refused): it is known from then on.
  const applied = scenario.steps.flatMap((s) => ('do' in s && s.do === 'apply' ? [s.node] : []));
  const known = [...new Set([...topologyNodeCodes(scenario.topology), ...applied])];
  const knownSet = new Set(known);
  const found: UnknownNode[] = [];
  const check = (code: string, path: readonly (string | number)[]) => {
    if (!knownSet.has(code)) found.push({ path, code, suggestion: closest(code, known) });
  };
  scenario.topology.providers.forEach((p, i) => check(p.node, ['topology', 'providers', i, 'node']));
  scenario.topology.providerTemplates.forEach((t, i) =>
    t.nodes.forEach((n, j) => check(n, ['topology', 'providerTemplates', i, 'nodes', j])),
  );
  scenario.workload.jobs.forEach((j, i) => check(j.submitTo, ['workload', 'jobs', i, 'submitTo']));
  if (scenario.workload.trace) check(scenario.workload.trace.submitTo, ['workload', 'trace', 'submitTo']);
  scenario.steps.forEach((step, i) => {
    const s = step as Record<string, unknown>;
    if (typeof s.node === 'string') check(s.node, ['steps', i, 'node']);
    if (Array.isArray(s.from)) s.from.forEach((n, j) => typeof n === 'string' && check(n, ['steps', i, 'from', j]));
    const fault = s.fault;
    if (s.do === 'fault' && typeof fault === 'object' && fault !== null && 'target' in fault) {
      for (const n of faultTargetNodes(String(fault.target))) check(n, ['steps', i, 'fault', 'target']);
    }
  });
  return found;
}

/** The known name at the smallest edit distance from `code` (the first such, in topology order). */
function closest(code: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(code, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
