// Uncached 3-hop resolution: an industry node CPN.51.C151 asked for an identifier of CPN.44, so the query goes up to
// CPN.51, up to CPN and down to CPN.44 (every cache off). The network is built and applied through the real protocol
// in this process; then measured twice: with the four nodes and the resolving client in this one process
// (`resolve_3hop_*_one_process`, the old set-up), and with each node restarted from its configuration in a process
// of its own and the client here (`resolve_3hop_p50_ms`/`p99_ms`: as deployed, no node's timers, commits or GC
// stopping another node or the client).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient } from '@cpnet/client';
import { createNode, type CpnNode, type NodeConfigInput } from '@cpnet/node';
import { cryptoRandomBytes } from '@cpnet/security';
import { quantile, type Figures } from '../lib.ts';
import { BENCH_APPLICATION } from './application.ts';
import { spawnNode, type NodeProcess } from './node-process.ts';

type Started = { node: CpnNode; url: string };
const deps = () => ({ clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes });
const site = (province: string) => ({ province, city: 'c', address: 'a' });

async function online(url: string): Promise<void> {
  const c = createClient({ baseUrl: url });
  for (let i = 0; i < 400; i++) {
    const r = await c.node();
    if (r.ok && r.value.lifecycle === 'online') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${url} did not come online`);
}

/** 20 resolutions of warm-up, then `count` timed one at a time (wall ms). */
async function timeResolutions(url: string, id: string, count = 280): Promise<number[]> {
  const c = createClient({ baseUrl: url });
  const times: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const t = performance.now();
    const r = await c.resolve(id);
    if (!r.ok) throw new Error(r.error.message);
    if (i >= 20) times.push(performance.now() - t);
  }
  return times;
}

/** Both measurements of the 3-hop resolution into `f`. */
export async function threeHops(f: Figures): Promise<void> {
  const dirs: string[] = [];
  const start = async (config: Omit<NodeConfigInput, 'dataDir' | 'port'>, port = 0): Promise<Started> => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cpnet-bench-3hop-'));
    dirs.push(dataDir);
    const node = await createNode(
      { port, retry: { initialMs: 50, maxMs: 400 }, pollMs: 50, cacheEntries: 0, ...config, dataDir },
      deps(),
    );
    return { node, url: await node.listen() };
  };
  const again = async (n: Started): Promise<Started> => {
    const port = Number(new URL(n.url).port);
    await n.node.close();
    const node = await createNode({ ...n.node.context.config, port }, deps());
    const url = await node.listen();
    await online(url);
    return { node, url };
  };
  const apply = async (n: Started, app: Record<string, unknown>) => {
    const c = n.node.context;
    const client = createClient({
      baseUrl: c.config.parentUrl!,
      signer: { keyid: c.config.code, privateKey: c.identity.keys.privateKey },
    });
    const r = await client.apply({
      ...BENCH_APPLICATION,
      ...app,
      endpoint: n.url,
      publicKey: c.identity.publicKeyPem,
    } as never);
    if (!r.ok) throw new Error(r.error.message);
    await c.settings.set('application.id', r.value.id);
  };
  const processes: NodeProcess[] = [];
  try {
    const national = await start({ role: 'national', code: 'CPN', autoReview: true });
    const r51 = await start({ role: 'regional', code: 'CPN.51', parentUrl: national.url, autoReview: true });
    const r44 = await start({ role: 'regional', code: 'CPN.44', parentUrl: national.url });
    await apply(r51, { role: 'regional', region: '51', industry: null, name: 'r51', site: site('51') });
    await apply(r44, { role: 'regional', region: '44', industry: null, name: 'r44', site: site('44') });
    const a51 = await again(r51);
    const a44 = await again(r44);
    const ind = await start({ role: 'industry', code: 'CPN.51.C151', parentUrl: a51.url });
    await apply(ind, { role: 'industry', region: '51', industry: 'C151', name: 'ind', site: site('51') });
    const i2 = await again(ind);
    const self44 = createClient({
      baseUrl: a44.url,
      signer: { keyid: 'CPN.44', privateKey: a44.node.context.identity.keys.privateKey },
    });
    const made = await self44.register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'x', ttl: 0 }] });
    if (!made.ok) throw new Error(made.error.message);
    const id = made.value.id;

    const one = await timeResolutions(i2.url, id);
    f.resolve_3hop_p50_ms_one_process = quantile(one, 0.5);
    f.resolve_3hop_p99_ms_one_process = quantile(one, 0.99);

    // The same four nodes (same data folders, same ports), each in a process of its own, parents first.
    const nodes = [national, a51, a44, i2];
    const configs = nodes.map((n) => ({ ...n.node.context.config, port: Number(new URL(n.url).port) }));
    for (const n of nodes) await n.node.close();
    for (const config of configs) {
      const p = await spawnNode(config as NodeConfigInput);
      processes.push(p);
      await online(p.url);
    }
    const apart = await timeResolutions(processes[3]!.url, id);
    f.resolve_3hop_p50_ms = quantile(apart, 0.5);
    f.resolve_3hop_p99_ms = quantile(apart, 0.99);
  } finally {
    for (const p of processes.reverse()) await p.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
