// Uncached 3-hop resolution: an industry node CPN.51.C151 asked for an identifier of CPN.44, so the query goes up to
// CPN.51, up to CPN and down to CPN.44 (every cache off). The network is built and applied through the real protocol
// in this process; then measured twice: with the four nodes and the resolving client in this one process
// (`resolve_3hop_*_one_process`, the old set-up), and with each node restarted from its configuration in a process
// of its own and the client here (`resolve_3hop_p50_ms`/`p99_ms`: as deployed, no node's timers, commits or GC
// stopping another node or the client). Each after 2,000 resolutions of warm-up, whose own figures (nodes apart) are
// `resolve_3hop_*_cold`.
import { rmSync } from 'node:fs';
import { createClient } from '@cpnet/client';
import { createNode, type NodeConfigInput } from '@cpnet/node';
import { quantile, type Figures } from '../lib.ts';
import { spawnNode, type NodeProcess } from './node-process.ts';
import { online, threeHopNetwork } from './three-hop-network.ts';

/** Resolves `id` at `url` `count` times one at a time; answers each one's wall ms. */
async function timeResolutions(url: string, id: string, count: number): Promise<number[]> {
  const c = createClient({ baseUrl: url });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const r = await c.resolve(id);
    if (!r.ok) throw new Error(r.error.message);
    times.push(performance.now() - t);
  }
  return times;
}

/**
 * The first `WARM` resolutions after the nodes start, then `TIMED` more (wall ms). A node's first ~2,000 answers are
 * slower while V8 compiles its hot paths (measured 2026-12-06: with the nodes apart, p50 by 250 resolutions falls from
 * ~4.7 to ~2.5 ms over the first 2,000, and each node's CPU per resolution from ~1.3 to ~0.75 ms, then stays; waiting
 * 15 s before the first one changes nothing, so it is the count, not start-up work). The steady figures are the aim's;
 * the first 2,000 are kept as `*_cold`. 2,000 timed, not the 280 of before 2026-12-06: the tail is broad (p99 of 280
 * consecutive samples ranged 7.3–16 ms within one run of 3,000; bench/README.md, "3-hop p99, sampled longer").
 */
const WARM = 2000;
const TIMED = 2000;

async function measure(url: string, id: string): Promise<{ cold: number[]; steady: number[] }> {
  const cold = await timeResolutions(url, id, WARM);
  return { cold, steady: await timeResolutions(url, id, TIMED) };
}

/** Both measurements of the 3-hop resolution into `f`. */
export async function threeHops(f: Figures): Promise<void> {
  const dirs: string[] = [];
  const processes: NodeProcess[] = [];
  try {
    const { nodes, industry, id } = await threeHopNetwork(createNode, { prefix: 'cpnet-bench-3hop-', dirs });
    const one = await measure(industry.url, id);
    f.resolve_3hop_p50_ms_one_process = quantile(one.steady, 0.5);
    f.resolve_3hop_p99_ms_one_process = quantile(one.steady, 0.99);

    // The same four nodes (same data folders, same ports), each in a process of its own, parents first.
    const configs = nodes.map((n) => ({ ...n.node.context.config, port: Number(new URL(n.url).port) }));
    for (const n of nodes) await n.node.close();
    for (const config of configs) {
      const p = await spawnNode(config as NodeConfigInput);
      processes.push(p);
      await online(p.url);
    }
    const apart = await measure(processes[3]!.url, id);
    f.resolve_3hop_p50_ms = quantile(apart.steady, 0.5);
    f.resolve_3hop_p99_ms = quantile(apart.steady, 0.99);
    f.resolve_3hop_p50_ms_cold = quantile(apart.cold, 0.5);
    f.resolve_3hop_p99_ms_cold = quantile(apart.cold, 0.99);
  } finally {
    for (const p of processes.reverse()) await p.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
