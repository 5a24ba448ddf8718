import type { NodeClient } from '@cpnet/client';
import type { CheckTarget, NodeContext } from '@cpnet/node';
import type { Clock } from '@cpnet/kernel';
import type { VirtualProvider } from './virtual-provider.ts';

// What the node-function checks (check list 1.1) share: the environment, the state handed from check to check, the
// failure with evidence, and the small helpers every check uses.

/** What the node-function checks work with: the virtual parent (a real node), the target, the waits. */
export interface FunctionEnv {
  readonly parent: NodeContext;
  readonly target: CheckTarget;
  readonly clock: Clock;
  /** Each request may take this long (wall ms). */
  readonly timeoutMs: number;
  /**
   * How long something the target sends on its own (a summary, a job update, metering) may take to reach the parent
   * (wall ms): three times the documented interval (a summary is considered every 5 s), 15 s by default.
   */
  readonly flowWaitMs: number;
  /**
   * How long the target may take to re-place the jobs of a cluster gone dark (wall ms; default 60 s: the reference
   * node takes a cluster silent for 45 s as down, `aggregation.downAfterMs`, and then re-places at once).
   */
  readonly darkWaitMs: number;
}

/** State the checks share, in the order they run: a check whose step before failed is not run. */
export interface Shared {
  provider?: VirtualProvider;
  firstReportAt?: number;
  tenant?: NodeClient;
  job?: string;
  /** The job re-placed by `cluster-dark-replaced`. */
  dark?: string;
}

/** A failed check: what was asked, what came back, what was expected. */
export class Failed extends Error {
  constructor(readonly evidence: { expected: string; detail: string; request?: unknown; response?: unknown }) {
    super(evidence.detail);
  }
}

/** One node-function check. */
export interface FunctionCheck {
  readonly id: string;
  readonly description: string;
  /** The ids of the checks it needs (not run when one of them failed). */
  readonly needs: readonly string[];
  run(env: FunctionEnv, s: Shared): Promise<unknown>;
}

/** A client answer, loosely typed. */
export type Answer = { ok: boolean; status: number; value?: unknown; error?: unknown };

/** Polls `fn` until it returns a value, or throws the last `Failed` after `waitMs` (wall ms of `clock`). */
export async function within<T>(env: FunctionEnv, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const end = env.clock.now() + waitMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof Failed) || env.clock.now() >= end) throw e;
      await env.clock.sleep(200);
    }
  }
}

/** A client signing as the parent, for `base`. */
export const asParent = (env: FunctionEnv, base: string) => env.parent.clientFor(base);
/** An answer as evidence. */
export const shown = (r: Answer) => ({ status: r.status, body: r.ok ? r.value : { error: r.error } });

/** A GET signed by the parent; a non-200 answer fails the check. */
export async function signedGet<T>(env: FunctionEnv, base: string, path: string): Promise<T> {
  const r = (await asParent(env, base).request<T>({ method: 'GET', path, sign: true })) as Answer;
  if (!r.ok)
    throw new Failed({
      request: { method: 'GET', url: `${base}${path}` },
      response: shown(r),
      expected: `200 from GET ${path}`,
      detail: `answered ${r.status}`,
    });
  return r.value as T;
}

/** The job template of the checks: 16 x86_64 cores in Sichuan for an hour. */
export const TEMPLATE = {
  name: '联调作业',
  demand: { cpuCores: 16, memoryGib: 64 },
  durationHours: 1,
  constraints: { arch: 'x86_64', residency: { provinces: ['51'] } },
} as const;
