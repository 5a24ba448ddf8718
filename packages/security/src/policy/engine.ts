import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import { isWithin, parentPrefix, prefixLevel } from '@cpnet/identifier';
import { residencyVerdict } from '@cpnet/protocol';
import { POLICY_MODEL, POLICY_RULES, type PolicyRule } from './policy-data.ts';
import type { AccessRequest, Decision } from './types.ts';

/** A loaded policy; `decide` is synchronous (~20–60 µs). */
export interface Policy {
  decide(request: AccessRequest): Decision;
}

function registerFunctions(e: Enforcer): void {
  e.addFunction('within', (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && isWithin(a, b));
  e.addFunction(
    'strictlyWithin',
    (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a !== b && isWithin(a, b),
  );
  e.addFunction('childOf', (a: unknown, b: unknown) => typeof a === 'string' && parentPrefix(a) === b);
  e.addFunction(
    'oneOf',
    (a: unknown, list: unknown) => typeof list === 'string' && (list === '*' || list.split(' ').includes(String(a))),
  );
  e.addFunction('listed', (a: unknown, list: unknown) => Array.isArray(list) && list.includes(a));
}

/** Loads the shipped policy (or `rules`, for tests) into a casbin enforcer. */
export async function createPolicy(rules: readonly PolicyRule[] = POLICY_RULES): Promise<Policy> {
  const enforcer = await newEnforcer(newModelFromString(POLICY_MODEL));
  registerFunctions(enforcer);
  await enforcer.addPolicies(rules.map((r) => [r.sub, r.obj, r.act, r.eft, r.name]));
  const why = new Map(rules.map((r) => [r.name, r.why]));
  // The policy is fixed once loaded, so a decision depends only on the request: busy nodes ask the same few
  // questions (this child places a job under its prefix) thousands of times; casbin's matcher costs tens of µs.
  const decided = new Map<string, Decision>();
  // A resource's `id` is in no rule of the shipped policy (nor in a reason), so decisions about two records, clusters
  // or jobs that differ only by it are one decision: keyed without it, the thousands of identifiers a node registers,
  // copies and reports while the hierarchy starts stop missing the cache one by one (3.7 % of the busiest thread's
  // start-up in the scale run, bench/README.md "The start-up"). A rule set that reads `r.obj.id` keys with it.
  const idMatters = rules.some((r) => /\br\.obj\.id\b/.test(`${r.sub} ${r.obj}`));
  const evaluate = (request: AccessRequest): Decision => {
    const { principal, action, resource, context } = request;
    const residency = context?.province === undefined ? null : residencyVerdict(context.residency, context.province);
    const env = { residency: residency === null ? 'n/a' : residency.allowed ? 'allowed' : 'denied' };
    const obj = {
      ...resource,
      level: resource.type === 'prefix' ? prefixLevel(resource.prefix) : null,
      reviewers: resource.reviewers ?? [],
      ownerNode: resource.ownerNode ?? '',
    };
    let result: [boolean, string[]];
    try {
      result = enforcer.enforceExSync({ ...principal }, obj, action, env);
    } catch (e) {
      return {
        allowed: false,
        rule: null,
        reason: `the policy could not be evaluated (${(e as Error).message}); denied`,
      };
    }
    const [allowed, matched] = result;
    // A denial explained by an allow rule cannot come from deny-overrides; report it as the default deny.
    const rule = allowed || matched[3] === 'deny' ? (matched[4] ?? null) : null;
    if (rule === null)
      return {
        allowed: false,
        rule: null,
        reason: `no rule allows ${principal.kind} ${principal.id} to ${action} ${resource.type} in ${resource.prefix} (default deny)`,
      };
    const base = why.get(rule) ?? rule;
    const reason = rule === 'data-residency' && residency && !residency.allowed ? `${base}: ${residency.reason}` : base;
    return { allowed, rule, reason };
  };
  return {
    decide(request) {
      const resource =
        idMatters || request.resource.id === undefined ? request.resource : { ...request.resource, id: null };
      const key = JSON.stringify([request.principal, request.action, resource, request.context ?? null]);
      const known = decided.get(key);
      if (known) return known;
      const decision = Object.freeze(evaluate(request));
      if (decided.size >= DECISIONS_KEPT) decided.clear();
      decided.set(key, decision);
      return decision;
    },
  };
}

/** Decisions remembered per loaded policy (all are dropped when full: a cheap bound). */
const DECISIONS_KEPT = 10_000;
