import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeClient } from '@cpnet/client';
import { formatIdentifier } from '@cpnet/identifier';
import { createChecker } from '../checker/checker.ts';
import { createVirtualClock } from '../clock/virtual-clock.ts';
import { Topology } from '../scenario/schema.ts';
import { expandTopology } from '../topology/expand.ts';
import { seededFaker } from '../topology/fake-org.ts';
import type { RunContext } from './context.ts';
import { checkExpectation } from './expectations.ts';
import { createTenants } from './jobs.ts';
import { watchJobs } from './job-watch.ts';
import { startNetwork, type Network } from './network.ts';

// The `nothing-lost` check against a real node (real SQLite, real HTTP): issue 26's full-scale run reported jobs
// "missing from the nodes' lists" that the node held; they had been acknowledged while the check read the lists.

const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-lost-'));
let net: Network;
const TEMPLATE = {
  name: 'lost-check',
  demand: { cpuCores: 1, memoryGib: 1, storageGib: 0, bandwidthGbps: 0 },
  replicas: 1,
  placement: 'single',
  durationHours: 0.1,
  constraints: {},
  objective: 'balanced',
  latencyTolerant: true,
  priority: 100,
};

beforeAll(async () => {
  // The national node alone: with no cluster known a job is acknowledged (201) and queued, which is all this needs.
  const plan = expandTopology(Topology.parse({ regions: [] }), 1);
  net = await startNetwork(plan, {
    clock: createVirtualClock({ start: Date.now(), speed: 1 }),
    dir,
    autoReview: true,
    faker: seededFaker(1),
    logLevel: 'warn',
  });
}, 60_000);
afterAll(async () => {
  await net?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** How many jobs each page of a job list answered held, in order (the reads' cost). */
const pageItems: number[] = [];

/** The parts of a run's context the check uses; `onList` runs after each page of a job list is answered. */
function context(onList: (ctx: RunContext) => Promise<void> = async () => {}): RunContext {
  const tenants = createTenants({ net, clock: net.clock as RunContext['clock'] });
  const ctx = {
    net,
    clock: net.clock,
    advanced: { ms: 0 },
    checker: createChecker(),
    registered: [],
    jobs: [],
    lastCheck: null,
    tenantClient: async (node: string, tenant: string): Promise<NodeClient> => {
      const client = await tenants(node, tenant);
      return {
        ...client,
        request: async (spec) => {
          const r = await client.request(spec);
          if (spec.method === 'GET' && spec.path.startsWith('/cpn/v1/jobs?')) {
            if (r.ok) pageItems.push((r.value as { items: unknown[] }).items.length);
            await onList(ctx);
          }
          return r as never;
        },
      } as NodeClient;
    },
  } as unknown as RunContext;
  return ctx;
}

/** Submits a job as the tenant and records its acknowledgement, as the simulator's job streams do. */
async function submit(ctx: RunContext, tenant: string): Promise<string> {
  const client = await ctx.tenantClient('CPN', tenant);
  const r = await client.request<{ id: string; state: string }>({
    method: 'POST',
    path: '/cpn/v1/jobs',
    body: { template: TEMPLATE, idempotencyKey: `lost-${Math.random()}` },
  });
  if (!r.ok) throw new Error(`submit refused: ${r.status} ${r.error.message}`);
  ctx.jobs.push({
    id: r.value.id,
    node: 'CPN',
    stream: 's',
    tenant,
    latencyTolerant: true,
    userProvince: null,
    data: null,
    submittedAt: 0,
    index: ctx.jobs.length,
  });
  ctx.checker.ack({ key: `job:${r.value.id}`, kind: 'job', at: 0 });
  return r.value.id;
}

describe('nothing-lost against a real node', () => {
  it('reads again the jobs acknowledged while it read the lists (they are not lost)', async () => {
    let during = 0;
    const ctx = context(async (c) => {
      // Acknowledged after the page that would hold it was read: an older check counted it lost.
      if (during++ === 0) await submit(c, 'tenant-a');
    });
    await submit(ctx, 'tenant-a');
    await submit(ctx, 'tenant-b');
    const verdict = await checkExpectation(ctx, { at: 0, that: 'nothing-lost' });
    expect(verdict.detail).toContain('1 acknowledged while the lists were read, read again');
    expect(verdict.detail).toContain('0 lost');
    expect(verdict.passed).toBe(true);
    expect(ctx.lastCheck?.jobsLost).toBe(0);
  }, 30_000);

  it('finds a job the node does not list: lost, with its row named', async () => {
    const ctx = context();
    await submit(ctx, 'tenant-c');
    // Acknowledged, as far as the checker knows, but the node never heard of it (a well-formed id it never issued).
    const made = formatIdentifier({ prefix: 'CPN', kind: 'JB', serial: '01M90000000000' });
    if (!made.ok) throw new Error(made.error.message);
    ctx.jobs.push({ ...ctx.jobs[0]!, id: made.value });
    ctx.checker.ack({ key: `job:${made.value}`, kind: 'job', at: 0 });
    const verdict = await checkExpectation(ctx, { at: 0, that: 'nothing-lost' });
    expect(verdict.passed).toBe(false);
    expect(verdict.detail).toContain('1 lost');
    expect(verdict.detail).toContain("of 1 asked one by one: 1 404; their rows in the node's database: 1 no row");
  }, 30_000);

  it('holds every acknowledged job in its tenant’s list after the node restarts', async () => {
    const ctx = context();
    for (let i = 0; i < 5; i++) await submit(ctx, 'tenant-d');
    await net.kill('CPN');
    await net.restart('CPN');
    const verdict = await checkExpectation(ctx, { at: 0, that: 'nothing-lost' });
    expect(verdict.detail).toContain('0 lost');
    expect(verdict.passed).toBe(true);
  }, 60_000);
});

describe('the jobs check against a real node', () => {
  it('reads a job seen final no more: each poll asks the list from after its final prefix', async () => {
    const ctx = context();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await submit(ctx, 'tenant-e'));
    const client = await ctx.tenantClient('CPN', 'tenant-e');
    const cancel = async (id: string) => {
      const r = await client.request({ method: 'DELETE', path: `/cpn/v1/jobs/${encodeURIComponent(id)}` });
      if (!r.ok) throw new Error(`cancel refused: ${r.status}`);
    };
    await cancel(ids[0]!);
    await cancel(ids[1]!);
    const read = watchJobs(ctx);
    const states = async () => {
      pageItems.length = 0;
      const views = await read();
      return ids.map((id) => views.get(id)?.state);
    };
    // The first poll reads all four; the second only the two after the final prefix, and still answers for all four.
    expect(await states()).toEqual(['cancelled', 'cancelled', 'queued', 'queued']);
    expect(pageItems).toEqual([4]);
    expect(await states()).toEqual(['cancelled', 'cancelled', 'queued', 'queued']);
    expect(pageItems).toEqual([2]);
    // A final job after one still running is kept too, but the list is read from the prefix's end.
    await cancel(ids[3]!);
    expect(await states()).toEqual(['cancelled', 'cancelled', 'queued', 'cancelled']);
    expect(pageItems).toEqual([2]);
    await cancel(ids[2]!);
    expect(await states()).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    // Every job seen final: nothing left to ask.
    expect(await states()).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(pageItems).toEqual([]);
    const verdict = await checkExpectation(ctx, { at: 0, that: 'jobs', state: 'final', min: 4 });
    expect(verdict.detail).toMatch(/^\d+ of \d+ final/);
    expect(verdict.passed).toBe(true);
  }, 30_000);
});
