import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  parseScenario,
  readRecording,
  readRecordingIndex,
  readSnapshotBefore,
  runScenario,
  summarise,
} from '@cpnet/simulator';
import { cleanup, tempDir } from '../src/nodes.ts';
import { contractValidator } from '../src/contract.ts';

// Issue 19: a recording holds what happened — nodes from the first snapshot, the clusters and jobs the nodes held,
// job events with their provinces — and ends with an index by which a long recording opens from its tail.

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scenarios');

describe('recordings written by the real recorder', () => {
  it('east-data-west-compute: nodes from the start, clusters and jobs in snapshots, provinces on job events, an index', async () => {
    const file = 'east-data-west-compute.yaml';
    const r = parseScenario(readFileSync(path.join(dir, file), 'utf8'), file);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const lines: string[] = [];
    const report = await runScenario(r.value, { record: (l) => lines.push(l), logLevel: 'warn' });
    // The scenario's own expectations are shipped.test.ts's business (its west share depends on timing); this test
    // asks only that the work happened, and looks at what was recorded of it.
    expect(report.metrics['jobs_dispatched'], summarise(report)).toBe(32);
    const rec = readRecording(lines.join('\n'));
    if (!rec.ok) throw new Error(rec.error);
    const snapshots = rec.lines.filter((l) => l.kind === 'snapshot');
    const events = rec.lines.filter((l) => l.kind === 'event');
    // Play from the start shows the network.
    expect(snapshots[0]!.state.nodes.length).toBe(r.value.topology.regions.length + 1 + countIndustries(r.value));
    // The market step says 14 clusters: the snapshots after it hold them, and jobs in flight appear.
    expect(Math.max(...snapshots.map((s) => s.state.clusters.length))).toBe(14);
    expect(snapshots.some((s) => s.state.jobs.length > 0)).toBe(true);
    // A snapshot at t holds what the events say held at t: clusters registered by then, jobs submitted by then and
    // not finished well before (the subtree is asked while the run goes on: LAG_MS of virtual time either side).
    const LAG_MS = 15_000;
    const firstOf = (type: string) => {
      const m = new Map<string, number>();
      for (const e of events)
        if (e.event.type === type && e.event.subject && !m.has(e.event.subject)) m.set(e.event.subject, e.t);
      return m;
    };
    const registered = firstOf('cluster.registered');
    const submitted = firstOf('job.submit');
    const finishedAt = firstOf('job.finish');
    let checkedJobs = 0;
    for (const s of snapshots) {
      for (const c of s.state.clusters)
        expect(registered.get(c.id), `${c.id} at ${s.t}`).toBeLessThanOrEqual(s.t + LAG_MS);
      for (const j of s.state.jobs) {
        expect(submitted.get(j.id), `${j.id} submitted by ${s.t}`).toBeLessThanOrEqual(s.t + LAG_MS);
        const done = finishedAt.get(j.id);
        if (done !== undefined) expect(done, `${j.id} not finished long before ${s.t}`).toBeGreaterThan(s.t - LAG_MS);
        checkedJobs++;
      }
    }
    expect(checkedJobs).toBeGreaterThan(0);
    // Job events carry origin and destination provinces.
    const finished = events.filter((e) => e.event.type === 'job.finish' && e.event.data['relayed'] !== true);
    expect(finished.length).toBeGreaterThan(0);
    for (const e of finished)
      expect(e.event.data).toMatchObject({ originProvince: expect.any(String), province: expect.any(String) });
    // Each event once, though a forwarded one reaches the recorder from every ancestor too.
    expect(new Set(events.map((e) => e.event.id)).size).toBe(events.length);
    // Every recorded event matches the contract.
    const contract = contractValidator();
    for (const e of events) contract.check('event', e.event);
    expect(contract.failures.slice(0, 3)).toEqual([]);
    // The index: the last line; a snapshot is read by its offset alone.
    const last = rec.lines.at(-1)!;
    expect(last.kind).toBe('index');
    const f = path.join(tempDir(), 'run.jsonl');
    writeFileSync(f, `${lines.join('\n')}\n`);
    const idx = await readRecordingIndex(f);
    if (!idx.ok) throw new Error(idx.error);
    expect(idx.index.snapshots).toHaveLength(snapshots.length);
    expect(idx.index.events).toBe(events.length);
    const mid = snapshots[Math.floor(snapshots.length / 2)]!;
    const got = await readSnapshotBefore(f, { index: idx.index, t: mid.t + 1 });
    expect(got?.t).toBe(mid.t);
    expect(got?.state).toEqual(mid.state);
    const eventBytes = lines.filter((l) => l.startsWith('{"kind":"event"')).reduce((n, l) => n + l.length + 1, 0);
    console.log(
      `recording: ${lines.length} lines, ${events.length} events, ${snapshots.length} snapshots; ` +
        `${(eventBytes / events.length).toFixed(0)} B per event line; ` +
        `${(Buffer.byteLength(lines.join('\n')) / events.length).toFixed(0)} B per event with snapshots`,
    );
    cleanup();
  }, 300_000);
});

function countIndustries(s: { topology: { regions: readonly { industries?: readonly unknown[] }[] } }): number {
  return s.topology.regions.reduce((n, r) => n + (r.industries?.length ?? 0), 0);
}
