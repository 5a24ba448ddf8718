import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { checkIds, initConformance, runConformance, type ConformanceReport } from '@cpnet/cli';
import { createNode, type CpnNode, type NodeFaults } from '@cpnet/node';
import { ROUTES, SCHEDULING_ROUTES } from '@cpnet/protocol';
import { cryptoRandomBytes } from '@cpnet/security';
import { cleanup, tempDir } from '../src/nodes.ts';

// Check list 1.1's node-function checks against fault fixtures: real nodes (the reference implementation, real
// SQLite, HTTP and socket.io on loopback) with one behaviour switched off through the test-only `NodeDeps.faults`
// seam. Each fixture must fail exactly the checks of that behaviour; our own node passes every check both ways (its
// own run in check.test.ts, and here as the control of the same run). The four runs go in parallel, each with its own
// state folder (its own virtual national node).

const started: CpnNode[] = [];

afterAll(async () => {
  await Promise.all(started.map((n) => n.close()));
  cleanup();
});

/** Starts a regional target for a fresh state folder, with `faults`, and runs `cpnet check` (list 1.1) against it. */
async function checkFixture(faults: NodeFaults | undefined): Promise<ConformanceReport> {
  const dir = tempDir();
  const init = await initConformance({ stateDir: dir, as: 'regional' });
  const node = await createNode(
    {
      role: 'regional',
      code: 'CPN.51',
      port: 0,
      dataDir: tempDir(),
      parentUrl: init.parentUrl,
      trustAnchor: init.trustAnchor,
      applicationFile: init.application,
      retry: { initialMs: 50, maxMs: 300 },
      pollMs: 50,
      linkTimeoutMs: 2000,
      // A summary is considered every 300 ms (5 s by default) and a cluster silent for 3 s is down (45 s): the
      // fixtures' waits can be short.
      aggregation: { summaryMs: 300, degradedAfterMs: 2000, downAfterMs: 3000 },
      scheduling: { meteringMs: 300 },
    },
    {
      clock: systemClock,
      logger: pino({ level: process.env.CPNET_TEST_LOG ?? 'silent' }),
      randomBytes: cryptoRandomBytes,
      ...(faults ? { faults } : {}),
    },
  );
  started.push(node);
  const url = await node.listen();
  return runConformance({
    stateDir: dir,
    target: url,
    as: 'regional',
    timeoutMs: 3000,
    waitMs: 30_000,
    flowWaitMs: 5000,
    darkWaitMs: 10_000,
  });
}

const failed = (r: ConformanceReport) => r.checks.filter((c) => !c.passed).map((c) => c.id);
const evidence = (r: ConformanceReport, id: string) =>
  r.checks.find((c) => c.id === id)?.evidence as { expected: string; detail: string } | undefined;

describe('cpnet check 1.1: each fault fixture fails exactly the checks of the behaviour it lacks', () => {
  it('our node passes all; no summaries, lost job updates and ignored emergency orders fail their own checks', async () => {
    const [own, noSummaries, lostUpdates, ignoresOrders] = await Promise.all([
      checkFixture(undefined),
      checkFixture({ dropDeliveries: [ROUTES.summaries] }),
      checkFixture({ dropDeliveries: [SCHEDULING_ROUTES.jobUpdates] }),
      checkFixture({ ignoreMemberOrders: true }),
    ]);
    // Our own node: every check of list 1.1, both directions (the reverse result is judged with the 1.1 list).
    expect(failed(own)).toEqual([]);
    expect(own.listVersion).toBe('1.1');
    expect(own.checks.map((c) => c.id)).toEqual(checkIds('regional'));
    expect(own.checks.find((c) => c.id === 'reverse-joint-debug')?.evidence).toMatchObject({
      observed: { listVersion: '1.1', outcomes: { 'metrics-series': 'passed' } },
    });

    expect(failed(noSummaries)).toEqual(['aggregation-summary', 'aggregation-market']);
    expect(evidence(noSummaries, 'aggregation-summary')?.detail).toMatch(
      /holds no summary from CPN\.51 within 5000 ms/,
    );
    expect(evidence(noSummaries, 'aggregation-market')?.detail).toBe('no offer of CPN.51');

    // A job the target gives up reaches the parent as an update too: without updates, the parent never takes it back.
    expect(failed(lostUpdates)).toEqual(['job-updates-in-order', 'job-escalated']);
    // The parent saw the placement answered (dispatched) and nothing after it.
    expect(evidence(lostUpdates, 'job-updates-in-order')?.detail).toMatch(/ → dispatched$/);

    expect(failed(ignoresOrders)).toEqual(['emergency-suspend', 'revoked-refused']);
    expect(evidence(ignoresOrders, 'emergency-suspend')?.detail).toMatch(
      /^acknowledged, but CPN\.51\/PV-\w+ is listed as active and its gateway was told nothing$/,
    );
  }, 90_000);
});
