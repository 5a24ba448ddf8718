import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { pino } from 'pino';
import { formatIdentifier } from '@cpnet/identifier';
import { createGatewayConnection } from '@cpnet/client';
import { io } from 'socket.io-client';
import { createMemoryNonceStore, generateKeyPair, issueHandshakeToken, verifyHandshakeToken } from '@cpnet/security';
import { formatTime, NAMESPACES, PROTOCOL_VERSION, type ClusterReport, type GatewayAck } from '@cpnet/protocol';
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

async function start(options: { clusters: number; failWrites?: () => boolean; withoutCapabilities?: boolean }) {
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
  if (options.withoutCapabilities)
    // A node that does not advertise report-unchanged (a 1.0 node): its session carries no ext.
    io.of(NAMESPACES.gateway).on('connection', (socket) => {
      const emit = socket.emit.bind(socket);
      socket.emit = ((event: string, ...args: unknown[]) =>
        event === 'session'
          ? emit(event, { ...(args[0] as object), ext: undefined })
          : emit(event, ...args)) as typeof socket.emit;
    });
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
    held: (c) => table.get(c)?.report ?? null,
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

/** A gateway whose outgoing reports are recorded as sent (what went in full and what as unchanged). */
async function recordingGateway(url: string) {
  const gw = createGatewayConnection({
    baseUrl: url,
    node: 'CPN.51.C151',
    signer: { keyid: PV, privateKey: keys.privateKey },
    backoff: { initialMs: 20, maxMs: 100 },
  });
  closers.push(() => gw.close());
  const session = await gw.connect();
  return { gw, session };
}

/** A raw socket.io connection on /gateway with a fresh handshake token, after its session. */
async function rawGateway(url: string) {
  const token = await issueHandshakeToken(
    { keyid: PV, audience: 'CPN.51.C151', namespace: NAMESPACES.gateway },
    { privateKey: keys.privateKey, clock },
  );
  const socket = io(`${url}${NAMESPACES.gateway}`, {
    transports: ['websocket'],
    forceNew: true,
    auth: { token, protocol: PROTOCOL_VERSION },
  });
  closers.push(() => void socket.close());
  const session = await new Promise<{ lastReportSeq: number }>((r) => socket.once('session', r));
  let seq = session.lastReportSeq + 1;
  return (body: Record<string, unknown>) =>
    socket.emitWithAck('report', {
      protocol: PROTOCOL_VERSION,
      gateway: PV,
      seq: seq++,
      at: formatTime(clock.now()),
      clusters: [],
      ...body,
    }) as Promise<GatewayAck>;
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

  describe('reports that carry only what changed (report-unchanged)', () => {
    it('sends an unchanged entry as its identifier once the node holds it, and the node applies it as that entry', async () => {
      const s = await start({ clusters: 50 });
      const { gw, session } = await recordingGateway(s.url);
      expect(session.ext?.['capabilities']).toContain('report-unchanged');
      const first = s.clusters.map(entry);
      expect(await gw.report(first)).toEqual({ ok: true, accepted: 50 });
      // The same figures again (new objects, equal by value): nothing but identifiers goes.
      expect(await gw.report(s.clusters.map(entry))).toEqual({ ok: true, accepted: 50 });
      const [full, quiet] = s.written;
      expect(full!.unchanged?.size ?? 0).toBe(0);
      expect(quiet!.unchanged?.size).toBe(50);
      // What the node applied for a named cluster is the entry it held, as if sent again.
      expect(quiet!.entries.find((e) => e.cluster === s.clusters[7])).toEqual(entry(s.clusters[7]!));
      // One figure changes: that cluster goes in full, the others as identifiers.
      const busy = { ...entry(s.clusters[3]!), metrics: { ...entry(s.clusters[3]!).metrics, runningJobs: 4 } };
      const third = s.clusters.map((c, i) => (i === 3 ? busy : first[i]!));
      expect(await gw.report(third)).toEqual({ ok: true, accepted: 50 });
      expect(s.written[2]!.unchanged?.size).toBe(49);
      expect(s.written[2]!.unchanged?.has(s.clusters[3]!)).toBe(false);
      expect(s.table.get(s.clusters[3]!)!.report?.metrics.runningJobs).toBe(4);
      // Every cluster counted three reports and is live, whichever way its entries came.
      expect([...s.table.values()].every((c) => c.reports === 3 && c.health === 'healthy')).toBe(true);
      // The entry kept as the base is frozen: changing it in place fails loudly instead of going unnoticed.
      expect(() => {
        (busy.metrics as { runningJobs: number }).runningJobs = 5;
      }).toThrow(TypeError);
    });

    it('sends a cluster in full while its last full entry is unacknowledged, and after every new session', async () => {
      const s = await start({ clusters: 4 });
      const { gw } = await recordingGateway(s.url);
      const same = s.clusters.map(entry);
      // Three reports in flight at once: the node's entry is not known until the first is acknowledged.
      const acks = await Promise.all([gw.report(same), gw.report(same), gw.report(same)]);
      expect(acks.every((a) => a.ok)).toBe(true);
      expect(s.written.map((r) => r.unchanged?.size ?? 0)).toEqual([0, 0, 0]);
      expect((await gw.report(same)).ok).toBe(true);
      expect(s.written[3]!.unchanged?.size).toBe(4);
      // The node drops the connection: the next session may be another node, so the next report goes in full.
      s.hub.disconnect(PV);
      await new Promise<void>((r) => gw.onSession(() => r()));
      expect((await gw.report(same)).ok).toBe(true);
      expect(s.written[4]!.unchanged?.size ?? 0).toBe(0);
      expect([...s.table.values()].every((c) => c.reports === 5)).toBe(true);
    });

    it('sends everything in full to a node that does not advertise it', async () => {
      const s = await start({ clusters: 3, withoutCapabilities: true });
      const { gw, session } = await recordingGateway(s.url);
      expect(session.ext).toBeUndefined();
      const same = s.clusters.map(entry);
      for (let i = 0; i < 3; i += 1) expect((await gw.report(same)).ok).toBe(true);
      expect(s.written.map((r) => r.unchanged?.size ?? 0)).toEqual([0, 0, 0]);
      expect(s.written.every((r) => r.entries.length === 3)).toBe(true);
    });

    it('names in ext.stale a cluster it holds no entry for, and the gateway sends it in full next', async () => {
      const s = await start({ clusters: 3 });
      const { gw } = await recordingGateway(s.url);
      const same = s.clusters.map(entry);
      expect((await gw.report(same)).ok).toBe(true);
      // The node lost what it held for one cluster (a database restored from before its first report).
      s.table.get(s.clusters[1]!)!.report = null;
      const ack = await gw.report(same);
      expect(ack).toEqual({ ok: true, accepted: 2, ext: { stale: [s.clusters[1]] } });
      expect(s.table.get(s.clusters[1]!)!.reports).toBe(1);
      expect((await gw.report(same)).ok).toBe(true);
      expect(s.written[2]!.entries.length).toBe(3);
      expect(s.written[2]!.unchanged?.has(s.clusters[1]!)).toBe(false);
      expect(s.written[2]!.unchanged?.size).toBe(2);
      expect(s.table.get(s.clusters[1]!)!.report).toEqual(entry(s.clusters[1]!));
    });

    it('refuses a malformed, foreign, repeated or empty ext.unchanged and changes nothing', async () => {
      const s = await start({ clusters: 2 });
      const send = await rawGateway(s.url);
      expect((await send({ clusters: s.clusters.map(entry) })).ok).toBe(true);
      const refused = async (body: Record<string, unknown>) => {
        const ack = await send(body);
        return ack.ok ? null : { code: ack.error.code, field: ack.error.field, message: ack.error.message };
      };
      expect(await refused({ ext: { unchanged: ['CPN.51.C151/CL-not an id'] } })).toMatchObject({
        field: expect.stringMatching(/^ext\.unchanged/),
      });
      expect(await refused({ ext: { unchanged: [id('CL', 'X9')] } })).toMatchObject({
        code: 'FORBIDDEN',
        field: 'ext.unchanged.0',
      });
      expect(await refused({ ext: { unchanged: [s.clusters[0], s.clusters[0]] } })).toMatchObject({
        code: 'SCHEMA_VIOLATION',
        field: 'ext.unchanged.1',
      });
      expect(await refused({ clusters: [entry(s.clusters[0]!)], ext: { unchanged: [s.clusters[0]] } })).toMatchObject({
        code: 'SCHEMA_VIOLATION',
        message: expect.stringContaining('named twice'),
      });
      expect(await refused({ ext: { unchanged: 'all' } })).toMatchObject({ field: 'ext.unchanged' });
      expect(await refused({ ext: { unchanged: Array.from({ length: 1001 }, () => s.clusters[0]) } })).toMatchObject({
        code: 'SCHEMA_VIOLATION',
        field: 'ext.unchanged',
      });
      // Lower case is a valid way to write an identifier: canonicalised, then refused as named twice.
      expect(await refused({ ext: { unchanged: [s.clusters[1], s.clusters[1]!.toLowerCase()] } })).toMatchObject({
        code: 'SCHEMA_VIOLATION',
        field: 'ext.unchanged.1',
        message: expect.stringContaining('named twice'),
      });
      expect(await refused({})).toMatchObject({ code: 'SCHEMA_VIOLATION', field: 'clusters' });
      expect(s.written).toHaveLength(1);
      expect([...s.table.values()].map((c) => c.reports)).toEqual([1, 1]);
      expect((await send({ ext: { unchanged: s.clusters } })).ok).toBe(true);
      expect([...s.table.values()].map((c) => c.reports)).toEqual([2, 2]);
    });
  });
});
