import { describe, expect, it } from 'vitest';
import type { NodeClient } from '@cpnet/client';
import { createGovernor, type RealTime, type RunClock } from '../clock/virtual-clock.ts';
import { now, type RunContext } from './context.ts';
import { runStream } from './jobs.ts';
import type { JobStream } from '../scenario/schema.ts';

// Wall time here is fake (the governor steps when the test says). The node side is a stand-in: what is checked is when
// the simulator's stream sends its submissions, in virtual time, when a tenant's sign-in takes a while.
describe("a job stream's start", () => {
  it('signs its tenant in before the start, so the first arrivals keep their spacing instead of going out at once', async () => {
    let wall = 1000;
    const real: RealTime = { monotonicMs: () => wall, setTimeout: () => ({ cancel: () => undefined }) };
    const g = createGovernor({ start: 0, speed: 10, real, settleMs: 0 });
    const clock: RunClock = { ...g.clock, governor: g };
    const sent: number[] = [];
    let signInAt: number | null = null;
    let client: Promise<NodeClient> | null = null;
    const ctx = {
      clock,
      advanced: { ms: 0 },
      seed: 1,
      scenario: { name: 'start' },
      faker: { string: { alphanumeric: () => 'x' } },
      submitMs: [] as number[],
      jobs: [] as unknown[],
      checker: { ack: () => undefined },
      // Signing in (an account, then a token) takes 5 virtual seconds.
      tenantClient: () =>
        (client ??= (async () => {
          signInAt = now(ctx as never);
          await clock.sleep(5000);
          return {
            request: async () => {
              sent.push(now(ctx as never));
              return { ok: true, status: 201, value: { id: `job-${sent.length}`, state: 'queued' } };
            },
          } as unknown as NodeClient;
        })()),
    };
    const stream = {
      name: 's',
      submitTo: 'CPN.51',
      tenant: 't',
      count: 10,
      start: 60_000,
      arrival: { kind: 'uniform', every: 1000 },
      template: { demand: { cpuCores: 1, memoryGib: 1 }, durationHours: 0.01, latencyTolerant: false },
    } as unknown as JobStream;
    const done = runStream(ctx as unknown as RunContext, { stream, stopped: () => false, onRefusal: () => undefined });
    for (let k = 0; k < 2000 && sent.length < 10; k++) {
      wall += 5; // 50 virtual ms per step at speed 10
      g.step();
      await new Promise((r) => setImmediate(r));
    }
    await done;
    expect(signInAt).not.toBeNull();
    expect(signInAt!).toBeLessThanOrEqual(30_000 + 100);
    // One second apart from the first arrival (61 s: uniform arrivals come `every` after the start), not bunched at
    // the end of a sign-in begun at the first one (before: the first six at 65 s).
    expect(sent).toHaveLength(10);
    for (let i = 0; i < 10; i++) expect(Math.abs(sent[i]! - (61_000 + i * 1000))).toBeLessThanOrEqual(100);
  });
});
