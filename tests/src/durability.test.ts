import { afterAll, describe, expect, it } from 'vitest';
import { killDuringWrites, replayAfterKill } from './kill-during-writes.ts';
import {
  applicationFile,
  cleanup,
  eventually,
  lifecycleOf,
  startTestNode,
  tempDir,
  testDatabase,
  type TestNode,
} from './nodes.ts';
import { freePort } from './process.ts';
import { gateway, registerClusters, registerProvider, reportEntry } from './providers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running: { stop(): Promise<void> }[] = [];

afterAll(async () => {
  for (const n of running.reverse()) await n.stop().catch(() => undefined);
  cleanup();
});

describe('a node killed with SIGKILL during a stream of writes', () => {
  // The killed node is a child process started without the helper, so on SQLite here; its PostgreSQL run is in
  // postgres.test.ts (same body, `--database`), so durability-postgres.test.ts does not repeat the SQLite one.
  it.skipIf(testDatabase() === 'postgres')(
    'loses no acknowledged registration or report and applies none twice',
    () => killDuringWrites([], running),
    120_000,
  );
  it.skipIf(testDatabase() === 'postgres')(
    'refuses replays of acknowledged signed requests after the restart: a registration (nonce in its own commit) ' +
      'and an application (nonce committed first)',
    () => replayAfterKill([], running),
    60_000,
  );
});

describe('a parent held down for a while', () => {
  // Copies and events wait in the child's outbox and arrive once each. Summaries do not wait: the child sends its one
  // summary upward directly every scheduling interval, the newest wins, and a lost one is superseded by the next.
  it('receives every copy and event once, and the newest summary, after it returns', async () => {
    const nationalDir = tempDir();
    const nationalPort = await freePort(); // outside the ephemeral range: nobody else takes it while the node is down
    let national: TestNode = await startTestNode({
      role: 'national',
      code: 'CPN',
      autoReview: true,
      dataDir: nationalDir,
      port: nationalPort,
    });
    const dir = tempDir();
    const regional = await startTestNode({
      role: 'regional',
      code: 'CPN.51',
      parentUrl: national.url,
      dataDir: dir,
      applicationFile: applicationFile(dir),
      autoReview: true,
      retry: { initialMs: 50, maxMs: 300 },
      aggregation: { summaryMs: 100, summaryMaxIntervalMs: 500, eventShipMs: 100 },
    });
    running.push(regional, { stop: () => national.stop() });
    // Bounds in wall time, generous: on PostgreSQL at load 20 the onboarding alone took over 20 s.
    await eventually(async () => (await lifecycleOf(regional)) === 'online', 60_000);
    const p = await registerProvider(regional.url, 600);
    const before = await registerClusters(p, 5);
    await eventually(async () => await regional.node.context.outbox.idle(200), 10_000);

    await national.stop();
    const during = await registerClusters(p, 40);
    const g = gateway(regional.url, 'CPN.51', p);
    running.push({ stop: async () => g.close() });
    await g.connect();
    for (let i = 0; i < 5; i++)
      expect((await g.report([...before, ...during].map((c) => reportEntry(c, 100 + i)))).ok).toBe(true);
    await sleep(1000); // copies and events pile up while the parent is away
    const depth = Number(
      /cpn_outbox_depth\{node="CPN.51"\} (\d+)/.exec(await (await fetch(`${regional.url}/metrics`)).text())?.[1] ?? 0,
    );
    expect(depth).toBeGreaterThan(0);

    const returned = Date.now();
    national = await startTestNode({
      role: 'national',
      code: 'CPN',
      autoReview: true,
      dataDir: nationalDir,
      port: nationalPort,
    });
    const all = [...before, ...during];
    await eventually(async () => {
      const r = await national.anon.list({ prefix: 'CPN.51', limit: 1000 });
      return r.ok && all.every((id) => r.value.items.some((x) => x.id === id));
    }, 60_000);
    await eventually(() => regional.node.context.outbox.idle(500), 60_000);
    const events = await national.anon.request<{
      items: { id: string; type: string; node: string; subject: string }[];
    }>({ method: 'GET', path: '/cpn/v1/events?type=cluster.registered&limit=1000' });
    const subjects = events.ok ? events.value.items.filter((e) => e.node === 'CPN.51').map((e) => e.subject) : [];
    expect(subjects.sort()).toEqual([...all].sort()); // each once
    // Summaries do not travel through the outbox: the first one after the return may come just after it is idle.
    const market = await eventually(async () => {
      const m = await national.anon.request<{ totals: { clusters: number; k2: { cpuCores: number } } }>({
        method: 'GET',
        path: '/cpn/v1/market',
      });
      return m.ok && m.value.totals.clusters === 45 ? m : null;
    }, 10_000);
    expect(market.ok && market.value.totals.clusters).toBe(45);
    expect(market.ok && market.value.totals.k2.cpuCores).toBe(45 * 104);
    // The newest summary: made after the national node returned, the scheduling figures in it, none queued.
    // The market answers from memory; the row is written by the summary's own unit of work, which on PostgreSQL may
    // still be committing when the market already shows it.
    const held = await eventually(async () => {
      const rows = await national.node.context.db.providers.childSummaries();
      const row = rows.find((r) => r.node === 'CPN.51');
      const s = row ? (JSON.parse(row.summary) as { at: string; ext?: object }) : null;
      return s && Date.parse(s.at) >= returned ? s : null;
    }, 10_000);
    expect(Date.parse(held.at)).toBeGreaterThanOrEqual(returned);
    expect(held.ext).toHaveProperty('scheduling');
    const queued = await regional.node.context.db.outbox.oldest(10_000);
    expect(queued.filter((d) => (JSON.parse(d.payload) as { path: string }).path === '/cpn/v1/summaries')).toEqual([]);
  }, 240_000);
});
