// `npx tsx bench/src/ab-register-apart.ts <tree-a> <tree-b> [rounds] [ms] [concurrency]`: `register_per_s` as
// `npm run bench -- node` measures it (the national node in a process of its own, `concurrency` signing clients in
// this one) for two source trees' nodes, in alternating rounds (a fresh node per round, A B B A …) so that load from
// elsewhere on a shared machine falls on both alike. Prints each tree's rate (wall time) and the node's process CPU
// per registration (/proc, so the clients' signing is not in it). `CPNET_AB_NODE_ARGS_A` / `_B`: Node flags for that
// side's node process (space-separated, e.g. `--max-semi-space-size=32`), to compare flags on one tree.
// `CPNET_AB_WARM_MS`: the unmeasured load before each round's window (wall time; 500 unless told; `register_per_s`
// now warms for 3,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@cpnet/client';
import { spawnNode } from './node-process.ts';

const [a, b, roundsArg, msArg, concurrencyArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: ab-register-apart.ts <tree-a> <tree-b> [rounds] [ms] [concurrency]');
const trees = [a, b];
const rounds = Number(roundsArg ?? 6);
const ms = Number(msArg ?? 2000);
const concurrency = Number(concurrencyArg ?? 16);
const nodeArgs = [process.env.CPNET_AB_NODE_ARGS_A, process.env.CPNET_AB_NODE_ARGS_B].map((v) =>
  (v ?? '').split(' ').filter((f) => f !== ''),
);
const totals = trees.map(() => ({ n: 0, wallMs: 0, nodeCpuMs: 0, rates: [] as number[] }));

async function load(once: () => Promise<void>, forMs: number): Promise<number> {
  let n = 0;
  const end = performance.now() + forMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await once();
        n++;
      }
    }),
  );
  return n;
}

for (let r = 0; r < rounds; r++) {
  for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-ab-apart-'));
    const node = await spawnNode(
      { role: 'national', code: 'CPN', port: 0, dataDir: dir },
      { tree: path.resolve(trees[i]!), nodeArgs: nodeArgs[i]! },
    );
    const c = createClient({ baseUrl: node.url, signer: { keyid: 'CPN', privateKey: node.privateKey } });
    const once = async () => {
      const res = await c.register({ kind: 'JB', values: [{ index: 1, type: 'T', data: { n: 1 } }] });
      if (!res.ok) throw new Error(res.error.message);
    };
    await load(once, Number(process.env.CPNET_AB_WARM_MS ?? 500));
    const cpu0 = node.cpuMs();
    const t0 = performance.now();
    const n = await load(once, ms);
    const wall = performance.now() - t0;
    const t = totals[i]!;
    t.n += n;
    t.wallMs += wall;
    t.nodeCpuMs += node.cpuMs() - cpu0;
    t.rates.push(Math.round(n / (wall / 1000)));
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
for (const [i, t] of totals.entries())
  console.log(
    `${[trees[i], ...nodeArgs[i]!].join(' ')}: register_per_s ${(t.n / (t.wallMs / 1000)).toFixed(0)} (rounds ${t.rates.join(', ')}), ` +
      `node CPU ${(t.nodeCpuMs / t.n).toFixed(3)} ms per registration (${t.n} registrations)`,
  );
