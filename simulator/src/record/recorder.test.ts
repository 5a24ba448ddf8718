import { describe, expect, it } from 'vitest';
import { MonitorEvent, TopologySnapshot } from '@cpnet/protocol';
import { createRecorder, readRecording } from './recorder.ts';

const snapshot = () => ({
  at: '2026-11-26T00:00:00.000Z',
  nodes: [
    {
      code: 'CPN',
      role: 'national' as const,
      name: '国家节点',
      parent: null,
      province: null,
      industry: null,
      lifecycle: 'online' as const,
      health: 'healthy' as const,
    },
  ],
  clusters: [],
  links: [],
  jobs: [],
  counters: {
    identifiersRegistered: 0,
    identifiersResolved: 0,
    jobsByState: {},
    schedulingP50Ms: null,
    schedulingP99Ms: null,
    securityAlerts: 0,
  },
});
const header = {
  kind: 'cpnet-recording' as const,
  version: 1 as const,
  protocol: '1.0',
  scenario: 'test',
  seed: 1,
  startedAt: '2026-11-26T00:00:00.000Z',
  topology: {},
};
const event = (id: string) => ({ id, type: 'node.health' as const, at: '2026-11-26T00:00:00.000Z', node: 'CPN' });

describe('recorder', () => {
  it('writes a header, events in virtual-time order and snapshots at least every 10 s', () => {
    const lines: string[] = [];
    const rec = createRecorder({ header, sink: (l) => lines.push(l), snapshot });
    rec.tick(0);
    rec.event(5000, event('b'));
    rec.event(4000, event('a'));
    for (let t = 0; t <= 35_000; t += 500) rec.tick(t);
    rec.event(36_000, event('c'));
    rec.close(40_000);
    const r = readRecording(lines.join('\n'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const events = r.lines.filter((l) => l.kind === 'event').map((l) => (l.kind === 'event' ? l.event.id : ''));
    expect(events).toEqual(['a', 'b', 'c']);
    const snaps = r.lines.filter((l) => l.kind === 'snapshot').map((l) => l.t);
    for (let i = 1; i < snaps.length; i++) expect(snaps[i]! - snaps[i - 1]!).toBeLessThanOrEqual(10_000);
    expect(snaps.at(-1)).toBe(40_000);
  });

  it('writes an event the caller already parsed as the same line as one it validates itself', () => {
    const write = (add: (rec: ReturnType<typeof createRecorder>) => void) => {
      const lines: string[] = [];
      const rec = createRecorder({ header, sink: (l) => lines.push(l), snapshot });
      rec.tick(0);
      add(rec);
      rec.close(2000);
      return lines;
    };
    const raw = { ...event('a'), subject: 'CPN.51', data: { cause: 'restart' } };
    const validated = write((rec) => rec.event(1000, raw));
    const checked = write((rec) => rec.checkedEvent(1000, MonitorEvent.parse(raw)));
    expect(checked).toEqual(validated);
    expect(validated.filter((l) => l.includes('"kind":"event"'))).toHaveLength(1);
    // Unchecked input still goes through validation: a malformed event is refused, not written.
    expect(() => write((rec) => rec.event(1000, { ...raw, at: 'yesterday' }))).toThrow();
  });

  it('writes a snapshot whose big parts the caller validated as the same line as one it validates whole', () => {
    const cluster = {
      id: 'CPN.51.C151/CL-1',
      node: 'CPN.51.C151',
      provider: 'CPN.51.C151/PV-1',
      name: 'c',
      province: '51',
      lifecycle: 'active' as const,
      health: 'healthy' as const,
      cpuCores: 64,
      cpuAvailable: 32,
      accelerators: 8,
      acceleratorsAvailable: 4,
      utilisation: 0.5,
      pricePerCoreHourYuan: 0.2,
      greenShare: 0.4,
    };
    const job = { id: 'J1', tenant: 't', state: 'running' as const, from: '51', cluster: cluster.id, to: '51' };
    const heard = TopologySnapshot.parse({ ...snapshot(), clusters: [cluster], jobs: [job] });
    const write = (mark: boolean, state: Parameters<ReturnType<typeof createRecorder>['snapshotAt']>[1]) => {
      const lines: string[] = [];
      const rec = createRecorder({ header, sink: (l) => lines.push(l), snapshot });
      if (mark) rec.checkedParts(heard);
      rec.snapshotAt(1000, state);
      rec.close(2000);
      return lines;
    };
    // The periodic snapshot reuses the heard arrays in a state of its own (its nodes, links, counters).
    const state = { ...snapshot(), clusters: heard.clusters, jobs: heard.jobs };
    const whole = write(false, state);
    expect(write(true, state)).toEqual(whole);
    expect(whole.find((l) => l.includes('"t":1000'))).toContain('"origin":null');
    // What was not marked is still validated: a bad node or an unmarked bad cluster is refused, not written.
    const badNode = { ...state, nodes: [{ ...state.nodes[0]!, lifecycle: 'asleep' as never }] };
    expect(() => write(true, badNode)).toThrow();
    expect(() => write(true, { ...state, clusters: [{ ...cluster, utilisation: 2 }] })).toThrow();
  });

  it('writes a reported state in its place among the events, and ends with an index of byte offsets', () => {
    const lines: string[] = [];
    const rec = createRecorder({ header, sink: (l) => lines.push(l), snapshot });
    rec.tick(0);
    rec.event(1000, event('a'));
    rec.event(3000, event('b'));
    rec.snapshotAt(2000, { ...snapshot(), at: '2026-11-26T00:00:02.000Z' });
    for (let t = 0; t <= 8000; t += 500) rec.tick(t);
    rec.close(9000);
    const r = readRecording(lines.join('\n'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.lines.map((l) => `${l.kind}@${l.t}`)).toEqual([
      'snapshot@0',
      'event@1000',
      'snapshot@2000',
      'event@3000',
      'snapshot@9000',
      'index@9000',
    ]);
    const index = r.lines.at(-1)!;
    if (index.kind !== 'index') throw new Error('no index');
    expect(index.events).toBe(2);
    const text = `${lines.join('\n')}\n`;
    for (const s of index.snapshots) {
      const line = text.slice(Buffer.from(text).subarray(0, s.offset).toString().length).split('\n', 1)[0]!;
      expect(JSON.parse(line)).toMatchObject({ kind: 'snapshot', t: s.t });
    }
    expect(index.snapshots.map((s) => s.events)).toEqual([0, 1, 2]);
  });

  it('refuses a snapshot interval over 10 s', () => {
    expect(() => createRecorder({ header, sink: () => {}, snapshot, snapshotEveryMs: 20_000 })).toThrow(/10 s/);
  });

  it('names the bad line of a recording', () => {
    expect(readRecording('{"kind":"cpnet-recording"}')).toEqual({
      ok: false,
      error: expect.stringMatching(/^line 1: /),
    });
    const good = JSON.stringify(header);
    expect(readRecording(`${good}\nnot json`)).toEqual({ ok: false, error: 'line 2: not valid JSON' });
  });
});
