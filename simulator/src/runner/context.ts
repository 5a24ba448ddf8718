import type { Faker } from '@faker-js/faker';
import type { VirtualClock } from '../clock/virtual-clock.ts';
import type { Checker } from '../checker/checker.ts';
import type { ScenarioData } from '../scenario/schema.ts';
import type { Network } from './network.ts';

/** What a run keeps while it executes steps. */
export interface RunContext {
  readonly scenario: ScenarioData;
  readonly net: Network;
  readonly clock: VirtualClock;
  readonly faker: Faker;
  readonly checker: Checker;
  /** Identifiers acknowledged by `register` steps, with the node that issued them. */
  readonly registered: Array<{ id: string; node: string; op: string; at: number }>;
  /** Resolution latencies measured by expectations (real ms). */
  readonly resolveMs: number[];
  /** Faults still in force, by name (or target), to heal. */
  readonly faults: Map<string, () => Promise<void> | void>;
  /** Applicant keys of nodes started by `apply` (a duplicate runs as `CODE#n`). */
  readonly applicants: Map<string, string[]>;
  /** Outcomes of forged and replayed messages sent by fault steps. */
  readonly attacks: Array<{ kind: 'forge' | 'replay'; target: string; refused: boolean; status: number | null; detail: string }>;
}

/** Virtual ms since the run started. */
export function now(ctx: RunContext): number {
  return ctx.clock.elapsed();
}

/** Polls `fn` until it is truthy or `withinMs` of virtual time passes (then returns the last value). */
export async function poll<T>(ctx: RunContext, fn: () => Promise<T>, o: { withinMs: number; ok: (v: T) => boolean }): Promise<T> {
  const end = now(ctx) + o.withinMs;
  for (;;) {
    const v = await fn();
    if (o.ok(v) || now(ctx) >= end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
