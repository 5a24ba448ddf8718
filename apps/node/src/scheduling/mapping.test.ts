import { describe, expect, it } from 'vitest';
import { createRng } from '@cpnet/kernel';
import { generateClusters, summarise, select, ClusterIndex } from '@cpnet/scheduler';
import { JobExplanation, SelectionAnswer, TaskTemplate } from '@cpnet/protocol';
import { explainPlacement } from './job-events.ts';
import {
  figuresFromWire,
  figuresToWire,
  mergeSummaries,
  summaryToWire,
  toCluster,
  toSelectionAnswer,
  toTask,
} from './mapping.ts';
import { facts, fullReport } from './testing.ts';

/** The value of a scheduler result (a test fails loudly on an input error). */
function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('mapping protocol ⇄ scheduler', () => {
  it('maps a wire template: accelerators, placement, explicit weights (green → carbon), deadline as epoch ms', () => {
    const t = TaskTemplate.parse({
      demand: { cpuCores: 8, memoryGib: 32, accelerators: { model: 'A800', count: 2 } },
      replicas: 3,
      placement: 'gang',
      durationHours: 2,
      constraints: { arch: 'sw_64', residency: { provinces: ['51'] }, deadline: '2026-12-01T00:00:00.000Z' },
      objective: { cost: 0.5, latency: 0.2, green: 0.3 },
    });
    expect(toTask(t, { id: 'J', tenant: 'acme' })).toMatchObject({
      id: 'J',
      tenant: 'acme',
      replicas: 3,
      mode: 'gang',
      priority: 100,
      demand: { cpuCores: 8, accelerator: { model: 'A800', count: 2 } },
      constraints: { arch: 'sw_64', residency: { provinces: ['51'] }, deadline: Date.UTC(2026, 11, 1) },
      objective: { cost: 0.5, latency: 0.2, carbon: 0.3, reliability: 0 },
    });
  });

  it('maps the issue-27 fields from ext (data, locality) and shows the transfer in the candidate ext', () => {
    const t = TaskTemplate.parse({
      demand: { cpuCores: 4, memoryGib: 8 },
      durationHours: 1,
      placement: 'gang',
      replicas: 2,
      latencyTolerant: true,
      ext: {
        data: { inputGib: 100, province: '11', outputGib: 10 },
        locality: { maxInterReplicaLatencyMs: 10 },
      },
    });
    const task = toTask(t, { id: 'J', tenant: 'acme' });
    expect(task.data).toEqual({ inputGib: 100, province: '11', outputGib: 10 });
    expect(task.placement).toEqual({ maxInterReplicaLatencyMs: 10 });
    const f = facts('CPN.51');
    const ix = must(ClusterIndex.build([toCluster(f, fullReport(f))]));
    const answer = SelectionAnswer.parse(
      toSelectionAnswer(must(select(ix, task)), {
        answeredBy: 'CPN',
        escalated: false,
        place: () => ({ node: 'CPN.51', province: '51' }),
      }),
    );
    expect(answer.candidates[0]!.ext).toEqual({ transfer: { movedGib: 110, yuan: 33, secondsToStart: 172 } });
    // The job's explanation (job.schedule events, the visualiser's drawer) carries the same transfer, valid on the wire.
    const two = must(
      ClusterIndex.build([toCluster(f, fullReport(f)), toCluster(facts('CPN.11'), fullReport(facts('CPN.11')))]),
    );
    const sel = must(select(two, { ...task, mode: 'single', replicas: 1, placement: undefined }, { k: 4 }));
    const why = JobExplanation.parse(explainPlacement(sel, { chosen: sel.candidates[0]!.clusterId, refused: [] }));
    const all = [why.transfer, ...why.rejected.map((r) => r.transfer)].filter((x) => x !== undefined);
    expect(all).toHaveLength(2);
    expect(all.map((x) => x.movedGib).sort((a, b) => a - b)).toEqual([0, 110]);
    const bad = select(ix, toTask({ ...t, ext: { data: { inputGib: -1, province: '11' } } }, { id: 'J', tenant: 'a' }));
    expect(!bad.ok && bad.error.field).toBe('task.data.inputGib');
  });

  it('builds a cluster row from registration and report: K2 from the report, the worse health, latency to its own province', () => {
    const f = facts('CPN.51', { cpuCores: 100 });
    const r = fullReport(f);
    const c = toCluster(f, {
      ...r,
      k2: { ...r.k2, cpuCores: 40 },
      metrics: { ...r.metrics, health: 'degraded', latencyMs: 7 },
    });
    expect(c).toMatchObject({
      id: f.id,
      nodePrefix: 'CPN.51',
      provinceCode: '51',
      health: 'degraded',
      latencyMsTo: { 51: 7 },
    });
    expect(c.available.cpuCores).toBe(40);
    expect(toCluster({ ...f, health: 'down' }, r).health).toBe('down');
  });

  it('an answer names the first 5 clusters of each constraint and counts all of them in the summary', () => {
    const west = Array.from({ length: 8 }, () => facts('CPN.51'));
    const small = Array.from({ length: 2 }, () => facts('CPN.51', { cpuCores: 2, province: '44' }));
    const ix = must(ClusterIndex.build([...west, ...small].map((f) => toCluster(f, fullReport(f)))));
    const template = TaskTemplate.parse({
      demand: { cpuCores: 4, memoryGib: 1 },
      durationHours: 1,
      constraints: { residency: { provinces: ['44'] } },
    });
    const sel = must(select(ix, toTask(template, { id: 's', tenant: 't' })));
    const a = toSelectionAnswer(sel, {
      answeredBy: 'CPN.51',
      escalated: false,
      place: () => ({ node: 'CPN.51', province: '51' }),
    });
    // Most frequent constraint first: residency (8, the first 5 named), then cpu (both named).
    expect(a.excluded.map((e) => e.cluster)).toEqual([...west.slice(0, 5), ...small].map((f) => f.id));
    expect(a.excluded.map((e) => e.constraint)).toEqual([...Array(5).fill('residency'), 'cpu', 'cpu']);
    expect(a.summary).toMatch(/residency excluded 8 of 10 clusters.*cpu 2/);
  });

  it('an unsatisfiable selection answers which constraint excluded everything', () => {
    const f = facts('CPN.51');
    const ix = must(ClusterIndex.build([toCluster(f, fullReport(f))]));
    const sel = must(
      select(
        ix,
        toTask(
          TaskTemplate.parse({
            demand: { cpuCores: 1, memoryGib: 1 },
            durationHours: 1,
            constraints: { residency: { provinces: ['44'] } },
          }),
          { id: 's', tenant: 't' },
        ),
      ),
    );
    const a = toSelectionAnswer(sel, {
      answeredBy: 'CPN.51',
      escalated: false,
      place: () => ({ node: 'CPN.51', province: '51' }),
    });
    expect(a.candidates).toEqual([]);
    expect(a.summary).toMatch(/^no cluster fits: residency excluded 1 of 1 clusters/);
    expect(a.excluded[0]).toMatchObject({ cluster: f.id, constraint: 'residency' });
  });

  it("summaries survive the wire (an empty subtree's infinite prices as null) and merge per subtree", () => {
    const clusters = generateClusters(createRng(3), { count: 20 });
    const s = must(summarise('CPN.51', clusters));
    expect(figuresFromWire('CPN.51', figuresToWire(s) as never)).toEqual(s);
    expect(summaryToWire(s, 0)).toEqual({ node: 'CPN.51', at: '1970-01-01T00:00:00.000Z', ...figuresToWire(s) });
    const empty = summaryToWire(must(summarise('CPN.44', [])), 0);
    expect(empty.minPricePerCoreHourYuan).toBeNull();
    const m = mergeSummaries('CPN', [s, must(summarise('CPN.44', []))]);
    expect(m).toMatchObject({ prefix: 'CPN', clusters: s.clusters, health: 'degraded' });
  });
});
