import { chainStageOf } from './guide-steps.ts';
import type { Expectation } from '../scenario/schema.ts';
import { formatDuration } from '../scenario/duration.ts';
import type { ExpectationResult } from '../report/report.ts';
import { codeOfApplication } from './actions.ts';
import { now, poll, wallRate, type RunContext } from './context.ts';
import { acceptanceVerdict } from './acceptance.ts';
import { RULE_OF_BREAK, type Break } from './application.ts';
import { isFinal } from './jobs.ts';
import { watchJobs } from './job-watch.ts';
import { nothingLost, type Verdict } from './nothing-lost.ts';
import { share } from './share-check.ts';
import { stopwatch } from '@cpnet/kernel/system';
import { certificateValidity, verifyChain } from '@cpnet/security';

/** Checks one expectation; never throws — a failure says what was expected and what was found. */
export async function checkExpectation(ctx: RunContext, e: Expectation): Promise<ExpectationResult> {
  const name = e.name ?? describeExpectation(e);
  try {
    const r = await evaluate(ctx, e);
    return { name, at: now(ctx), passed: r.passed, detail: r.detail };
  } catch (err) {
    return { name, at: now(ctx), passed: false, detail: `could not check: ${(err as Error).message}` };
  }
}

/** A short name for an expectation without one. */
export function describeExpectation(e: Expectation): string {
  switch (e.that) {
    case 'lifecycle':
      return `${e.node} is ${e.is}${e.within ? ` within ${formatDuration(e.within)}` : ''}`;
    case 'refused':
      return `${e.node}'s application is refused for ${e.rules.join(', ')}`;
    case 'chain':
      return `${e.node}'s review chain is at ${e.stage}`;
    case 'resolvable':
      return `every registered identifier resolves from ${e.from === 'every-node' ? 'every node' : e.from.join(', ')}`;
    case 'joint-debug':
      return `${e.node} ${e.passes ? 'passes' : 'fails'} joint debugging${e.failing ? ` (${e.failing.join(', ')})` : ''}`;
    case 'jobs':
      return `jobs ${e.state}${e.min !== undefined ? ` ≥ ${e.min}` : ''}${e.max !== undefined ? ` ≤ ${e.max}` : ''}`;
    case 'nothing-lost':
      return 'nothing acknowledged is lost or applied twice';
    case 'certificate':
      return `${e.node}'s certificate chain verifies${e.validFor ? ` and stays valid ${formatDuration(e.validFor)} longer` : ''}`;
    case 'timing': {
      const p50 = e.bound.p50 !== undefined ? ` p50 ≤ ${formatDuration(e.bound.p50)}` : '';
      const p99 = e.bound.p99 !== undefined ? ` p99 ≤ ${formatDuration(e.bound.p99)}` : '';
      return `${e.metric} time${p50}${p99}`;
    }
    case 'share':
      return `share ${e.of}${e.stream ? ` (${e.stream})` : ''}`;
    case 'market':
      return `the market at ${e.node} lists ≥ ${e.clusters} clusters`;
    case 'alerts':
      return `${e.node} raised ≥ ${e.min} security alerts`;
    case 'selection':
      return `selections at ${e.node} offer no cluster of ${e.excludesProvider}`;
    case 'attacks-refused':
      return 'every attack was refused';
    case 'acceptance':
      return [
        `${e.node}'s acceptance case`,
        e.status ? ` is ${e.status}` : '',
        e.overdue ? ` (overdue: ${e.overdue.join(', ') || 'none'})` : '',
        e.supervision ? `, supervision ${e.supervision}` : '',
      ].join('');
  }
}

async function evaluate(ctx: RunContext, e: Expectation): Promise<Verdict> {
  switch (e.that) {
    case 'lifecycle': {
      const sim = ctx.net.nodes.get(e.node);
      if (!sim) return { passed: false, detail: `${e.node} was never started` };
      const read = async () => {
        if (!sim.running) return 'not running';
        const r = await sim.anon().node();
        return r.ok ? r.value.lifecycle : `unreachable (${r.error.message})`;
      };
      const got = await poll(ctx, read, { withinMs: e.within ?? 0, ok: (v) => v === e.is });
      return { passed: got === e.is, detail: got === e.is ? `${e.node} is ${got}` : `expected ${e.is}, found ${got}` };
    }
    case 'chain': {
      const got = await poll(ctx, () => chainStageOf(ctx, e).catch((x: unknown) => String(x)), {
        withinMs: e.within ?? 0,
        ok: (v) => v === e.stage,
      });
      return { passed: got === e.stage, detail: got === e.stage ? `at ${got}` : `expected ${e.stage}, found ${got}` };
    }
    case 'refused':
      return refused(ctx, e);
    case 'acceptance':
      return acceptanceVerdict(ctx, e);
    case 'resolvable':
      return resolvable(ctx, e);
    case 'joint-debug': {
      const parent = e.node.slice(0, e.node.lastIndexOf('.'));
      const at = ctx.net.nodes.get(parent);
      if (!at?.running) return { passed: false, detail: `the parent ${parent} is not running` };
      const r = await at.anon().jointDebugResults();
      if (!r.ok) return { passed: false, detail: `cannot read results at ${parent}: ${r.error.message}` };
      const latest = r.value.items.filter((x) => x.target === e.node && x.by === parent).at(-1);
      if (!latest) return { passed: false, detail: `${parent} holds no joint-debugging result for ${e.node}` };
      const failing = latest.checks.filter((c) => !c.passed).map((c) => c.id);
      const evidence = latest.checks
        .filter((c) => !c.passed)
        .map((c) => `${c.id}: ${JSON.stringify(c.evidence ?? '')}`.slice(0, 300))
        .join('; ');
      const okPass = latest.passed === e.passes;
      const okList = !e.failing || e.failing.every((id) => failing.includes(id));
      return {
        passed: okPass && okList,
        detail:
          `list ${latest.listVersion}: ` +
          `${latest.passed ? 'passed' : `failed ${failing.join(', ')}${evidence ? ` — ${evidence}` : ''}`}`,
      };
    }
    case 'nothing-lost':
      return nothingLost(ctx);
    case 'certificate':
      return certificateHolds(ctx, e);
    case 'timing': {
      const values =
        e.metric === 'resolve'
          ? ctx.resolveMs
          : e.metric === 'failover'
            ? failoverDurations(ctx)
            : e.metric === 'dispatch'
              ? dispatchDelays(ctx)
              : [];
      if (values.length === 0) return { passed: false, detail: `no ${e.metric} measurements were taken` };
      const sorted = [...values].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
      const problems: string[] = [];
      if (e.bound.p50 !== undefined && q(0.5) > e.bound.p50)
        problems.push(`p50 ${q(0.5).toFixed(1)} ms > ${e.bound.p50} ms`);
      if (e.bound.p99 !== undefined && q(0.99) > e.bound.p99)
        problems.push(`p99 ${q(0.99).toFixed(1)} ms > ${e.bound.p99} ms`);
      if (e.bound.max !== undefined && sorted.at(-1)! > e.bound.max)
        problems.push(`max ${sorted.at(-1)!.toFixed(1)} ms > ${e.bound.max} ms`);
      return {
        passed: problems.length === 0,
        detail: problems.length
          ? problems.join('; ')
          : `n=${values.length} p50 ${q(0.5).toFixed(1)} ms p99 ${q(0.99).toFixed(1)} ms`,
      };
    }
    case 'jobs': {
      const read = watchJobs(ctx);
      const measure = async () => {
        const views = await read();
        const states = [...views.values()].map((v) => v?.state ?? 'unknown');
        const count =
          e.state === 'replaced'
            ? [...views.values()].filter((v) => v?.replaced).length
            : states.filter((st) => (e.state === 'final' ? isFinal(st) : st === e.state)).length;
        return {
          states,
          count,
          ok: (e.min === undefined || count >= e.min) && (e.max === undefined || count <= e.max),
        };
      };
      const { states, count, ok } = await poll(ctx, measure, { withinMs: e.within ?? 0, ok: (m) => m.ok });
      const by = new Map<string, number>();
      for (const st of states) by.set(st, (by.get(st) ?? 0) + 1);
      return {
        passed: ok,
        detail: `${count} of ${states.length} ${e.state} (${[...by].map(([k, v]) => `${k} ${v}`).join(', ') || 'no jobs'})`,
      };
    }
    case 'share':
      return share(ctx, e);
    case 'alerts': {
      const sim = ctx.net.nodes.get(e.node);
      if (!sim?.running) return { passed: false, detail: `${e.node} is not running` };
      const read = async () => {
        const r = await sim.anon().request<{ items: Array<{ severity: string; data: { kind?: string } }> }>({
          method: 'GET',
          path: '/cpn/v1/events?type=security.alert&limit=1000',
        });
        // Joint-debugging probes are recorded at severity info; only raised alerts count.
        return r.ok ? r.value.items.filter((a) => a.severity !== 'info') : null;
      };
      const got = await poll(ctx, read, { withinMs: e.within ?? 0, ok: (v) => v !== null && v.length >= e.min });
      if (got === null) return { passed: false, detail: `cannot read the event log of ${e.node}` };
      const kinds = new Map<string, number>();
      for (const a of got) kinds.set(a.data.kind ?? '?', (kinds.get(a.data.kind ?? '?') ?? 0) + 1);
      return {
        passed: got.length >= e.min,
        detail: `${got.length} security alerts at ${e.node} (${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ')})`,
      };
    }
    case 'selection':
      return selection(ctx, e);
    case 'attacks-refused': {
      const accepted = ctx.attacks.filter((a) => !a.refused);
      return {
        passed: ctx.attacks.length > 0 && accepted.length === 0,
        detail:
          ctx.attacks.length === 0
            ? 'no attack was sent'
            : `${ctx.attacks.length - accepted.length} of ${ctx.attacks.length} refused` +
              (accepted.length
                ? `; accepted: ${accepted.map((a) => `${a.kind} at ${a.target}`).join(', ')}`
                : ` (${[...new Set(ctx.attacks.map((a) => a.kind))].join(', ')})`),
      };
    }
    case 'market': {
      const sim = ctx.net.nodes.get(e.node);
      if (!sim?.running) return { passed: false, detail: `${e.node} is not running` };
      const read = async () => {
        const r = await sim.anon().request<{ totals: { clusters: number } }>({ method: 'GET', path: '/cpn/v1/market' });
        return r.ok ? r.value.totals.clusters : -1;
      };
      const got = await poll(ctx, read, { withinMs: e.within ?? 0, ok: (n) => n >= e.clusters });
      return {
        passed: got >= e.clusters,
        detail: `the market at ${e.node} lists ${got < 0 ? 'nothing (unreadable)' : got} clusters; expected at least ${e.clusters}`,
      };
    }
  }
}

async function refused(ctx: RunContext, e: Extract<Expectation, { that: 'refused' }>): Promise<Verdict> {
  const keys = ctx.applicants.get(e.node) ?? [];
  const parentCode = e.node.slice(0, e.node.lastIndexOf('.'));
  const parent = ctx.net.nodes.get(parentCode);
  if (!parent?.running) return { passed: false, detail: `the parent ${parentCode} is not running` };
  const wanted = e.rules.map((r) => RULE_OF_BREAK[r as Break] ?? r);
  const read = async () => {
    const r = await parent.self().applications();
    if (!r.ok)
      return { found: null as null | { status: string; rules: string[]; reasons: string }, error: r.error.message };
    const mine = r.value.items.filter((a) => codeOfApplication(a.application) === e.node && a.status === 'rejected');
    const hit = mine.find((a) => wanted.every((w) => a.reasons.some((x) => x.rule === w))) ?? mine.at(-1);
    return {
      found: hit
        ? {
            status: hit.status,
            rules: hit.reasons.map((x) => x.rule),
            reasons: hit.reasons.map((x) => `${x.rule}: ${x.message}`).join('; '),
          }
        : null,
      error: '',
    };
  };
  const got = await poll(ctx, read, {
    withinMs: 10_000 * wallRate(ctx),
    ok: (v) => v.found !== null && wanted.every((w) => v.found!.rules.includes(w)),
  });
  if (!got.found)
    return {
      passed: false,
      detail:
        got.error ||
        `no rejected application of ${e.node} at ${parentCode} (applicants started: ${keys.join(', ') || 'none'})`,
    };
  const passed = wanted.every((w) => got.found!.rules.includes(w));
  return { passed, detail: `refused with reasons — ${got.found.reasons}` };
}

async function resolvable(ctx: RunContext, e: Extract<Expectation, { that: 'resolvable' }>): Promise<Verdict> {
  const from =
    e.from === 'every-node'
      ? [...ctx.net.nodes.entries()].filter(([k, n]) => !k.includes('#') && n.running).map(([k]) => k)
      : e.from;
  const before =
    e.registeredBeforeFault !== undefined ? ctx.faultTimes.get(e.registeredBeforeFault) : e.registeredBefore;
  if (e.registeredBeforeFault !== undefined && before === undefined)
    return { passed: false, detail: `no fault named "${e.registeredBeforeFault}" was injected before this check` };
  const ids = before === undefined ? ctx.registered : ctx.registered.filter((r) => r.at < before);
  if (ids.length === 0)
    return {
      passed: false,
      detail:
        'no identifiers were registered' +
        (before === undefined
          ? ''
          : ` before ${Math.round(before)} ms (first at ${Math.round(ctx.registered[0]?.at ?? 0)} ms)`),
    };
  const misses: string[] = [];
  let checked = 0;
  for (const code of from) {
    const sim = ctx.net.nodes.get(code);
    if (!sim?.running) {
      misses.push(`${code} is not running`);
      continue;
    }
    const client = sim.anon();
    for (const reg of ids) {
      const elapsed = stopwatch();
      const r = await client.resolve(reg.id);
      ctx.resolveMs.push(elapsed()); // wall ms: a performance figure
      checked++;
      if (!r.ok) misses.push(`${reg.id} from ${code}: ${r.status} ${r.error.message}`);
      else if (r.value.record.id !== reg.id) misses.push(`${reg.id} from ${code}: answered ${r.value.record.id}`);
    }
  }
  return {
    passed: misses.length === 0,
    detail: misses.length
      ? `${misses.length} of ${checked} failed: ${misses.slice(0, 3).join('; ')}`
      : `${checked} resolutions from ${from.length} nodes`,
  };
}

function dispatchDelays(ctx: RunContext): number[] {
  const first = new Map<string, number>();
  for (const d of ctx.dispatches) if (!first.has(d.job)) first.set(d.job, d.at);
  return ctx.jobs.flatMap((j) => (first.has(j.id) ? [first.get(j.id)! - j.submittedAt] : []));
}

function failoverDurations(ctx: RunContext): number[] {
  return ctx.checker.durations();
}

async function selection(ctx: RunContext, e: Extract<Expectation, { that: 'selection' }>): Promise<Verdict> {
  const sim = ctx.net.nodes.get(e.node);
  if (!sim?.running) return { passed: false, detail: `${e.node} is not running` };
  const p = ctx.providers.find((x) => x.planned.key === e.excludesProvider || x.id === e.excludesProvider);
  if (!p) return { passed: false, detail: `no provider "${e.excludesProvider}"` };
  const banned = new Set(p.clusters.keys());
  const read = async () => {
    const r = await sim
      .self()
      .request<{ candidates: Array<{ cluster: string }>; excluded: Array<{ cluster: string; reason: string }> }>({
        method: 'POST',
        path: '/cpn/v1/selections',
        body: { template: { demand: { cpuCores: 1, memoryGib: 1 }, durationHours: 0.1 }, topK: 100 },
      });
    return r.ok ? r.value : null;
  };
  const got = await poll(ctx, read, {
    withinMs: e.within ?? 0,
    ok: (v) => v !== null && !v.candidates.some((c) => banned.has(c.cluster)),
  });
  if (!got) return { passed: false, detail: `selection at ${e.node} failed` };
  const offered = got.candidates.filter((c) => banned.has(c.cluster));
  return {
    passed: offered.length === 0,
    detail: offered.length
      ? `still offered: ${offered.map((c) => c.cluster).join(', ')}`
      : `${got.candidates.length} candidates, none of ${p.planned.name}'s ${banned.size} clusters`,
  };
}

/** The node's chain (from its NodeInfo) verifies to the national node's certificate at this virtual moment. */
async function certificateHolds(ctx: RunContext, e: Extract<Expectation, { that: 'certificate' }>): Promise<Verdict> {
  const sim = ctx.net.nodes.get(e.node);
  const national = ctx.net.nodes.get('CPN');
  if (!sim?.running || !national?.running)
    return { passed: false, detail: `${e.node} or the national node is not running` };
  const [info, root] = await Promise.all([sim.anon().node(), national.anon().node()]);
  if (!info.ok || !root.ok) return { passed: false, detail: 'cannot read NodeInfo' };
  const { certificate, chain = [] } = info.value;
  if (!certificate || !root.value.certificate) return { passed: false, detail: `${e.node} holds no certificate` };
  const v = await verifyChain([certificate, ...chain], { root: root.value.certificate, clock: ctx.clock });
  if (!v.ok) return { passed: false, detail: `certificate ${v.error.index} of the chain: ${v.error.reason}` };
  const validity = certificateValidity(certificate);
  if (!validity.ok) return { passed: false, detail: validity.error };
  const left = validity.value.notAfter - ctx.clock.now();
  const days = (left / 86_400_000).toFixed(1);
  return left >= e.validFor
    ? { passed: true, detail: `the chain verifies; valid ${days} more days` }
    : { passed: false, detail: `the chain verifies but expires in ${days} days, under ${formatDuration(e.validFor)}` };
}
