// `npx tsx bench/src/ab-3hop.ts <tree-a> <tree-b> [rounds] [per-round]`: uncached 3-hop resolution (the network of
// `npm run bench -- node`'s `resolve_3hop_*`: an industry node CPN.51.C151 asked for an identifier of CPN.44, so the
// query goes up to CPN.51, up to CPN and down to CPN.44; every cache off) in two source trees' nodes side by side in
// one process: both networks run at once, and rounds of `per-round` sequential resolutions alternate between them,
// so load from elsewhere on a shared machine falls on both alike, after 2,000 of warm-up each. Prints each tree's p50,
// p90, p99 and max (wall ms) and the process's CPU per resolution while that tree's rounds ran.
// With `-` for tree-b, tree-a alone: run it in alternating processes to compare trees whose nodes block the loop.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@cpnet/client';
import type { createNode as CreateNode } from '@cpnet/node';
import { quantile } from '../lib.ts';
import { threeHopNetwork } from './three-hop-network.ts';

const [a, b, roundsArg, perArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: ab-3hop.ts <tree-a> <tree-b|-> [rounds] [per-round]');
// `-` as tree-b: only tree-a's network, so that separate processes can be alternated (in one process the two
// networks share an event loop, and a node that blocks it — an fsync inside COMMIT — delays the other's answers).
const trees = b === '-' ? [a] : [a, b];
const rounds = Number(roundsArg ?? 20);
const perRound = Number(perArg ?? 50);
const dirs: string[] = [];

/** Builds the four-node network of one tree; returns a function resolving the 3-hop identifier once, and a closer. */
async function network(tree: string): Promise<{ once: () => Promise<void>; close: () => Promise<void> }> {
  const createNode = (await import(path.resolve(tree, 'apps/node/src/index.ts'))).createNode as typeof CreateNode;
  const { nodes, industry, id } = await threeHopNetwork(createNode, { prefix: 'cpnet-ab3-', dirs });
  const c = createClient({ baseUrl: industry.url });
  return {
    once: async () => {
      const r = await c.resolve(id);
      if (!r.ok) throw new Error(r.error.message);
    },
    close: async () => {
      for (const n of [...nodes].reverse()) await n.node.close();
    },
  };
}

const nets = await Promise.all(trees.map((t) => network(t)));
// 2,000 of warm-up each: a node's hot paths are compiled by then (node-3hop.ts).
for (const n of nets) for (let i = 0; i < 2000; i++) await n.once();
const times: number[][] = [[], []];
// CPU of this one process (all four nodes and the client) while each tree's rounds ran, ms.
const cpu = [0, 0];
for (let r = 0; r < rounds; r++) {
  for (const i of trees.length === 1 ? [0] : r % 2 === 0 ? [0, 1] : [1, 0]) {
    const before = process.cpuUsage();
    for (let k = 0; k < perRound; k++) {
      const t = performance.now();
      await nets[i]!.once();
      times[i]!.push(performance.now() - t);
    }
    const used = process.cpuUsage(before);
    cpu[i]! += (used.user + used.system) / 1000;
  }
}
for (const n of nets) await n.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
for (const [i, tree] of trees.entries()) {
  const t = times[i]!;
  const q = (p: number) => quantile(t, p).toFixed(2);
  const perResolution = (cpu[i]! / t.length).toFixed(3);
  console.log(
    `${tree}: ${t.length} resolutions, p50 ${q(0.5)} ms, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${q(1)}; ` +
      `CPU ${perResolution} ms per resolution (four nodes and the client)`,
  );
}
process.exit(0);
