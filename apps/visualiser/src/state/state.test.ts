import { describe, expect, it } from 'vitest';
import { generateRecording, toJsonLines } from '../fixtures/recording-fixture.ts';
import { advance, seek } from './seek.ts';
import { parseRecording } from './recording.ts';
import { failoverEpisodes, episodesAt } from './episodes.ts';
import { eventHistogram, matchesFilter, recentEvents } from './filters.ts';
import { dotCount, flowRates } from './flows.ts';
import { addSample, alertsByKind, createSeries, recordingSeries, seriesTables, toCsv } from './series.ts';
import { formatHash, parseHash } from './deep-link.ts';
import { TILES, TILE_COLUMNS, TILE_ROWS } from './tile-layout.ts';
import { clusterTotal, marketRows, provinceStats } from './aggregate.ts';
import type { Recording, TimedEvent } from './types.ts';

const fixture = generateRecording({ nodes: 12, clusters: 120, events: 1500, seed: 7, durationMs: 90_000 });
const text = toJsonLines(fixture);

function load(): Recording {
  const r = parseRecording(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

// eslint-disable-next-line max-params -- a terse test builder
const ev = (t: number, type: string, subject: string, data: Record<string, unknown> = {}): TimedEvent =>
  ({
    t,
    event: { id: `e${t}${type}`, type, at: new Date(t).toISOString(), node: 'CPN', subject, severity: 'info', data },
  }) as TimedEvent;

describe('loading a recording', () => {
  it('validates the header and indexes events and snapshots', () => {
    const rec = load();
    expect(rec.header.kind).toBe('cpnet-recording');
    expect(rec.events).toHaveLength(1500);
    expect(rec.snapshots.length).toBe(10);
    expect(rec.skipped).toEqual([]);
    expect(rec.duration).toBeGreaterThanOrEqual(85_000);
  });

  it('refuses a missing or invalid header, naming the line', () => {
    expect(parseRecording('')).toMatchObject({ ok: false });
    const r = parseRecording('{"kind":"something-else"}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/line 1: invalid recording header/);
  });

  it('skips and reports an invalid line but keeps the rest', () => {
    const lines = text.trimEnd().split('\n');
    lines.splice(
      3,
      0,
      '{"kind":"event","t":5,"event":{"id":"x","type":"no.such","at":"2026-01-01T00:00:00.000Z","node":"CPN"}}',
      'not json',
    );
    const r = parseRecording(lines.join('\n'));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.skipped.map((s) => s.line)).toEqual([4, 5]);
      expect(r.value.events).toHaveLength(1500);
    }
  });
});

describe('seeking', () => {
  it('gives the same state by seeking directly as by playing forward', () => {
    const rec = load();
    const played = seek(rec, 0);
    for (let t = 0; t <= 70_000; t += 3_333) advance(rec, played, t);
    const direct = seek(rec, 70_000);
    expect(direct.cursor).toBe(played.cursor);
    expect([...direct.nodes.values()]).toEqual([...played.nodes.values()]);
    expect([...direct.clusters.values()].map((c) => [c.id, c.health, c.utilisation])).toEqual(
      [...played.clusters.values()].map((c) => [c.id, c.health, c.utilisation]),
    );
    expect([...direct.jobs.keys()].sort()).toEqual([...played.jobs.keys()].sort());
  });

  it('shows the failed node down during the failover and healthy after, and scrubbing back restores it', () => {
    const rec = load();
    const { node, down, up } = fixture.failover;
    expect(seek(rec, down - 10).nodes.get(node)?.health).toBe('healthy');
    const during = seek(rec, down + 100);
    expect(during.nodes.get(node)?.health).toBe('down');
    expect([...during.links.values()].find((l) => l.from === node)?.health).toBe('down');
    const after = advance(rec, during, up + 100);
    expect(after.nodes.get(node)?.health).toBe('healthy');
    expect(advance(rec, after, down + 100).nodes.get(node)?.health).toBe('down');
  });

  it('takes the scheduling percentiles from the latest snapshot while playing forward', () => {
    const rec = load();
    const s = seek(rec, 0);
    expect(s.counters.schedulingP50Ms).toBeNull();
    advance(rec, s, 45_000);
    expect(s.counters.schedulingP50Ms).toBe(rec.snapshots[4]!.state.counters.schedulingP50Ms);
    expect(s.counters.schedulingP50Ms).toBeGreaterThan(0);
  });

  it('does not change the recording when states are mutated', () => {
    const rec = load();
    const s = seek(rec, 15_000);
    s.nodes.get('CPN')!.health = 'down';
    expect(seek(rec, 15_000).nodes.get('CPN')!.health).toBe('healthy');
  });
});

describe('failover episodes', () => {
  it('pairs a node going down with its recovery', () => {
    const episodes = failoverEpisodes(load().events);
    const node = episodes.find((e) => e.kind === 'node');
    expect(node).toMatchObject({
      subject: fixture.failover.node,
      start: fixture.failover.down,
      end: fixture.failover.up,
    });
    expect(episodesAt(episodes, fixture.failover.down + 1).some((e) => e.subject === fixture.failover.node)).toBe(true);
  });

  it('pairs a failed job with its re-placement and leaves an unrecovered one open', () => {
    const eps = failoverEpisodes([
      ev(1, 'job.fail', 'J1'),
      ev(2, 'job.fail', 'J2'),
      ev(5, 'job.replace', 'J1', { cluster: 'C9' }),
      ev(6, 'cluster.health', 'C1', { health: 'down' }),
      ev(7, 'cluster.health', 'C1', { health: 'degraded' }),
    ]);
    expect(eps).toEqual([
      expect.objectContaining({ kind: 'job', subject: 'J1', start: 1, end: 5, replacedOn: 'C9' }),
      expect.objectContaining({ kind: 'job', subject: 'J2', start: 2, end: null }),
      expect.objectContaining({ kind: 'cluster', subject: 'C1', start: 6, end: 7 }),
    ]);
  });
});

describe('filters', () => {
  it('filters by family, severity and text', () => {
    const e = ev(1, 'job.fail', 'CPN.51/JB-1').event;
    expect(matchesFilter(e, { families: ['job'] })).toBe(true);
    expect(matchesFilter(e, { families: ['node'] })).toBe(false);
    expect(matchesFilter({ ...e, severity: 'warning' }, { minSeverity: 'warning' })).toBe(true);
    expect(matchesFilter(e, { minSeverity: 'critical' })).toBe(false);
    expect(matchesFilter(e, { text: 'cpn.51' })).toBe(true);
  });

  it('lists recent events newest first and counts per bucket', () => {
    const events = [ev(1, 'job.run', 'A'), ev(2, 'node.health', 'B'), ev(3, 'job.finish', 'A')];
    expect(recentEvents(events, { end: 3, filter: { families: ['job'] }, limit: 10 }).map((e) => e.t)).toEqual([3, 1]);
    expect(eventHistogram(events, { duration: 4, buckets: 2, filter: {} })).toEqual([1, 2]);
  });
});

describe('flows', () => {
  it('counts placements per province pair once per job and failures separately', () => {
    const events = [
      ev(1_000, 'job.schedule', 'J1', { from: '31', to: '62' }),
      ev(1_100, 'job.dispatch', 'J1', { from: '31', to: '62' }),
      ev(2_000, 'job.schedule', 'J2', { from: '31', to: '62' }),
      ev(3_000, 'job.fail', 'J2', { from: '31', to: '62' }),
      ev(4_000, 'job.schedule', 'J3', { from: '11', to: '15' }),
      ev(90_000, 'job.schedule', 'J4', { from: '11', to: '15' }),
    ];
    expect(flowRates(events, { t: 60_000, windowMs: 60_000 })).toEqual([
      { from: '11', to: '15', perMinute: 1, failedPerMinute: 0 },
      { from: '31', to: '62', perMinute: 2, failedPerMinute: 1 },
    ]);
    expect(dotCount(0)).toBe(0);
    expect(dotCount(0.1)).toBe(1);
    expect(dotCount(25)).toBe(10);
    expect(dotCount(10_000)).toBe(16);
  });

  it('takes the job.flows sums the nodes send: dispatched rows as placements, failed as failures', () => {
    const flows = (rows: unknown[]) => ({ flows: rows });
    const events = [
      ev(1_000, 'job.flows', 'CPN.31', flows([{ from: '31', to: null, state: 'scheduled', count: 4 }])),
      ev(2_000, 'job.flows', 'CPN.62', flows([{ from: '31', to: '62', state: 'dispatched', count: 4 }])),
      ev(3_000, 'job.flows', 'CPN.62', flows([{ from: '31', to: '62', state: 'failed', count: 1 }])),
      // A pair reported by sums is not counted again from single events.
      ev(3_500, 'job.dispatch', 'J9', { originProvince: '31', province: '62' }),
      ev(4_000, 'job.flows', 'CPN.44', flows([{ from: '44', to: '44', state: 'running', count: 2 }])),
    ];
    expect(flowRates(events, { t: 60_000, windowMs: 60_000 })).toEqual([
      { from: '31', to: '62', perMinute: 4, failedPerMinute: 1 },
    ]);
  });

  it('sees east-to-west flows in the fixture', () => {
    const rec = load();
    const flows = flowRates(rec.events, { t: 60_000, windowMs: 60_000 });
    expect(flows.some((f) => f.to === '62' || f.to === '65' || f.to === '15' || f.to === '52')).toBe(true);
  });
});

describe('deep links', () => {
  it('round-trips time, selection and language', () => {
    const link = {
      t: 12_345,
      selection: { kind: 'cluster' as const, id: 'CPN.51.C151/CL-01JQ4ZK8M3XX1' },
      lang: 'en' as const,
    };
    expect(formatHash(link)).toBe('#t=12345&sel=cluster:CPN.51.C151/CL-01JQ4ZK8M3XX1&lang=en');
    expect(parseHash(formatHash(link))).toEqual(link);
    expect(parseHash('#t=-4&sel=bogus:x&lang=fr')).toEqual({});
  });
});

describe('tile map', () => {
  it('has one tile per province at distinct positions inside the grid, west to the left', () => {
    expect(TILES).toHaveLength(34);
    const positions = new Set(TILES.map((t) => `${t.col},${t.row}`));
    expect(positions.size).toBe(34);
    for (const t of TILES) expect(t.col < TILE_COLUMNS && t.row < TILE_ROWS).toBe(true);
    const col = (code: string) => TILES.find((t) => t.code === code)!.col;
    expect(col('65')).toBeLessThan(col('51'));
    expect(col('51')).toBeLessThan(col('31'));
    expect(TILES.find((t) => t.code === '15')!.short).toBe('内蒙古');
  });
});

describe('aggregates', () => {
  it('sums clusters by province and lists the market cheapest first', () => {
    const s = seek(load(), 0);
    const stats = provinceStats(s);
    expect([...stats.values()].reduce((n, p) => n + p.clusters, 0)).toBe(120);
    const rows = marketRows(s, { limit: 10 });
    expect(rows).toHaveLength(10);
    for (let i = 1; i < rows.length; i++)
      expect(rows[i]!.pricePerCoreHourYuan).toBeGreaterThanOrEqual(rows[i - 1]!.pricePerCoreHourYuan);
    // Clusters a large subtree sent as per-node sums count too.
    expect(clusterTotal(s)).toBe(120);
    s.clusterGroups = [
      {
        node: 'CPN.62',
        province: '62',
        clusters: 5000,
        healthy: 5000,
        down: 0,
        cpuCores: 1,
        cpuAvailable: 1,
        accelerators: 0,
        acceleratorsAvailable: 0,
      },
    ];
    expect(clusterTotal(s)).toBe(5120);
  });
});

describe('series', () => {
  it('samples a recording per snapshot and exports each table as CSV', () => {
    const rec = load();
    const series = recordingSeries(rec);
    expect(series.samples.length).toBe(rec.snapshots.length);
    const tables = seriesTables(series, rec.events, { to: rec.duration, buckets: 10 });
    expect(tables.jobs.header[0]).toBe('t_ms');
    expect(tables.jobs.rows).toHaveLength(series.samples.length);
    expect(tables.scheduling.header).toEqual(['t_ms', 'p50_ms', 'p99_ms']);
    expect(tables.provinces.rows.length).toBeGreaterThan(0);
    expect(tables.alerts.rows).toHaveLength(10);
    expect(
      toCsv(
        ['a', 'b'],
        [
          [1, 'x,"y"'],
          [2, null],
        ],
      ),
    ).toBe('a,b\r\n1,"x,""y"""\r\n2,\r\n');
  });

  it('counts alerts by kind per bucket and samples live state at most once per interval', () => {
    const events = [
      ev(1_000, 'security.alert', 'CPN.51', { kind: 'replay' }),
      ev(2_000, 'security.alert', 'CPN.51', { kind: 'probe', threat: false }),
      ev(9_000, 'security.alert', 'CPN.51', { kind: 'replay' }),
    ];
    expect(alertsByKind(events, { from: 0, to: 10_000, buckets: 2 }).map((b) => b.counts)).toEqual([
      { replay: 1, probe: 1 },
      { replay: 1 },
    ]);
    const series = createSeries(10_000);
    const state = seek(load(), 0);
    expect(addSample(series, state)).toBe(true);
    state.t = 5_000;
    expect(addSample(series, state)).toBe(false);
    state.t = 10_000;
    expect(addSample(series, state)).toBe(true);
  });
});

describe('playing a recording whose first snapshot comes after time 0 (as the real recorder writes)', () => {
  it('takes each snapshot it plays past', () => {
    const rec = load();
    // The fixture with its first snapshot moved to 5 s: playing from 0 must still show its nodes and clusters.
    const late: Recording = { ...rec, snapshots: rec.snapshots.map((s, i) => (i === 0 ? { ...s, t: 5_000 } : s)) };
    let state = seek(late, 0);
    expect(state.nodes.size).toBe(0);
    for (let t = 100; t <= 8_000; t += 100) state = advance(late, state, t);
    expect(state.nodes.size).toBe(rec.snapshots[0]!.state.nodes.length);
    expect(state.clusters.size).toBeGreaterThan(0);
  });
});
