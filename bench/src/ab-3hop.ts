// `npx tsx bench/src/ab-3hop.ts <tree-a> <tree-b> [rounds] [per-round]`: uncached 3-hop resolution (the network of
// `npm run bench -- node`'s `resolve_3hop_*`: an industry node CPN.51.C151 asked for an identifier of CPN.44, so the
// query goes up to CPN.51, up to CPN and down to CPN.44; every cache off) in two source trees' nodes side by side in
// one process: both networks run at once, and rounds of `per-round` sequential resolutions alternate between them,
// so load from elsewhere on a shared machine falls on both alike. Prints each tree's p50, p90, p99 and max (wall ms).
// With `-` for tree-b, tree-a alone: run it in alternating processes to compare trees whose nodes block the loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import type { CpnNode, createNode as CreateNode, NodeConfigInput } from '@cpnet/node';
import { quantile } from '../lib.ts';
import { BENCH_APPLICATION } from './application.ts';

const [a, b, roundsArg, perArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: ab-3hop.ts <tree-a> <tree-b|-> [rounds] [per-round]');
// `-` as tree-b: only tree-a's network, so that separate processes can be alternated (in one process the two
// networks share an event loop, and a node that blocks it — an fsync inside COMMIT — delays the other's answers).
const trees = b === '-' ? [a] : [a, b];
const rounds = Number(roundsArg ?? 20);
const perRound = Number(perArg ?? 50);
const dirs: string[] = [];
const deps = () => ({ clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes });
const APP = BENCH_APPLICATION;
const site = (province: string) => ({ province, city: 'c', address: 'a' });

type Started = { node: CpnNode; url: string };

/** Builds the four-node network of one tree; returns a function resolving the 3-hop identifier once, and a closer. */
async function network(tree: string): Promise<{ once: () => Promise<void>; close: () => Promise<void> }> {
  const createNode = (await import(path.resolve(tree, 'apps/node/src/index.ts'))).createNode as typeof CreateNode;
  const start = async (config: Omit<NodeConfigInput, 'dataDir' | 'port'>): Promise<Started> => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cpnet-ab3-'));
    dirs.push(dataDir);
    const node = await createNode(
      { port: 0, retry: { initialMs: 50, maxMs: 400 }, pollMs: 50, cacheEntries: 0, ...config, dataDir },
      deps(),
    );
    return { node, url: await node.listen() };
  };
  const again = async (n: Started): Promise<Started> => {
    const port = Number(new URL(n.url).port);
    await n.node.close();
    const node = await createNode({ ...n.node.context.config, port }, deps());
    const url = await node.listen();
    const c = createClient({ baseUrl: url });
    for (let i = 0; i < 400; i++) {
      const r = await c.node();
      if (r.ok && r.value.lifecycle === 'online') return { node, url };
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`${url} did not come online`);
  };
  const apply = async (n: Started, app: Record<string, unknown>) => {
    const c = n.node.context;
    const client = createClient({
      baseUrl: c.config.parentUrl!,
      signer: { keyid: c.config.code, privateKey: c.identity.keys.privateKey },
    });
    const r = await client.apply({ ...APP, ...app, endpoint: n.url, publicKey: c.identity.publicKeyPem } as never);
    if (!r.ok) throw new Error(r.error.message);
    await c.settings.set('application.id', r.value.id);
  };
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
  const c = createClient({ baseUrl: i2.url });
  return {
    once: async () => {
      const r = await c.resolve(made.value.id);
      if (!r.ok) throw new Error(r.error.message);
    },
    close: async () => {
      for (const n of [i2, a51, a44, national]) await n.node.close();
    },
  };
}

const nets = await Promise.all(trees.map((t) => network(t)));
for (const n of nets) for (let i = 0; i < 20; i++) await n.once();
const times: number[][] = [[], []];
for (let r = 0; r < rounds; r++) {
  for (const i of trees.length === 1 ? [0] : r % 2 === 0 ? [0, 1] : [1, 0]) {
    for (let k = 0; k < perRound; k++) {
      const t = performance.now();
      await nets[i]!.once();
      times[i]!.push(performance.now() - t);
    }
  }
}
for (const n of nets) await n.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
for (const [i, tree] of trees.entries()) {
  const t = times[i]!;
  const q = (p: number) => quantile(t, p).toFixed(2);
  console.log(`${tree}: ${t.length} resolutions, p50 ${q(0.5)} ms, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${q(1)}`);
}
process.exit(0);
