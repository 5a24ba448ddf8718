import { hasCapability, ROUTES } from '@cpnet/protocol';
import { judgeJointDebugResult, type CpnNode, type NodeContext } from '@cpnet/node';
import type { Clock } from '@cpnet/kernel';
import type { ConformanceCheck, ListVersion } from './run.ts';

// The reverse direction of joint debugging: the target checks its parent and submits the result, which the parent
// judges by the checks it lists (apps/node/src/onboarding/reverse-result.ts).

/** The check of the reverse direction. */
export const REVERSE_CHECK = {
  id: 'reverse-joint-debug',
  description:
    'The target MUST run the joint-debugging checks against its parent and submit a passing result (POST /cpn/v1/joint-debug)',
};

/** Polls `fn` every `everyMs` (default 200) of `clock` until it gives a value or `waitMs` have passed. */
export async function until<T>(
  fn: () => Promise<T | null>,
  input: { clock: Clock; waitMs: number; everyMs?: number },
): Promise<T | null> {
  const end = input.clock.now() + input.waitMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null || input.clock.now() >= end) return v;
    await input.clock.sleep(input.everyMs ?? 200);
  }
}

/** How many joint-debugging results a node holds: results already there before the run do not count. */
export async function resultsHeld(ctx: NodeContext): Promise<number> {
  return (await ctx.db.jointDebug.all()).length;
}

/**
 * POST /joint-debug/request to the target, signed by its virtual parent: '' when accepted, else why not. Only a target
 * advertising the `joint-debug-request` capability (NodeInfo `ext.capabilities`) is asked; another must joint-debug
 * again by itself during the run (restarted, say).
 */
export async function askForResults(
  nodes: { parent: CpnNode },
  target: { endpoint: string; info: unknown; requestId: string },
): Promise<string> {
  if (!hasCapability(target.info, 'joint-debug-request'))
    return (
      'the target does not advertise the joint-debug-request capability (a 1.0 node): restart it so that it ' +
      'joint-debugs again during the run'
    );
  const { endpoint } = target;
  const parent = nodes.parent.context;
  const r = await parent.clientFor(endpoint).request({
    method: 'POST',
    path: `${ROUTES.jointDebug}/request`,
    body: { reason: 'cpnet check run', request: target.requestId },
  });
  return r.ok ? '' : `POST ${ROUTES.jointDebug}/request answered ${r.error.status ?? '?'} ${r.error.message}`;
}

/**
 * Waits for the target's result against `ctx` submitted during this run (echoing `requestId` when it was asked) and
 * judges it against the check list `list`.
 */
export async function reverse(
  ctx: NodeContext,
  input: { code: string; waitMs: number; before: number; asked: string; requestId: string; list: ListVersion },
): Promise<ConformanceCheck> {
  // Only a result submitted during this run counts, and when the target was asked, only one echoing this run's
  // request id (a rerun asked by an earlier run may land during this one); of those, the newest.
  const echoes = (row: { result: string }) =>
    input.asked !== '' || (JSON.parse(row.result) as { ext?: { request?: unknown } }).ext?.request === input.requestId;
  const latest = async () => {
    const rows = (await ctx.db.jointDebug.all()).slice(input.before);
    const mine = rows.filter((r) => r.by === input.code && r.target === ctx.config.code && echoes(r));
    return mine.at(-1) ?? null;
  };
  const judge = (row: { result: string }) =>
    judgeJointDebugResult(JSON.parse(row.result) as unknown, {
      by: input.code,
      target: ctx.config.code,
      list: input.list,
    });
  const any = await until(latest, { clock: ctx.deps.clock, waitMs: input.waitMs });
  // A failing result may be followed by a passing retry: give the target a little longer.
  const row =
    any && !judge(any).passed
      ? ((await until(
          async () => {
            const r = await latest();
            return r && judge(r).passed ? r : null;
          },
          { clock: ctx.deps.clock, waitMs: Math.min(input.waitMs, 5000) },
        )) ?? any)
      : any;
  if (!row)
    return {
      ...REVERSE_CHECK,
      passed: false,
      evidence: {
        expected: `POST ${ROUTES.jointDebug} by ${input.code} with its result against ${ctx.config.code}, during this run`,
        detail:
          `no result arrived within ${input.waitMs} ms` +
          (input.asked ? ` (asked for one, but ${input.asked})` : ' (asked for one with POST /joint-debug/request)'),
      },
    };
  const verdict = judge(row);
  // The submitted result is the evidence either way: which checks it lists and their outcomes.
  const observed = { at: row.at, listVersion: row.listVersion, outcomes: verdict.outcomes };
  if (verdict.passed) return { ...REVERSE_CHECK, passed: true, evidence: { observed } };
  return {
    ...REVERSE_CHECK,
    passed: false,
    evidence: {
      request: { method: 'POST', url: ROUTES.jointDebug, body: JSON.parse(row.result) as unknown },
      observed,
      expected: `a result listing every check of list ${input.list}, all passed`,
      detail: verdict.problems.join('; '),
    },
  };
}
