import { describe, expect, it } from 'vitest';
import type { ThreadUsage } from '@cpnet/simulator';
import { nodeWorkFigures } from './node-work.ts';

const usage = (activeMs: number, gcMs: number, cpuMs: number): ThreadUsage => ({
  nodes: 3,
  heapUsed: 0,
  youngGenerationMb: 128,
  activeMs,
  stalledMs: 0,
  gcMs,
  cpuMs,
});

describe('nodeWorkFigures', () => {
  it("gives each thread's busy, GC and CPU shares of the run's wall time, from the usage at its start and end", () => {
    const figures = nodeWorkFigures({
      placement: new Map(),
      first: [usage(100, 10, 200), usage(0, 0, 0)],
      last: [usage(900, 110, 1_000), usage(500, 50, -1)],
      wallMs: 1_000,
    });
    expect(figures).toEqual({
      thread_0_busy_share: 0.8,
      thread_0_gc_share: 0.1,
      thread_0_cpu_share: 0.8,
      thread_1_busy_share: 0.5,
      thread_1_gc_share: 0.05,
      // -1: the thread's CPU could not be read, so no share is made up.
    });
  });
});
