// Prints the scale run's load estimate and thread placement (CPNET_SCALE / CPNET_JOB_SCALE as the simulator bench):
// the heaviest nodes, each thread's node count and estimated share. `tsx bench/src/estimate-placement.ts [threads]`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { balanceThreads, expandTopology, parseScenario, scenarioLoads } from '@cpnet/simulator';
import { scaled } from '../simulator.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = join(ROOT, 'scenarios', 'scale.yaml');
const parsed = parseScenario(readFileSync(file, 'utf8'), file);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const f = Number(process.env.CPNET_SCALE ?? '1');
const scenario = scaled(parsed.value, f, Number(process.env.CPNET_JOB_SCALE ?? f));
const loads = scenarioLoads(scenario, expandTopology(scenario.topology, scenario.seed));
const threads = Number(process.argv[2] ?? '2');
const placed = balanceThreads(loads, threads);
const total = [...loads.values()].reduce((n, x) => n + x, 0);
for (let t = 0; t < threads; t++) {
  const mine = [...loads].filter(([c]) => placed.get(c) === t).sort((a, b) => b[1] - a[1]);
  const sum = mine.reduce((n, [, x]) => n + x, 0);
  console.log(`thread ${t}: ${mine.length} nodes, estimated share ${(sum / total).toFixed(3)}`);
  for (const [c, x] of mine.slice(0, 10)) console.log(`  ${c.padEnd(14)} ${(x / total).toFixed(4)}`);
}
