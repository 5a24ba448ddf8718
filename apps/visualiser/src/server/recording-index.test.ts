import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateRecording, toJsonLines } from '../fixtures/recording-fixture.ts';
import { chunkAt, parseChunk, planChunks, windowRecording } from '../state/chunks.ts';
import { parseRecording } from '../state/recording.ts';
import { seek } from '../state/seek.ts';
import type { ViewState } from '../state/types.ts';
import { indexRecording } from './recording-index.ts';

const picture = (s: ViewState) => ({
  t: s.t,
  health: [...s.nodes.values()].map((n) => `${n.code}:${n.health}`).sort(),
  clusters: [...s.clusters.values()].map((c) => `${c.id}:${c.health}:${c.utilisation}`).sort(),
  jobs: [...s.jobs.values()].map((j) => `${j.id}:${j.state}`).sort(),
  flows: [...s.flowCounts.entries()].sort(),
});

describe('a recording read chunk by chunk through its index', () => {
  const fixture = generateRecording({ nodes: 12, clusters: 120, events: 3000, seed: 3, durationMs: 90_000 });
  const text = toJsonLines(fixture);
  const file = join(mkdtempSync(join(tmpdir(), 'cpnet-index-')), 'rec.jsonl');
  writeFileSync(file, text);
  const bytes = readFileSync(file);

  it('builds the index of a recording written without one, and each window seeks as the whole file does', async () => {
    const served = await indexRecording(file);
    if (!served.ok) throw new Error(served.error);
    expect(served.value.built).toBe(true);
    expect(served.value.index.events).toBe(3000);
    expect(served.value.index.snapshots.length).toBe(fixture.lines.filter((l) => l.kind === 'snapshot').length);
    const chunks = planChunks(served.value, { maxEvents: 400, headerEnd: served.value.headerEnd });
    expect(chunks.length).toBeGreaterThan(5);
    const whole = parseRecording(text);
    if (!whole.ok) throw new Error(whole.error);
    const { failover } = fixture;
    for (const t of [0, 5_000, failover.down + 1_000, failover.up + 1, 44_444, fixture.duration]) {
      const c = chunkAt(chunks, t);
      const part = parseChunk(c, bytes.subarray(c.start, c.end).toString('utf8'));
      expect(part.skipped).toEqual([]);
      const window = windowRecording(served.value.header, { parts: [part], duration: served.value.index.t });
      expect(t >= window.from && t < window.until).toBe(true);
      expect(picture(seek(window, t))).toEqual(picture(seek(whole.value, t)));
    }
  });

  it('reports a damaged line with its line number in the file', async () => {
    const lines = text.split('\n');
    lines[40] = '{"kind":"event","t":oops}';
    const damaged = join(mkdtempSync(join(tmpdir(), 'cpnet-index-')), 'rec.jsonl');
    writeFileSync(damaged, lines.join('\n'));
    const served = await indexRecording(damaged);
    if (!served.ok) throw new Error(served.error);
    const chunks = planChunks(served.value, { maxEvents: 400, headerEnd: served.value.headerEnd });
    const raw = readFileSync(damaged);
    const skipped = chunks.flatMap((c) => parseChunk(c, raw.subarray(c.start, c.end).toString('utf8')).skipped);
    expect(skipped).toEqual([{ line: 41, message: 'not JSON' }]);
  });

  it('refuses a file whose first line is not a recording header', async () => {
    const other = join(mkdtempSync(join(tmpdir(), 'cpnet-index-')), 'x.jsonl');
    writeFileSync(other, '{"hello":1}\n');
    const r = await indexRecording(other);
    expect(r.ok).toBe(false);
  });
});
