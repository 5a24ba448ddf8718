import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenario/load.ts';
import { summarise } from '../report/report.ts';
import { runScenario } from './run.ts';
import type { Network } from './network.ts';

// A stream with `batch` against real nodes (real HTTP, SQLite, gateways): a burst of arrivals goes out in a few
// `POST /cpn/v1/job-batches` requests, and every job is acknowledged once, runs to one final state, and is not lost.
const SCENARIO = `
name: batch-submit
seed: 7
speed: max
topology:
  reportEvery: 30s
  regions:
    - { code: "51", industries: [C151] }
  providers:
    - { name: 宜宾算力, node: CPN.51.C151, clusters: [{ cpuCores: 4096, memoryGib: 16384 }] }
workload:
  jobs:
    - { name: burst, submitTo: CPN.51.C151, tenant: batcher, count: 120, start: 1m, batch: 25,
        arrival: { kind: burst }, template: { demand: { cpuCores: 4, memoryGib: 16 }, durationHours: 0.01 } }
steps:
  - { at: 2m, that: jobs, state: final, min: 120, within: 10m, name: "every job ran to one final state" }
  - { at: 2m1s, that: nothing-lost }
`;

const REQUESTS = /^cpn_http_requests_total\{([^}]*)\} (\d+)/;

describe('a job stream sent in batches', () => {
  it('sends a burst of 120 arrivals in a few batch requests of at most 25; every job acknowledged once and final', async () => {
    const parsed = parseScenario(SCENARIO, 'batch-submit.yaml');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    let net: Network | null = null;
    let metrics = '';
    const url = () => net?.nodes.get('CPN.51.C151')?.url;
    const read = async () => {
      const u = url();
      if (u) metrics = await (await fetch(`${u}/metrics`)).text().catch(() => metrics);
    };
    // The counters only grow: the last exposition read before the network closes holds the totals.
    const poll = setInterval(() => void read().catch(() => undefined), 200);
    const report = await runScenario(parsed.value, {
      logLevel: 'error',
      onStarted: (n) => {
        net = n;
      },
    }).finally(() => clearInterval(poll));
    expect(report.passed, summarise(report)).toBe(true);
    expect(report.metrics['jobs_submitted']).toBe(120);
    expect(report.metrics['jobs_refused_at_submission'] ?? 0).toBe(0);
    let batches = 0;
    let singles = 0;
    for (const line of metrics.split('\n')) {
      const m = REQUESTS.exec(line);
      if (!m || !m[1]!.includes('method="POST"')) continue;
      if (m[1]!.includes('route="/cpn/v1/job-batches"')) batches += Number(m[2]);
      else if (m[1]!.includes('route="/cpn/v1/jobs"')) singles += Number(m[2]);
    }
    // A burst: the first four go out alone (four requests in flight), the other 116 wait and go 25 at a time.
    expect(singles).toBe(0);
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(120 / 25));
    expect(batches).toBeLessThanOrEqual(4 + Math.ceil(116 / 25) + 4);
  }, 120_000); // wall cap: 2 min (about 10 s here)
});
