import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { pino } from 'pino';
import { formatIdentifier } from '@cpnet/identifier';
import { createGatewayConnection } from '@cpnet/client';
import { createMemoryNonceStore, generateKeyPair, verifyHandshakeToken } from '@cpnet/security';
import { NAMESPACES, type ClusterReport } from '@cpnet/protocol';
import { systemClock } from '@cpnet/kernel/system';
import { ClusterTable } from '../aggregation/cluster-table.ts';
import { createIngestQueue, type PendingReport } from './ingest.ts';
import { attachGateway } from './namespace.ts';

const clock = systemClock;
const id = (kind: 'PV' | 'CL', serial: string) => {
  const r = formatIdentifier({ prefix: 'CPN.51.C151', kind, serial });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const PV = id('PV', '1');
const keys = generateKeyPair();
const timeouts = { degradedAfterMs: 10_000, downAfterMs: 30_000 };
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function entry(cluster: string): ClusterReport {
  const v = { cpuCores: 64, memoryGib: 256, storageGib: 1000, bandwidthGbps: 10, accelerators: [] };
  return {
    cluster,
    k1: v,
    k2: v,
    price: { perCoreHourYuan: 0.2, perCardHourYuan: 0, perGibHourYuan: 0 },
    pue: 1.3,
    greenShare: 0.5,
    metrics: { cpuUtil: 0.1, memoryUtil: 0.1, acceleratorUtil: 0, latencyMs: 2, health: 'healthy', runningJobs: 0 },
  };
}

async function start(options: { clusters: number; failWrites?: () => boolean }) {
  const table = new ClusterTable();
  const clusters = Array.from({ length: options.clusters }, (_, i) => id('CL', `C${i}`));
  for (const c of clusters)
    table.register({
      id: c,
      node: 'CPN.51.C151',
      provider: PV,
      name: c,
      province: '51',
      city: '宜宾',
      industry: 'C151',
      resourceClass: '401',
      capacity: entry(c).k1,
      price: entry(c).price,
      pue: 1.3,
      greenShare: 0.5,
      lifecycle: 'active',
    });
  const written: PendingReport[] = [];
  let lastSeq = -1;
  const ingest = createIngestQueue({
    write: async (batch) => {
      if (options.failWrites?.()) throw new Error('disk');
      written.push(...batch);
      for (const r of batch) lastSeq = Math.max(lastSeq, r.seq);
    },
    onCommitted: (batch) => {
      for (const r of batch) table.apply(r.entries, { now: clock.now(), timeouts });
    },
  });
  const nonceStore = createMemoryNonceStore({ clock });
  const http = createServer();
  const io = new Server(http);
  const hub = attachGateway(io, {
    clock,
    logger: pino({ level: 'silent' }),
    node: 'CPN.51.C151',
    ingest,
    authenticate: async (token) => {
      const v = await verifyHandshakeToken(token, {
        publicKey: keys.publicKey,
        audience: 'CPN.51.C151',
        namespace: NAMESPACES.gateway,
        clock,
        nonceStore,
      });
      return v.ok ? { ok: true, value: { gateway: PV, provider: PV } } : { ok: false, error: v.error };
    },
    lastSeq: async () => lastSeq,
    clustersOf: (p) => table.ofProvider(p),
    check: (e, p) => table.check(e, p),
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  closers.push(
    () =>
      new Promise<void>((r) => {
        io.close(() => r());
      }),
  );
  return { url, table, written, hub, clusters };
}

describe('the /gateway namespace', () => {
  it('takes reports for 100 clusters on one connection, each applied once, and sends orders', async () => {
    const s = await start({ clusters: 100 });
    const dispatched: string[] = [];
    const gw = createGatewayConnection({
      baseUrl: s.url,
      node: 'CPN.51.C151',
      signer: { keyid: PV, privateKey: keys.privateKey },
      handlers: {
        dispatch: (d) => {
          dispatched.push(d.job);
          return { ok: true };
        },
      },
    });
    closers.push(() => gw.close());
    const session = await gw.connect();
    expect(session).toMatchObject({ lastReportSeq: -1, gateway: PV });
    expect(session.clusters).toHaveLength(100);
    const acks = await Promise.all(Array.from({ length: 5 }, () => gw.report(s.clusters.map(entry))));
    expect(acks.every((a) => a.ok && a.accepted === 100)).toBe(true);
    expect([...s.table.values()].every((c) => c.reports === 5 && c.health === 'healthy')).toBe(true);
    expect(s.written.map((r) => r.seq).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(s.hub.connected(PV)).toBe(true);
    const job = formatIdentifier({ prefix: 'CPN.51.C151', kind: 'JB', serial: 'J1' });
    const ack = await s.hub.control(PV, { target: s.clusters[0]!, action: 'suspend', reason: 'test' });
    expect(ack.ok).toBe(true);
    expect(job.ok).toBe(true);
    expect(dispatched).toEqual([]);
  });

  it("refuses a bad token, a foreign cluster, a replayed seq and another gateway's name", async () => {
    const s = await start({ clusters: 2 });
    const other = generateKeyPair();
    const bad = createGatewayConnection({
      baseUrl: s.url,
      node: 'CPN.51.C151',
      signer: { keyid: PV, privateKey: other.privateKey },
      backoff: { initialMs: 5000, maxMs: 5000 },
    });
    closers.push(() => bad.close());
    await expect(bad.connect()).rejects.toThrow(/UNAUTHENTICATED/);
    const gw = createGatewayConnection({
      baseUrl: s.url,
      node: 'CPN.51.C151',
      signer: { keyid: PV, privateKey: keys.privateKey },
    });
    closers.push(() => gw.close());
    await gw.connect();
    const foreign = await gw.report([entry(id('CL', 'X9'))]);
    expect(foreign.ok ? null : foreign.error.code).toBe('FORBIDDEN');
    expect((await gw.report(s.clusters.map(entry))).ok).toBe(true);
    expect(s.written).toHaveLength(1);
  });

  it('resends unacknowledged reports after the node comes back and counts each once', async () => {
    let failing = false;
    const s = await start({ clusters: 3, failWrites: () => failing });
    const gw = createGatewayConnection({
      baseUrl: s.url,
      node: 'CPN.51.C151',
      signer: { keyid: PV, privateKey: keys.privateKey },
      backoff: { initialMs: 20, maxMs: 100 },
    });
    closers.push(() => gw.close());
    await gw.connect();
    expect((await gw.report(s.clusters.map(entry))).ok).toBe(true);
    failing = true;
    const pending = gw.report(s.clusters.map(entry));
    await new Promise((r) => setTimeout(r, 50));
    failing = false;
    const ack = await pending;
    expect(ack.ok).toBe(true);
    expect([...s.table.values()].map((c) => c.reports)).toEqual([2, 2, 2]);
  });
});
