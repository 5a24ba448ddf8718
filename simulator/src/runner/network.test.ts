import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createVirtualClock } from '../clock/virtual-clock.ts';
import { Topology } from '../scenario/schema.ts';
import { expandTopology } from '../topology/expand.ts';
import { seededFaker } from '../topology/fake-org.ts';
import { startNetwork, type Network } from './network.ts';

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
    net = await startNetwork(plan, { clock: createVirtualClock({ start: Date.now(), speed: 1 }), dir, autoReview: true, faker: seededFaker(1), logLevel: 'warn' });
    await net.startNode('CPN.51');
    const lifecycle = async (code: string) => { const r = await net!.nodes.get(code)!.anon().node(); return r.ok ? r.value.lifecycle : 'down'; };
    await until(async () => (await lifecycle('CPN.51')) === 'online');
    await net.startNode('CPN.51.C151');
    await until(async () => (await lifecycle('CPN.51.C151')) === 'online');
    expect(net.links.get('CPN.51.C151')!.up!.stats().bytesUp).toBeGreaterThan(0);

    const reg = await net.nodes.get('CPN.51.C151')!.self().register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://x.example.cn' }] });
    expect(reg.ok).toBe(true);
    await net.kill('CPN.51');
    await net.restart('CPN.51');
    expect(await lifecycle('CPN.51')).toBe('online');
    if (!reg.ok) return;
    await until(async () => { const a = await net!.nodes.get('CPN')!.anon().resolve(reg.value.id); return a.ok; });
  }, 60_000);
});
