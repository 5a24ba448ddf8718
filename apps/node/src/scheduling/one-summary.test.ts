import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createFakeClock, type FakeClock } from '@cpnet/kernel';
import { formatTime, SubtreeSummary } from '@cpnet/protocol';
import { cryptoRandomBytes } from '@cpnet/security';
import { AggregationConfig } from '../aggregation/config.ts';
import { createAggregation, type Aggregation } from '../aggregation/service.ts';
import { loadSettings } from '../store/settings.ts';
import { openSqliteStores, type SqliteStores } from '../store/stores.ts';
import { facts, fullReport, hierarchy, template } from './testing.ts';

// The one summary upward (issue 21) at the parent: a child's subtree summary carries its scheduling figures in
// `ext.scheduling`; the parent's aggregation hands them to its scheduling (ranking and heartbeat) and writes a row
// only when the summary changed materially or the last written one is old.

const TREE = { CPN: null, 'CPN.51': 'CPN', 'CPN.44': 'CPN' } as const;

/** A market offer of `clusters` clusters of 64 free cores each. */
function offer(node: string, clusters: number) {
  const v = { cpuCores: 64 * clusters, memoryGib: 256 * clusters, storageGib: 0, bandwidthGbps: 0 };
  return {
    node,
    province: '51',
    resourceClass: '403',
    industry: null,
    clusters,
    healthy: clusters,
    k1: v,
    k2: v,
    minPricePerCoreHourYuan: 0.1,
    minPricePerCardHourYuan: null,
    greenShare: 0.5,
    pue: 1.2,
  };
}
const opened: SqliteStores[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The national node's aggregation (real SQLite stores) linked to the national service of an in-process hierarchy. */
async function setup(o: { childDownAfterMs?: number } = {}) {
  const clock: FakeClock = createFakeClock(Date.UTC(2026, 10, 26, 8));
  const h = hierarchy(TREE, { clock, options: { childDownAfterMs: o.childDownAfterMs ?? 10_000 } });
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-one-summary-'));
  dirs.push(dir);
  const db = await openSqliteStores(path.join(dir, 'node.db'));
  opened.push(db);
  const config = AggregationConfig.parse({ summaryMaxIntervalMs: 60_000, dampingThreshold: 0.05 });
  const ctx = {
    config: { code: 'CPN', role: 'national', aggregation: config },
    db,
    deps: { clock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
    events: { emit: () => undefined },
    metrics: { reports: { inc: () => undefined } },
    outbox: { enqueue: () => Promise.resolve(), kick: () => undefined },
    settings: await loadSettings(db),
  };
  const agg: Aggregation = await createAggregation(ctx as never, config);
  const national = h.services.get('CPN')!;
  agg.scheduling = {
    figures: () => national.schedulingFigures(),
    onFigures: (child, f) => national.onFigures(child, f),
    ceiling: () => national.hierarchyCeiling(),
  };
  const add = (node: string, over: Parameters<typeof facts>[1] = {}) => {
    const f = facts(node, over);
    const s = h.services.get(node)!;
    s.upsertCluster(f);
    s.onReport([fullReport(f)], clock.now());
    return f;
  };
  let serial = 0;
  /** A child's subtree summary as it sends it now: 1.0-style, or with its scheduling figures in `ext.scheduling`. */
  const summary = (node: string, o: { figures?: boolean; clusters?: number; at?: number } = {}) =>
    SubtreeSummary.parse({
      node,
      at: formatTime(o.at ?? clock.now()),
      clusters: o.clusters ?? 1,
      healthy: o.clusters ?? 1,
      byClass: {},
      byProvince: {},
      byIndustry: {},
      offers: [offer(node, o.clusters ?? 1)],
      ...(o.figures ? { ext: { scheduling: h.services.get(node)!.schedulingFigures() } } : {}),
    });
  const send = (s: SubtreeSummary, key = `k${++serial}`) =>
    agg.receiveSummaries([{ key: `${s.node}|${key}`, summary: s }]);
  const rows = async () =>
    new Map((await db.providers.childSummaries()).map((r) => [r.node, JSON.parse(r.summary) as SubtreeSummary]));
  return { clock, h, agg, add, summary, send, rows, national };
}

describe('one summary upward, at the parent', () => {
  it('a 1.0 summary (no ext.scheduling) changes nothing in scheduling; one with its figures ranks the child', async () => {
    const { add, summary, send, national, agg } = await setup();
    const far = add('CPN.51', { cpuCores: 64 });
    const r = await send(summary('CPN.51'));
    expect(r).toEqual({ accepted: 1, duplicates: 0, stored: 1, figures: false });
    // The aggregation holds it (the market), the scheduling does not know the child: nothing to place a job into.
    expect(agg.summary().clusters).toBe(1);
    expect(national.schedulingFigures().clusters).toBe(0);
    const before = await national.submit(template(), 'acme');
    expect(before.state).toBe('queued');

    const one = await send(summary('CPN.51', { figures: true }));
    expect(one.figures).toBe(true);
    expect(national.schedulingFigures()).toMatchObject({ clusters: 1, ceiling: { cpuCores: 64 } });
    const placed = await national.submit(template(), 'acme');
    expect(placed).toMatchObject({ state: 'dispatched', cluster: far.id, owner: 'CPN.51' });
    // This node's own summary upward carries its figures, the child's subtree merged in.
    expect(agg.summary().ext?.scheduling).toMatchObject({ clusters: 1 });
  });

  it('takes each summary as the heartbeat, stamped on reception; an older one does not revive a child taken down', async () => {
    const { clock, add, summary, send, national } = await setup({ childDownAfterMs: 1000 });
    add('CPN.51');
    const first = summary('CPN.51', { figures: true });
    await send(first);
    for (let i = 0; i < 5; i++) {
      clock.advance(800);
      await send(summary('CPN.51', { figures: true }));
      await national.tick();
      expect(national.schedulingFigures().clusters).toBe(1);
    }
    clock.advance(1500);
    await national.tick();
    expect(national.schedulingFigures().clusters).toBe(0);
    // Replayed late (older than the newest held): counted, not applied, no heartbeat.
    expect(await send(first)).toMatchObject({ accepted: 1, figures: false });
    await national.tick();
    expect(national.schedulingFigures().clusters).toBe(0);
    await send(summary('CPN.51', { figures: true }));
    expect(national.schedulingFigures().clusters).toBe(1);
  });

  it('writes a row only when the summary changed materially or the last written is old; the rest stay in memory', async () => {
    const { clock, summary, send, rows, agg } = await setup();
    const written = await send(summary('CPN.51', { clusters: 2 }));
    expect(written.stored).toBe(1);
    const at0 = (await rows()).get('CPN.51')!.at;
    clock.advance(1000);
    const same = summary('CPN.51', { clusters: 2 });
    expect(await send(same, 'same')).toEqual({ accepted: 1, duplicates: 0, stored: 0, figures: false });
    expect((await rows()).get('CPN.51')!.at).toBe(at0);
    expect(agg.summary().clusters).toBe(2);
    // A redelivery of a summary held in memory only is still a duplicate.
    expect(await send(same, 'same')).toMatchObject({ accepted: 0, duplicates: 1 });
    clock.advance(1000);
    expect((await send(summary('CPN.51', { clusters: 3 }))).stored).toBe(1);
    expect((await rows()).get('CPN.51')!.clusters).toBe(3);
    clock.advance(60_000);
    const old = summary('CPN.51', { clusters: 3 });
    expect((await send(old)).stored).toBe(1);
    expect((await rows()).get('CPN.51')!.at).toBe(old.at);
  });

  it('ranks a 1.0 child from its SchedulingSummary and a newer child from its one summary alike', async () => {
    const clock = createFakeClock(Date.UTC(2026, 10, 26, 8));
    const h = hierarchy(TREE, { clock, legacy: ['CPN.44'] });
    for (const node of ['CPN.51', 'CPN.44']) {
      const f = facts(node, { cpuCores: 32 });
      h.services.get(node)!.upsertCluster(f);
      h.services.get(node)!.onReport([fullReport(f)], clock.now());
    }
    await h.summaries();
    expect(h.services.get('CPN')!.schedulingFigures()).toMatchObject({ clusters: 2, provinces: ['44', '51'] });
  });
});
