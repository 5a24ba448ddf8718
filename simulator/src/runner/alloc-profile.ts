import { Session } from 'node:inspector/promises';

/** A running allocation sampler of this thread's isolate. */
export interface AllocationSampler {
  /** Stops sampling; resolves to the profile (DevTools' `.heapprofile` format: `{ head, samples }`). */
  stop(): Promise<unknown>;
}

/**
 * Samples this thread's allocations (V8's sampling heap profiler, one sample per `intervalBytes` allocated on average)
 * including the objects minor and major collections have freed since: a profile of where garbage is made, which a
 * heap snapshot or `--heap-prof` (live objects only) cannot show. For benchmark investigations (bench/README.md).
 * With `CPNET_ALLOC_PROFILE_PROMOTED=1` the objects a minor collection freed are left out: what is left is what
 * outlived the young generation (promoted, then freed by a major collection, or still alive) — the old generation's
 * intake, which drives the major collections.
 */
export function sampleAllocations(
  intervalBytes = 64 * 1024,
  promotedOnly = process.env.CPNET_ALLOC_PROFILE_PROMOTED === '1',
): AllocationSampler {
  const session = new Session();
  session.connect();
  const started = (async () => {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !promotedOnly,
    });
  })();
  return {
    async stop() {
      await started;
      const { profile } = await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      return profile;
    },
  };
}
