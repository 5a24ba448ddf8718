// The SIGKILL test body, shared by the SQLite (durability.test.ts) and PostgreSQL (postgres.test.ts) runs.
import { expect } from 'vitest';
import { buildHeaders } from '@cpnet/client';
import { cryptoRandomBytes, ed25519Profile, generateKeyPair } from '@cpnet/security';
import { application, eventually, tempDir } from './nodes.ts';
import { freePort, spawnNode, type NodeProcess } from './process.ts';
import { clusterBody, gateway, registerProvider, reportEntry } from './providers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type ClusterItem = { id: string; reports: number };

/**
 * Starts a national node process (`cpnet node start … more`), streams cluster registrations (idempotency keys) and
 * gateway reports at it, kills it with SIGKILL mid-stream, starts it again and checks that every acknowledged write
 * is there exactly once. What it started is pushed to `running` for the caller to stop.
 */
export async function killDuringWrites(more: readonly string[], running: { stop(): Promise<void> }[]): Promise<void> {
  const port = await freePort();
  const dir = tempDir();
  const args = ['--role', 'national', '--code', 'CPN', '--data', dir, ...more];
  let proc: NodeProcess = await spawnNode(args, { port });
  running.push({ stop: () => proc.stop() });
  const url = proc.url;
  const p = await registerProvider(url, 500, { idempotencyKey: 'provider-500' });
  const g = gateway(url, 'CPN', p);
  running.push({ stop: async () => g.close() });
  await g.connect();

  const KEYS = 60;
  const registered = new Map<string, string>(); // idempotency key → acknowledged cluster id
  const reportsAcked = new Map<string, number>(); // cluster → acknowledged reports that included it
  let retries = 0;
  const registrar = (async () => {
    for (let i = 0; i < KEYS; i++) {
      for (;;) {
        const r = await p.client.request<{ id: string }>({
          method: 'POST',
          path: '/cpn/v1/clusters',
          body: clusterBody(p.id, { name: `集群 ${i}` }),
          headers: { 'idempotency-key': `cluster-${i}` },
        });
        if (r.ok) {
          registered.set(`cluster-${i}`, r.value.id);
          break;
        }
        if (r.status !== 0 && r.status < 500) throw new Error(`registration refused: ${r.status} ${r.error.message}`);
        retries++;
        await sleep(50);
      }
    }
  })();
  let done = false;
  const reporter = (async () => {
    while (!done) {
      const ids = [...registered.values()];
      if (ids.length > 0) {
        const ack = await g.report(ids.map((c) => reportEntry(c)));
        if (!ack.ok) throw new Error(`report refused: ${JSON.stringify(ack)}`);
        for (const c of ids) reportsAcked.set(c, (reportsAcked.get(c) ?? 0) + 1);
      }
      await sleep(10);
    }
  })();

  await eventually(async () => registered.size >= 20, 20_000);
  await proc.kill();
  await sleep(300);
  proc = await spawnNode(args, { port });
  await registrar;
  await sleep(200);
  done = true;
  await reporter;

  expect(retries).toBeGreaterThan(0); // the kill did interrupt the stream
  const list = await fetch(`${url}/cpn/v1/clusters?provider=${encodeURIComponent(p.id)}`);
  const items = ((await list.json()) as { items: ClusterItem[] }).items;
  // Every acknowledged registration is there, and each key made exactly one cluster.
  expect(items.map((c) => c.id).sort()).toEqual([...registered.values()].sort());
  expect(items).toHaveLength(KEYS);
  // Every acknowledged report was applied once: the stored count equals the acknowledged count per cluster.
  const counts = Object.fromEntries(items.map((c) => [c.id, c.reports]));
  expect(counts).toEqual(Object.fromEntries([...registered.values()].map((c) => [c, reportsAcked.get(c) ?? 0])));
  const providers = (await (await fetch(`${url}/cpn/v1/providers`)).json()) as { items: unknown[] };
  expect(providers.items).toHaveLength(1);
}

/**
 * Starts a national node process and sends two signed requests it acknowledges: a cluster registration (a route
 * whose nonce rides its own commit, `nonceInOwnCommit`) and an application (a route that keeps the default: the
 * nonce is committed before the handler runs). It kills the node with SIGKILL right after the answers, starts it
 * again and sends the very same requests (headers and body) again: both are refused as replays (401 REPLAYED) and
 * nothing is stored twice.
 */
export async function replayAfterKill(more: readonly string[], running: { stop(): Promise<void> }[]): Promise<void> {
  const port = await freePort();
  const dir = tempDir();
  const args = ['--role', 'national', '--code', 'CPN', '--data', dir, ...more];
  let proc: NodeProcess = await spawnNode(args, { port });
  running.push({ stop: () => proc.stop() });
  const url = proc.url;
  const p = await registerProvider(url, 700);
  const signed = (path: string, body: unknown, options: Parameters<typeof buildHeaders>[0]) => {
    const text = JSON.stringify(body);
    const headers = buildHeaders(options, { method: 'POST', path, url: url + path, text });
    return () => fetch(url + path, { method: 'POST', headers, body: text });
  };
  const cluster = signed('/cpn/v1/clusters', clusterBody(p.id, { name: '重放集群' }), p.client.options);
  const keys = generateKeyPair({ randomBytes: cryptoRandomBytes });
  const app = {
    ...application(),
    endpoint: 'http://127.0.0.1:9',
    publicKey: ed25519Profile.exportPublicKey(keys.publicKey),
  };
  const apply = signed('/cpn/v1/applications', app, {
    baseUrl: url,
    signer: { keyid: 'CPN.51', privateKey: keys.privateKey },
  });
  expect((await cluster()).status).toBe(201);
  expect((await apply()).status).toBe(201);
  await proc.kill();
  proc = await spawnNode(args, { port });
  for (const replay of [await cluster(), await apply()]) {
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('REPLAYED');
  }
  const list = await fetch(`${url}/cpn/v1/clusters?provider=${encodeURIComponent(p.id)}`);
  expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(1);
}
