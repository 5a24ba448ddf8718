// Uncached 3-hop resolution: an industry node CPN.51.C151 asked for an identifier of CPN.44, so the query goes up to
// CPN.51, up to CPN and down to CPN.44 (every cache off). The network is built and applied through the real protocol
// in this process; then measured twice: with the four nodes and the resolving client in this one process
// (`resolve_3hop_*_one_process`, the old set-up), and with each node restarted from its configuration in a process
// of its own and the client here (`resolve_3hop_p50_ms`/`p99_ms`: as deployed, no node's timers, commits or GC
// stopping another node or the client).
import { rmSync } from 'node:fs';
import { createClient } from '@cpnet/client';
import { createNode, type NodeConfigInput } from '@cpnet/node';
import { quantile, type Figures } from '../lib.ts';
import { spawnNode, type NodeProcess } from './node-process.ts';
import { online, threeHopNetwork } from './three-hop-network.ts';

/**
 * 20 resolutions of warm-up, then `count` timed one at a time (wall ms). 2,000, not the 280 of before 2026-12-06: the
 * tail is broad, not a few periodic stalls (quiet machine: p90 ≈ 1.7 × p50), and the p99 of 280 consecutive samples
 * ranged 7.3–16 ms within one run of 3,000 (bench/README.md, "3-hop p99, sampled longer").
 */
async function timeResolutions(url: string, id: string, count = 2000): Promise<number[]> {
  const c = createClient({ baseUrl: url });
  const times: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const t = performance.now();
    const r = await c.resolve(id);
    if (!r.ok) throw new Error(r.error.message);
    if (i >= 20) times.push(performance.now() - t);
  }
  return times;
}

/** Both measurements of the 3-hop resolution into `f`. */
export async function threeHops(f: Figures): Promise<void> {
  const dirs: string[] = [];
  const processes: NodeProcess[] = [];
  try {
    const { nodes, industry, id } = await threeHopNetwork(createNode, { prefix: 'cpnet-bench-3hop-', dirs });
    const one = await timeResolutions(industry.url, id);
    f.resolve_3hop_p50_ms_one_process = quantile(one, 0.5);
    f.resolve_3hop_p99_ms_one_process = quantile(one, 0.99);

    // The same four nodes (same data folders, same ports), each in a process of its own, parents first.
    const configs = nodes.map((n) => ({ ...n.node.context.config, port: Number(new URL(n.url).port) }));
    for (const n of nodes) await n.node.close();
    for (const config of configs) {
      const p = await spawnNode(config as NodeConfigInput);
      processes.push(p);
      await online(p.url);
    }
    const apart = await timeResolutions(processes[3]!.url, id);
    f.resolve_3hop_p50_ms = quantile(apart, 0.5);
    f.resolve_3hop_p99_ms = quantile(apart, 0.99);
  } finally {
    for (const p of processes.reverse()) await p.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
