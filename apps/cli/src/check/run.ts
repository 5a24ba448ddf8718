import { randomUUID } from 'node:crypto';
import { formatTime, NodeInfo, ROUTES, validate } from '@cpnet/protocol';
import { createClient } from '@cpnet/client';
import {
  CHECKS,
  CHECK_LISTS,
  exchange,
  runCheckList,
  statusOf,
  bodyOf,
  type CheckOutcome,
  type CpnNode,
} from '@cpnet/node';
import type { Logger } from 'pino';
import type { Clock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { EXTRA_CHECKS } from './extra-checks.ts';
import { FUNCTION_CHECKS, runFunctionChecks } from './function-checks.ts';
import {
  applicationOf,
  applicationRefusals,
  notRun,
  REFUSED_GRACE_MS,
  refusalSummary,
  type AppRow,
} from './application.ts';
import { askForResults, resultsHeld, reverse, REVERSE_CHECK, until } from './reverse.ts';
import { CheckSetupError, loadState, parentUrlOf } from './state.ts';
import { startVirtualNodes } from './virtual-nodes.ts';

/** A version of the check list: 1.0 (the protocol) or 1.1 (the protocol and the node functions, the default). */
export type ListVersion = keyof typeof CHECK_LISTS;
/** The check list versions `--list` accepts, the default last. */
export const LIST_VERSIONS: readonly ListVersion[] = ['1.0', '1.1'];

/** One conformance check in a report: a MUST statement, whether it held, and the evidence when it did not. */
export interface ConformanceCheck {
  readonly id: string;
  readonly description: string;
  readonly passed: boolean;
  /** The check never ran (an earlier step failed): reported apart from the failures, never as passed. */
  readonly notRun?: true;
  readonly evidence?: unknown;
}

/** The report of `cpnet check run` (also its --json output). */
export interface ConformanceReport {
  readonly target: string;
  readonly code: string | null;
  readonly as: 'regional' | 'industry';
  readonly listVersion: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly passed: boolean;
  readonly checks: ConformanceCheck[];
}

/** Options of a run. */
export interface RunOptions {
  readonly stateDir: string;
  readonly target: string;
  readonly as: 'regional' | 'industry';
  /** The check list to run (default 1.1). */
  readonly list?: ListVersion;
  /**
   * How long what the target sends upward by itself (a summary, job updates, metering) may take to reach the parent
   * (wall ms; default 15 s, three times the documented 5 s summary interval).
   */
  readonly flowWaitMs?: number;
  /** How long the target may take to re-place the jobs of a cluster gone dark (wall ms; default 60 s). */
  readonly darkWaitMs?: number;
  /** Each request of a check may take this long (wall ms: it guards a real connection). */
  readonly timeoutMs: number;
  /**
   * How long to wait for the target's application, its review and the reverse joint debugging (ms of `clock`: wall
   * time, since the target is a real node).
   */
  readonly waitMs: number;
  /**
   * The runner's clock, also the virtual nodes' node time: the target is a real node checking signatures against its
   * own clock, so this is the system clock (the default) outside tests.
   */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Progress lines for a person (stderr). */
  readonly progress?: (line: string) => void;
}

const APPLICATION_CHECK = {
  id: 'application-approved',
  description:
    "The target MUST apply to its parent with an application that meets the guide's rules (申报), and be approved",
};
const GRANT_CHECK = {
  id: 'grant-installed',
  description:
    'After approval the target MUST install its certificate and delegation and present them at GET /cpn/v1/node',
};

/** The node's own list (run both ways) of a list version. */
function nodeList(list: ListVersion): readonly string[] {
  return CHECK_LISTS[list];
}

/**
 * Every check id a run reports, in order (industry targets add the list run from the national node, prefixed
 * `national:`); list 1.1 adds the node-function checks the parent runs with a virtual provider.
 */
export function checkIds(as: 'regional' | 'industry', list: ListVersion = '1.1'): string[] {
  return [
    APPLICATION_CHECK.id,
    GRANT_CHECK.id,
    ...nodeList(list),
    ...(as === 'industry' ? nodeList(list).map((id) => `national:${id}`) : []),
    ...EXTRA_CHECKS.map((c) => c.id),
    ...(list === '1.0' ? [] : FUNCTION_CHECKS.map((c) => c.id)),
    REVERSE_CHECK.id,
    ...(as === 'industry' ? [`national:${REVERSE_CHECK.id}`] : []),
  ];
}

/** The description of every check, by id. */
export function checkDescriptions(as: 'regional' | 'industry'): Record<string, string> {
  const all = [APPLICATION_CHECK, GRANT_CHECK, ...CHECKS, ...EXTRA_CHECKS, ...FUNCTION_CHECKS, REVERSE_CHECK];
  const out: Record<string, string> = {};
  for (const c of all) out[c.id] = c.description;
  if (as === 'industry')
    for (const c of [...CHECKS, REVERSE_CHECK]) out[`national:${c.id}`] = `${c.description} (with the national node)`;
  return out;
}

/** Drops the evidence of passed checks except a short `observed`, so the report stays small. */
function fromOutcome(o: CheckOutcome, prefix = ''): ConformanceCheck {
  return o.passed
    ? { id: `${prefix}${o.id}`, description: o.description, passed: true }
    : { id: `${prefix}${o.id}`, description: o.description, passed: false, evidence: o.evidence };
}

/**
 * `cpnet check run`: starts the virtual national node (and regional parent) of a state folder, waits for the target's
 * application, lets the parent review it by the guide's rules, then runs every conformance check against the target.
 */
export async function runConformance(options: RunOptions): Promise<ConformanceReport> {
  const state = loadState(options.stateDir);
  if (state.as !== options.as)
    throw new CheckSetupError('usage', `the state folder was initialised for --as ${state.as}, not ${options.as}`);
  let targetUrl: URL;
  try {
    targetUrl = new URL(options.target);
  } catch {
    throw new CheckSetupError('usage', `--target "${options.target}" is not a URL (e.g. http://127.0.0.1:7051)`);
  }
  const endpoint = targetUrl.origin;
  const clock = options.clock ?? systemClock;
  const startedAt = formatTime(clock.now());
  const say = options.progress ?? (() => undefined);
  const descriptions = checkDescriptions(options.as);
  const list = options.list ?? '1.1';
  const ids = checkIds(options.as, list);
  const nodes = await startVirtualNodes(state, { logger: options.logger, clock, waitMs: options.waitMs });
  say(
    `virtual national node listening on http://${state.host}:${state.national.port}${nodes.regional ? `; virtual regional node ${state.regional!.code} on ${parentUrlOf(state)}` : ''}`,
  );
  const checks: ConformanceCheck[] = [];
  let code: string | null;
  try {
    const resultsBefore = {
      parent: await resultsHeld(nodes.parent.context),
      national: await resultsHeld(nodes.national.context),
    };
    code = await runAll({
      options,
      nodes,
      endpoint,
      checks,
      say,
      descriptions,
      ids,
      list,
      stateCode: state.code,
      resultsBefore,
    });
  } finally {
    await nodes.close();
  }
  return {
    target: endpoint,
    code,
    as: options.as,
    listVersion: list,
    startedAt,
    finishedAt: formatTime(clock.now()),
    passed: checks.length > 0 && checks.every((c) => c.passed),
    checks,
  };
}

interface RunInput {
  options: RunOptions;
  nodes: { parent: CpnNode; national: CpnNode; regional: CpnNode | null };
  endpoint: string;
  checks: ConformanceCheck[];
  say: (line: string) => void;
  descriptions: Record<string, string>;
  ids: string[];
  list: ListVersion;
  stateCode: string;
  /** Joint-debugging results each virtual node held when the run began. */
  resultsBefore: { parent: number; national: number };
}

async function runAll(input: RunInput): Promise<string | null> {
  const { options, nodes, endpoint, checks, say, descriptions, ids } = input;
  const parent = nodes.parent.context;
  const clock = parent.deps.clock;
  const rest = (why: string) => checks.push(...notRun(ids.slice(checks.length), descriptions, why));
  say(
    `waiting up to ${Math.round(options.waitMs / 1000)} s for ${endpoint} and its application (expected code ${input.stateCode})`,
  );
  // The target's code: from its GET /cpn/v1/node, else the code the state folder was initialised for.
  // Waiting is not a check: the probes take the longer of the check timeout and 5 s.
  const probeMs = Math.max(options.timeoutMs, 5000);
  const info = await until(
    async () => {
      const r = await createClient({ baseUrl: endpoint, timeoutMs: probeMs }).node();
      return r.ok ? r.value : null;
    },
    { clock, waitMs: options.waitMs },
  );
  const code = info?.code ?? input.stateCode;
  // Refusals before an application exists (a bad signature) show only as the parent's security alerts: once one is
  // seen, the run waits a few seconds for a good application, then says why, instead of waiting out --wait.
  const baseline = await parent.db.events.newestSeq();
  let refusals: string[] = [];
  let firstRefusalAt: number | null = null;
  const decided = await until<AppRow | 'refused'>(
    async () => {
      const row = await applicationOf(parent, code);
      if (row && (row.status === 'approved' || row.status === 'rejected')) return row;
      refusals = await applicationRefusals(parent, baseline);
      if (refusals.length === 0 || row) return null;
      firstRefusalAt ??= clock.now();
      return clock.now() - firstRefusalAt >= Math.min(REFUSED_GRACE_MS, options.waitMs) ? 'refused' : null;
    },
    { clock, waitMs: options.waitMs },
  );
  if (!decided || decided === 'refused') {
    const row = await applicationOf(parent, code);
    if (refusals.length === 0) refusals = await applicationRefusals(parent, baseline);
    checks.push({
      ...APPLICATION_CHECK,
      passed: false,
      evidence: {
        expected: `an application by ${code} at ${parent.config.code}, decided`,
        detail:
          refusals.length > 0 && !row
            ? refusalSummary(code, refusals)
            : row
              ? `the application ${row.id} is still ${row.status} after ${options.waitMs} ms`
              : `no application by ${code} arrived within ${options.waitMs} ` +
                `ms${info ? '' : ` (and ${endpoint} did not answer GET ${ROUTES.node})`}`,
      },
    });
    rest(refusals.length > 0 && !row ? 'the parent refused every application' : 'no decided application');
    return info ? code : null;
  }
  if (decided.status === 'rejected') {
    const reasons = JSON.parse(decided.reasons) as { rule: string; message: string }[];
    checks.push({
      ...APPLICATION_CHECK,
      passed: false,
      evidence: {
        request: {
          method: 'POST',
          url: `${parentUrlFor(nodes)}${ROUTES.applications}`,
          body: JSON.parse(decided.body) as unknown,
        },
        response: { status: 422, body: { reasons } },
        expected: 'an application meeting every rule of the guide',
        detail: reasons.map((r) => `${r.rule}: ${r.message}`).join('; '),
      },
    });
    rest('the application was refused');
    return code;
  }
  checks.push({ ...APPLICATION_CHECK, passed: true });
  say(`application ${decided.id} by ${code} approved; waiting for the target to install its certificate`);
  // The same body is judged the same way as by identity-chain: a NodeInfo the schema refuses has no certificate to
  // speak of, whatever field it carries.
  let lastProblem = 'no answer';
  const granted = await until(
    async () => {
      const x = await exchange({
        method: 'GET',
        url: `${endpoint}${ROUTES.node}`,
        headers: { 'cpn-protocol': '1.0' },
        timeoutMs: probeMs,
      });
      if (statusOf(x) !== 200) {
        lastProblem = `GET ${ROUTES.node} answered ${statusOf(x)}`;
        return null;
      }
      const v = validate(NodeInfo, bodyOf(x));
      if (!v.ok) {
        lastProblem = `the NodeInfo does not match its schema: ${v.error.error.message}`;
        // A certificate is installed but the body around it is wrong: waiting will not change it.
        return typeof (bodyOf(x) as { certificate?: unknown }).certificate === 'string' ? 'invalid' : null;
      }
      if (typeof v.value.certificate !== 'string') {
        lastProblem = 'the NodeInfo has no certificate';
        return null;
      }
      return x;
    },
    { clock, waitMs: options.waitMs },
  );
  checks.push(
    granted && granted !== 'invalid'
      ? { ...GRANT_CHECK, passed: true }
      : {
          ...GRANT_CHECK,
          passed: false,
          evidence: {
            request: { method: 'GET', url: `${endpoint}${ROUTES.node}` },
            expected: 'a NodeInfo matching its schema, with `certificate` and `chain`',
            detail: granted === 'invalid' ? lastProblem : `${lastProblem} (within ${options.waitMs} ms)`,
          },
        },
  );
  const target = { prefix: code, endpoint };
  say(`running the joint-debugging checks from ${parent.config.code}`);
  const listed = new Set(nodeList(input.list));
  const ofList = (os: CheckOutcome[]) => os.filter((o) => listed.has(o.id));
  for (const o of ofList(await runCheckList(parent, target, { timeoutMs: options.timeoutMs })))
    checks.push(fromOutcome(o));
  if (nodes.regional) {
    say('running the joint-debugging checks from CPN');
    for (const o of ofList(await runCheckList(nodes.national.context, target, { timeoutMs: options.timeoutMs })))
      checks.push({ ...fromOutcome(o, 'national:'), description: descriptions[`national:${o.id}`] ?? o.description });
  }
  const record = await parent
    .clientFor(parent.endpoint())
    .register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://conformance.example.cn', ttl: 0 }] });
  const recordId = record.ok ? record.value.id : '';
  for (const c of EXTRA_CHECKS) {
    say(`check ${c.id}`);
    try {
      if (!recordId)
        throw new Error(`the checking node could not register a record: ${record.ok ? '' : record.error.message}`);
      await c.run({ ctx: parent, target, timeoutMs: options.timeoutMs, recordId });
      checks.push({ id: c.id, description: c.description, passed: true });
    } catch (e) {
      const evidence = (e as { evidence?: unknown }).evidence ?? {
        expected: 'the check to complete',
        detail: (e as Error).message,
      };
      checks.push({ id: c.id, description: c.description, passed: false, evidence });
    }
  }
  if (input.list !== '1.0') {
    say(`running the node-function checks from ${parent.config.code} with a virtual provider`);
    const env = {
      parent,
      target,
      clock,
      timeoutMs: options.timeoutMs,
      flowWaitMs: options.flowWaitMs ?? 15_000,
      darkWaitMs: options.darkWaitMs ?? 60_000,
    };
    checks.push(...(await runFunctionChecks(env, say)));
  }
  // Only a result of this run counts: each virtual parent asks the target for a fresh one (a node already online
  // does not joint-debug again by itself).
  const requestId = randomUUID();
  const asked = await askForResults(nodes, { endpoint, info, requestId });
  checks.push(
    await reverse(parent, {
      code,
      waitMs: options.waitMs,
      before: input.resultsBefore.parent,
      asked,
      requestId,
      list: input.list,
    }),
  );
  // An industry node also joint-debugs with the national node.
  if (nodes.regional) {
    const r = await reverse(nodes.national.context, {
      code,
      waitMs: options.waitMs,
      before: input.resultsBefore.national,
      asked,
      requestId,
      list: input.list,
    });
    checks.push({ ...r, id: `national:${r.id}`, description: descriptions[`national:${r.id}`] ?? r.description });
  }
  return code;
}

function parentUrlFor(nodes: { parent: CpnNode }): string {
  return nodes.parent.context.endpoint();
}
