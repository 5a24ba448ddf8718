import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenario/load.ts';
import { summarise } from '../report/report.ts';
import { runScenario } from './run.ts';

// Real nodes behind real link proxies: a partition black-holes the industry node's link (its packets are dropped, so a
// query sent down hangs rather than failing). Nothing was resolved before the cut, so no cached answer helps: the
// ancestors must answer from the copies they hold within the checker's 5 s (wall) per query — the node waits
// `resolution.copyAfterMs` (1 s of wall time) for the cut-off owner, not its whole link timeout (10 s here).
const SCENARIO = `name: partition-copies
seed: 11
speed: 10
topology:
  regions:
    - { code: "51", industries: [C151] }
steps:
  - { at: 1s, that: lifecycle, node: CPN.51.C151, is: online, within: 120s }
  - { at: 20s, do: register, node: CPN.51.C151, kind: CL, count: 3 }
  - { at: 30s, do: fault, fault: { name: cut, kind: partition, target: CPN.51.C151~CPN.51 } }
  - { at: 31s, that: resolvable, from: [CPN, CPN.51], registeredBeforeFault: cut, name: "the ancestors' copies answer during the cut" }
  - { at: 50s, do: heal, fault: cut }
  - { at: 60s, that: resolvable, from: every-node, name: "after the heal, everything resolves from every node" }
`;

describe('resolution while an owner is cut off', () => {
  it("answers from the ancestors' copies within the checker's timeout, with nothing cached before the cut", async () => {
    const parsed = parseScenario(SCENARIO, 'partition-copies.yaml');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const report = await runScenario(parsed.value, { logLevel: 'error' });
    expect(report.passed, summarise(report)).toBe(true);
    // Six answers during the cut (three records from two ancestors), each well under the checker's 5 s.
    expect(report.metrics['resolve_p99_ms']).toBeLessThan(5000);
  }, 120_000);
});
