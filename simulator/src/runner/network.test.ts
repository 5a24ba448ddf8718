import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createVirtualClock } from '../clock/virtual-clock.ts';
import { Topology } from '../scenario/schema.ts';
import { expandTopology } from '../topology/expand.ts';
import { seededFaker } from '../topology/fake-org.ts';
import { startNetwork, type Network } from './network.ts';
import { YOUNG_GENERATION_MB } from './node-threads.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-net-'));
let net: Network | null = null;
afterAll(async () => {
  await net?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

describe('a simulated network', () => {
  it('onboards a regional and an industry node through the link proxies, and survives a regional restart', async () => {
    const plan = expandTopology(Topology.parse({ regions: [{ code: '51', industries: ['C151'] }] }), 1);
    net = await startNetwork(plan, {
      clock: createVirtualClock({ start: Date.now(), speed: 1 }),
      dir,
      autoReview: true,
      faker: seededFaker(1),
      logLevel: 'warn',
    });
    await net.startNode('CPN.51');
    const lifecycle = async (code: string) => {
      const r = await net!.nodes.get(code)!.anon().node();
      return r.ok ? r.value.lifecycle : 'down';
    };
    await until(async () => (await lifecycle('CPN.51')) === 'online');
    await net.startNode('CPN.51.C151');
    await until(async () => (await lifecycle('CPN.51.C151')) === 'online');
    expect(net.links.get('CPN.51.C151')!.up!.stats().bytesUp).toBeGreaterThan(0);

    const reg = await net.nodes
      .get('CPN.51.C151')!
      .self()
      .register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://x.example.cn' }] });
    expect(reg.ok).toBe(true);
    await net.kill('CPN.51');
    await net.restart('CPN.51');
    expect(await lifecycle('CPN.51')).toBe('online');
    if (!reg.ok) return;
    await until(async () => {
      const a = await net!.nodes.get('CPN')!.anon().resolve(reg.value.id);
      return a.ok;
    });
  }, 60_000);

  it('runs the same in worker threads: one virtual clock, skew sent across, kill and restart, signing as a node', async () => {
    const plan = expandTopology(Topology.parse({ regions: [{ code: '51', industries: ['C151'] }, { code: '44' }] }), 2);
    const clock = createVirtualClock({ start: Date.parse('2030-01-01T00:00:00Z'), speed: 50 });
    // Each node's event-loop time measured in its thread (the scale benchmark's per-node work): read at thread start.
    process.env.CPNET_NODE_WORK = '1';
    const tnet = await startNetwork(plan, {
      clock,
      dir: path.join(dir, 'threads'),
      autoReview: true,
      faker: seededFaker(2),
      logLevel: 'warn',
      threads: 2,
      // The national node expected busiest (every escalation passes it): the heaviest goes first, to a thread alone.
      loads: new Map([
        ['CPN', 10],
        ['CPN.51', 1],
        ['CPN.44', 1],
        ['CPN.51.C151', 1],
      ]),
    });
    delete process.env.CPNET_NODE_WORK;
    try {
      expect(tnet.threads?.count).toBe(2);
      expect(tnet.placement.get('CPN')).toEqual({ load: 10, thread: 0 });
      for (const code of ['CPN.51', 'CPN.44']) await tnet.startNode(code);
      await tnet.startNode('CPN.51.C151');
      const info = async (code: string) => {
        const r = await tnet.nodes.get(code)!.anon().node();
        return r.ok ? r.value : null;
      };
      await until(async () => (await info('CPN.51.C151'))?.lifecycle === 'online');
      const usage = await tnet.threads!.usage();
      // Placed by the load estimate: the national node alone on the first thread, the three others on the second.
      expect(usage.map((u) => u.nodes)).toEqual([1, 3]);
      // Each thread reports its isolate's GC time (the scale benchmark's gc_share), a finite number of milliseconds.
      expect(usage.every((u) => Number.isFinite(u.gcMs) && u.gcMs >= 0)).toBe(true);
      // Each isolate took the young generation asked of it (V8 reports it back; a worker's own default is 48).
      expect(usage.map((u) => u.youngGenerationMb)).toEqual([YOUNG_GENERATION_MB, YOUNG_GENERATION_MB]);
      // And its own OS thread's CPU (the benchmark's split between nodes and simulator): starting nodes took some.
      if (process.platform === 'linux') expect(usage.every((u) => u.cpuMs > 0)).toBe(true);
      // A heap snapshot of a thread (CPNET_THREAD_HEAP_SNAPSHOT takes every thread's): a V8 snapshot of that thread's
      // isolate, holding its nodes — the second thread's holds the industry node. One thread only: each costs seconds.
      const files = await tnet.threads!.heapSnapshot(path.join(dir, 'heap'), 1);
      expect(files).toHaveLength(1);
      const text = readFileSync(files[0]!, 'utf8');
      expect(JSON.parse(text.slice(0, text.indexOf(',"nodes":')) + '}')).toHaveProperty('snapshot.meta.node_fields');
      expect(text).toContain('"CPN.51.C151"');
      await expect(tnet.threads!.heapSnapshot(dir, 2)).rejects.toThrow(/thread 2 does not exist \(there are 2\)/);
      // The node's clock (in its thread) reads the main thread's virtual time, not the machine's.
      const before = clock.now();
      const seen = Date.parse((await info('CPN.44'))!.now);
      expect(seen).toBeGreaterThanOrEqual(before - 1000);
      expect(seen).toBeLessThanOrEqual(clock.now() + 1000);
      tnet.skew('CPN.44', 3_600_000);
      await until(async () => Date.parse((await info('CPN.44'))!.now) > clock.now() + 3_000_000);
      tnet.skew('CPN.44', 0);
      // Signing as the node with the key handed over from its thread.
      const reg = await tnet.nodes
        .get('CPN.51.C151')!
        .self()
        .register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://t.example.cn' }] });
      expect(reg.ok).toBe(true);
      await tnet.kill('CPN.51');
      expect(tnet.nodes.get('CPN.51')!.running).toBe(false);
      expect(await info('CPN.51')).toBeNull();
      await tnet.restart('CPN.51');
      await until(async () => (await info('CPN.51'))?.lifecycle === 'online');
      if (reg.ok) await until(async () => (await tnet.nodes.get('CPN')!.anon().resolve(reg.value.id)).ok);
      // Every node's work was charged to it, in its own thread: the national node's (which resolved the
      // registration) on the first, the three others' on the second.
      const work = (await tnet.threads!.usage()).map((u) => u.nodeWorkMs ?? {});
      expect(Object.keys(work[0]!)).toEqual(['CPN']);
      expect(Object.keys(work[1]!).sort()).toEqual(['CPN.44', 'CPN.51', 'CPN.51.C151']);
      for (const w of work) for (const ms of Object.values(w)) expect(ms).toBeGreaterThan(0);
    } finally {
      await tnet.close();
    }
  }, 90_000);
});
