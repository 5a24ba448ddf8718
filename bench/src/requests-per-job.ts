// `npx tsx bench/src/requests-per-job.ts [jobScale]`: the scaled-down scale run (CPNET_SCALE 0.1 of scenarios/scale.yaml,
// jobs at `jobScale`, default 0.02: 2,000 jobs) at `speed: max` (`CPNET_SPEED=<n>`: at that fixed speed), reading every
// node's Prometheus counters every 3 s of wall time; at the end it prints, per node and summed, HTTP requests by route,
// outbox deliveries by path and cluster report entries, each divided by the jobs submitted — what a job costs in
// messages (bench/README.md "Per job").
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario, runScenario, type Network } from '@cpnet/simulator';
import { scaled, speedOf } from '../simulator.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = join(ROOT, 'scenarios', 'scale.yaml');
const parsed = parseScenario(readFileSync(file, 'utf8'), file);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const jobScale = Number(process.argv[2] ?? '0.02');
if (!(jobScale > 0 && jobScale <= 1)) throw new Error(`jobScale must be in (0, 1], got ${process.argv[2]}`);
const scenario = scaled(parsed.value, 0.1, jobScale);

let net: Network | null = null;
// The newest exposition of each node: the counters only grow, so the last one read before the close is the total.
const latest = new Map<string, string>();
const poll = setInterval(() => {
  for (const [code, sim] of net?.nodes ?? [])
    void fetch(`${sim.url}/metrics`)
      .then((r) => r.text())
      .then(
        (t) => latest.set(code, t),
        () => undefined,
      );
}, 3000);
const report = await runScenario(scenario, {
  speed: speedOf(process.env.CPNET_SPEED),
  logLevel: 'error',
  onStarted: (n) => {
    net = n;
  },
}).finally(() => clearInterval(poll));
const jobs = Math.max(1, report.metrics['jobs_submitted'] ?? 0);
const COUNTER = /^(cpn_http_requests_total|cpn_outbox_delivered_total|cpn_cluster_reports_total)(?:\{(.*)\})? (\d+)/;
const total = new Map<string, number>();
for (const [code, text] of latest) {
  const mine = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = COUNTER.exec(line);
    if (!m) continue;
    const labels = m[2] ?? '';
    const what =
      m[1] === 'cpn_http_requests_total'
        ? `${/method="(\w+)"/.exec(labels)?.[1] ?? ''} ${/route="([^"]*)"/.exec(labels)?.[1] ?? ''}`
        : m[1] === 'cpn_outbox_delivered_total'
          ? `delivered ${/path="([^"]*)"/.exec(labels)?.[1] ?? ''}`
          : 'cluster report entries';
    mine.set(what, (mine.get(what) ?? 0) + Number(m[3]));
    total.set(what, (total.get(what) ?? 0) + Number(m[3]));
  }
  const top = [...mine].sort((a, b) => b[1] - a[1]).slice(0, 6);
  console.log(`${code}: ${top.map(([k, v]) => `${k} ${(v / jobs).toFixed(2)}`).join(', ')}`);
}
console.log(`\nper job (${jobs} jobs submitted), all nodes:`);
for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 25))
  console.log(`  ${(v / jobs).toFixed(3).padStart(8)}  ${k}`);
