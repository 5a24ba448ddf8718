import type { Faker } from '@faker-js/faker';
import type { NodeClient } from '@cpnet/client';
import { BUSY_RATE, type RunClock } from '../clock/virtual-clock.ts';
import type { Checker } from '../checker/checker.ts';
import type { Scenario, TemplateData } from '../scenario/schema.ts';
import type { Network } from './network.ts';
import type { SimProvider } from './providers.ts';

/** What a run keeps while it executes steps. */
export interface RunContext {
  readonly scenario: Scenario;
  /** The run's seed (the scenario's, or the one the run was given). */
  readonly seed: number;
  readonly net: Network;
  readonly clock: RunClock;
  /** Virtual ms the calendar was moved on by `advance` steps: step times (`at`) do not count them. */
  readonly advanced: { ms: number };
  readonly faker: Faker;
  readonly checker: Checker;
  /** Identifiers acknowledged by `register` steps, with the node that issued them. */
  readonly registered: Array<{ id: string; node: string; op: string; at: number }>;
  /** Resolution latencies measured by expectations (real ms). */
  readonly resolveMs: number[];
  /** When each fault was injected (virtual ms), by name (or target). */
  readonly faultTimes: Map<string, number>;
  /** The last `nothing-lost` verdict, for the run's metrics. */
  lastCheck: { lost: number; duplicated: number; severalFinal: number; jobsLost: number } | null;
  /** Faults still in force, by name (or target), to heal. */
  readonly faults: Map<string, () => Promise<void> | void>;
  /** Applicant keys of nodes started by `apply` (a duplicate runs as `CODE#n`). */
  readonly applicants: Map<string, string[]>;
  /** Providers with their gateways and fake clusters. */
  readonly providers: SimProvider[];
  /** Real ms each job submission took to answer (placement and dispatch included). */
  readonly submitMs: number[];
  /** Jobs acknowledged by the node they were submitted to. */
  readonly jobs: Array<{
    id: string;
    node: string;
    stream: string;
    tenant: string;
    latencyTolerant: boolean;
    userProvince: string | null;
    /** The template's input data (`ext.data` on the wire), null when it names none. */
    data: TemplateData | null;
    submittedAt: number;
    /** The job's place in its stream (its arrival), the same in every run of a seed. */
    index: number;
  }>;
  /** Dispatches the gateways accepted (virtual ms). */
  readonly dispatches: Array<{ job: string; cluster: string; at: number }>;
  /** A tenant's client at a node (account and token made once, as a person would). */
  readonly tenantClient: (node: string, tenant: string) => Promise<NodeClient>;
  /** Outcomes of forged and replayed messages sent by fault steps. */
  readonly attacks: Array<{
    kind: 'forge' | 'replay' | 'out-of-scope' | 'revoked-write';
    target: string;
    refused: boolean;
    status: number | null;
    detail: string;
  }>;
}

/** Scenario time: virtual ms since the run started, less the calendar advances (what steps' `at` is measured in). */
export function now(ctx: Pick<RunContext, 'clock' | 'advanced'>): number {
  return ctx.clock.elapsed() - ctx.advanced.ms;
}

/**
 * Virtual ms per wall ms to scale a wall-time figure by (a link latency given in virtual time): the speed, or at `max`
 * the governor's cap while work is in flight.
 */
export function wallRate(ctx: Pick<RunContext, 'clock'>): number {
  return Number.isFinite(ctx.clock.speed) ? ctx.clock.speed : BUSY_RATE;
}

/** Polls `fn` until it is truthy or `withinMs` of virtual time passes (then returns the last value). */
export async function poll<T>(
  ctx: RunContext,
  fn: () => Promise<T>,
  o: { withinMs: number; ok: (v: T) => boolean },
): Promise<T> {
  const end = now(ctx) + o.withinMs;
  for (;;) {
    const v = await fn();
    if (o.ok(v) || now(ctx) >= end) return v;
    // Virtual time: polls are as far apart at every speed, and at `max` the wait is skipped when nothing else runs.
    await ctx.clock.sleep(250);
  }
}
