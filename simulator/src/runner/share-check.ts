// The `share` expectation: what share of a stream's placed jobs ran where the scheduler's rule says they should
// (东数西算: latency-tolerant work in western provinces; latency-bound work in its users' region; data-carrying work in
// its data's province).
import { province } from '@cpnet/identifier';
import type { Expectation } from '../scenario/schema.ts';
import type { RunContext } from './context.ts';
import { readJobs } from './jobs.ts';
import type { Verdict } from './nothing-lost.ts';

/** The share of the placed jobs of `e.of` (and `e.stream`) that ran where they should, against its bounds. */
export async function share(ctx: RunContext, e: Extract<Expectation, { that: 'share' }>): Promise<Verdict> {
  const views = await readJobs(ctx);
  const provinceOfCluster = new Map<string, string>();
  for (const p of ctx.providers) for (const [id, prov] of p.provinceOf) provinceOfCluster.set(id, prov);
  const tolerant = e.of === 'latency-tolerant-west';
  const local = e.of === 'data-local';
  const pool = ctx.jobs.filter(
    (j) =>
      (e.stream === undefined || j.stream === e.stream) &&
      (local ? j.data !== null : j.latencyTolerant === tolerant && (tolerant || j.userProvince !== null)),
  );
  let placed = 0;
  let hits = 0;
  for (const j of pool) {
    const cluster = views.get(j.id)?.cluster ?? null;
    const prov = cluster ? provinceOfCluster.get(cluster) : undefined;
    if (!prov) continue;
    placed++;
    const macro = province(prov)?.macro;
    if (local ? prov === j.data!.province : tolerant ? macro === 'west' : macro === province(j.userProvince!)?.macro)
      hits++;
  }
  const what = local ? 'data-carrying' : tolerant ? 'latency-tolerant' : 'latency-bound';
  const of = e.stream === undefined ? '' : ` of stream ${e.stream}`;
  if (placed === 0) return { passed: false, detail: `no ${what} job${of} was placed` };
  const value = hits / placed;
  const ok = (e.min === undefined || value >= e.min) && (e.max === undefined || value <= e.max);
  return {
    passed: ok,
    detail:
      `${(value * 100).toFixed(1)} % of ${placed} placed ${what} jobs${of} ` +
      (local
        ? "ran in their data's province"
        : tolerant
          ? 'ran in western provinces'
          : "stayed in their users' region"),
  };
}
