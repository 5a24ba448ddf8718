import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@cpnet/client';
import { createVirtualClock, type LoadReporter, type RunClock } from '../clock/virtual-clock.ts';
import { Topology } from '../scenario/schema.ts';
import { expandTopology, type PlannedProvider } from '../topology/expand.ts';
import type { RunContext } from './context.ts';
import { startProvider, type SimProvider } from './providers.ts';
import { startSimNode, type SimNode } from './sim-node.ts';

// A real national node (SQLite through Prisma, real HTTP on loopback, real signatures); the node counts the requests
// it is answering (the hook the simulator's clock uses), so the test sees how many registrations were in flight at
// once, and what a provider does when the node refuses one. Durations are wall time (the virtual clock runs at speed 1).
const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-providers-'));
let clock: RunClock;
let node: SimNode;
let inFlight = 0;
let mostInFlight = 0;
let answered = 0;
const counting: LoadReporter = {
  oldest: () => Infinity,
  begin() {
    answered++;
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    let ended = false;
    return () => {
      if (!ended) inFlight--;
      ended = true;
    };
  },
  track: (p) => p,
};
const providers: SimProvider[] = [];

beforeAll(async () => {
  clock = createVirtualClock({ start: Date.now(), speed: 1 });
  node = await startSimNode(
    { code: 'CPN', role: 'national', name: '国家节点', dataDir: dir, autoReview: true, logLevel: 'warn' },
    clock,
    counting,
  );
}, 60_000);

afterAll(async () => {
  for (const p of providers) p.stop();
  await node?.stop();
  clock?.governor.stop();
  rmSync(dir, { recursive: true, force: true });
});

function planned(seed: number, clusters: number): PlannedProvider {
  const plan = expandTopology(
    Topology.parse({
      regions: [{ code: '51', industries: [] }],
      providerTemplates: [{ count: 1, nodes: ['CPN.51'], clusters: { min: clusters, max: clusters } }],
    }),
    seed,
  );
  return { ...plan.providers[0]!, node: 'CPN' };
}

function context(): RunContext {
  return {
    clock,
    seed: 1,
    advanced: { ms: 0 },
    net: { urlOf: () => node.url },
    dispatches: [],
  } as unknown as RunContext;
}

describe("a simulated provider's registrations", () => {
  it('keeps up to eight in flight, and maps each cluster to the identifier the node gave it', async () => {
    const plan = planned(3, 30);
    answered = 0;
    mostInFlight = 0;
    const p = await startProvider(context(), plan, { reportEveryMs: 60_000 });
    providers.push(p);
    // The provider's own registration, then its 30 clusters (the gateway's socket is not a request in flight).
    expect(answered).toBe(31);
    expect(mostInFlight).toBeGreaterThan(1);
    expect(mostInFlight).toBeLessThanOrEqual(8);
    // Each key's identifier is the cluster registered under that key's name, as the node holds it.
    const reader = createClient({ baseUrl: node.url, clock });
    for (const c of plan.clusters) {
      const id = p.idOfKey.get(c.key)!;
      const r = await reader.resolve(id);
      expect(r.ok, id).toBe(true);
      if (r.ok) expect((r.value.record.values[0]!.data as { name: string }).name).toBe(c.name);
      expect(p.provinceOf.get(id)).toBe(c.province);
    }
    expect(new Set(p.idOfKey.values()).size).toBe(30);
  }, 60_000);

  it('fails its start with the refused cluster named, and sends no more after the refusal', async () => {
    const base = planned(4, 40);
    // The sixth cluster declares a PUE below 1: the node refuses it (400), as it would a real provider's.
    const plan = { ...base, clusters: base.clusters.map((c, i) => (i === 5 ? { ...c, pue: 0.5 } : c)) };
    answered = 0;
    await expect(startProvider(context(), plan, { reportEveryMs: 60_000 })).rejects.toThrow(
      new RegExp(`cluster ${plan.clusters[5]!.name} of .* was not registered: 400 .*pue`),
    );
    // What was still in flight is answered meanwhile (1.5 s of wall time: 34 more would take well under that).
    await new Promise((r) => setTimeout(r, 1500));
    // The provider, the clusters taken before the refusal came back and the seven others then in flight: nowhere
    // near all 40 (one at a time it stopped at six; eight at a time without stopping it would send every one).
    expect(answered).toBeLessThanOrEqual(1 + 6 + 7 + 7);
  }, 60_000);
});
