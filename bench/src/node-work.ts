// How the scale run's work fell on its node threads: each thread's busy share of the run, and — with
// CPNET_NODE_WORK=1 — each node's measured event-loop time beside the share `estimateLoads` predicted for it
// (simulator/src/runner/balance.ts), so an imbalance shows which nodes the estimate gets wrong.
import type { ThreadUsage } from '@cpnet/simulator';
import { printTable, writeFigures } from '../lib.ts';

/** A node's estimated load and thread (the network's `placement`). */
type Placement = ReadonlyMap<string, { readonly load: number; readonly thread: number | null }>;

/**
 * Figures per thread (`thread_<i>_busy_share`, `_gc_share` and `_cpu_share`, and with node work
 * `thread_<i>_estimated_share`, `_measured_share` and `_uncharged_share`) from the threads' usage at the start
 * (`first`) and at the end (`last`) of a run of `wallMs`; prints the top `top` nodes of each thread by measured work
 * and writes every node's figures to bench/results/simulator-nodes.json.
 */
export function nodeWorkFigures(o: {
  placement: Placement;
  first: readonly ThreadUsage[];
  last: readonly ThreadUsage[];
  wallMs: number;
  top?: number;
}): Record<string, number> {
  const { placement, first, last, wallMs, top = 10 } = o;
  const out: Record<string, number> = {};
  last.forEach((u, i) => {
    const before = first[i];
    out[`thread_${i}_busy_share`] = (u.activeMs - (before?.activeMs ?? 0)) / wallMs;
    // GC pauses of the thread's isolate and its OS thread's CPU (V8's helper threads are not in it), over wall time.
    out[`thread_${i}_gc_share`] = (u.gcMs - (before?.gcMs ?? 0)) / wallMs;
    if (u.cpuMs >= 0 && (before?.cpuMs ?? 0) >= 0)
      out[`thread_${i}_cpu_share`] = (u.cpuMs - (before?.cpuMs ?? 0)) / wallMs;
  });
  if (!last.some((u) => u.nodeWorkMs)) return out;
  const estimated = [...placement.values()].reduce((n, p) => n + p.load, 0) || 1;
  const rows = last.flatMap((u, thread) =>
    Object.entries(u.nodeWorkMs ?? {}).map(([code, ms]) => ({
      code,
      thread,
      ms: ms - (first[thread]?.nodeWorkMs?.[code] ?? 0),
      estimate: (placement.get(code)?.load ?? 0) / estimated,
    })),
  );
  const measured = rows.reduce((n, r) => n + r.ms, 0) || 1;
  last.forEach((_, i) => {
    const mine = rows.filter((r) => r.thread === i);
    const charged = mine.reduce((n, r) => n + r.ms, 0);
    out[`thread_${i}_estimated_share`] = mine.reduce((n, r) => n + r.estimate, 0);
    out[`thread_${i}_measured_share`] = charged / measured;
    // Busy time charged to no node (GC, microtask glue, the thread's clock), over wall time.
    out[`thread_${i}_uncharged_share`] = out[`thread_${i}_busy_share`]! - charged / wallMs;
    printTable(
      `thread ${i}: ${mine.length} nodes, the top ${top} by measured event-loop time (shares of all nodes' work)`,
      mine
        .sort((a, b) => b.ms - a.ms)
        .slice(0, top)
        .map((r) => ({
          node: r.code,
          measured_ms: Math.round(r.ms),
          measured_share: r.ms / measured,
          estimated_share: r.estimate,
          ratio: r.estimate > 0 ? r.ms / measured / r.estimate : Infinity,
        })),
    );
  });
  writeFigures(
    'simulator-nodes',
    Object.fromEntries(
      rows.flatMap((r) => [
        [`${r.code}_ms`, r.ms],
        [`${r.code}_estimated_share`, r.estimate],
      ]),
    ),
  );
  return out;
}
