// The network of the 3-hop resolution figures (`resolve_3hop_*` in `npm run bench -- node`, and ab-3hop.ts): a
// national node CPN, regional nodes CPN.51 and CPN.44, an industry node CPN.51.C151, each applied and approved through
// the real protocol and restarted online, every cache off; CPN.44 registers one identifier. Resolving it at
// CPN.51.C151 goes up to CPN.51, up to CPN and down to CPN.44.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import type { CpnNode, createNode as CreateNode, NodeConfigInput } from '@cpnet/node';
import { BENCH_APPLICATION } from './application.ts';

export type Started = { node: CpnNode; url: string };

const deps = () => ({ clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes });
const site = (province: string) => ({ province, city: 'c', address: 'a' });

/** Waits until the node at `url` answers `online` (50 ms polls, 20 s of wall time at most). */
export async function online(url: string): Promise<void> {
  const c = createClient({ baseUrl: url });
  for (let i = 0; i < 400; i++) {
    const r = await c.node();
    if (r.ok && r.value.lifecycle === 'online') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${url} did not come online`);
}

/**
 * Builds the four nodes with `createNode` (a tree's own, for side-by-side runs), data folders under the OS temp folder
 * named `prefix…` and pushed to `dirs` (the caller removes them). Answers the nodes (parents first), the industry
 * node's URL and the identifier to resolve.
 */
export async function threeHopNetwork(
  createNode: typeof CreateNode,
  o: { prefix: string; dirs: string[] },
): Promise<{ nodes: Started[]; industry: Started; id: string }> {
  const start = async (config: Omit<NodeConfigInput, 'dataDir' | 'port'>): Promise<Started> => {
    const dataDir = mkdtempSync(path.join(tmpdir(), o.prefix));
    o.dirs.push(dataDir);
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
  const national = await start({ role: 'national', code: 'CPN', autoReview: true });
  const r51 = await start({ role: 'regional', code: 'CPN.51', parentUrl: national.url, autoReview: true });
  const r44 = await start({ role: 'regional', code: 'CPN.44', parentUrl: national.url });
  await apply(r51, { role: 'regional', region: '51', industry: null, name: 'r51', site: site('51') });
  await apply(r44, { role: 'regional', region: '44', industry: null, name: 'r44', site: site('44') });
  const a51 = await again(r51);
  const a44 = await again(r44);
  const ind = await start({ role: 'industry', code: 'CPN.51.C151', parentUrl: a51.url });
  await apply(ind, { role: 'industry', region: '51', industry: 'C151', name: 'ind', site: site('51') });
  const industry = await again(ind);
  const self44 = createClient({
    baseUrl: a44.url,
    signer: { keyid: 'CPN.44', privateKey: a44.node.context.identity.keys.privateKey },
  });
  const made = await self44.register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'x', ttl: 0 }] });
  if (!made.ok) throw new Error(made.error.message);
  return { nodes: [national, a51, a44, industry], industry, id: made.value.id };
}
