// open_1m_events_ms: a 1,000,000-event recording opened in the page by its index (part of `npm run bench -- visualiser`).
// The file has the real recorder's format (simulator's createRecorder: header, events, snapshots, the index line last);
// its events are the visualiser's FIXTURE (24 nodes, 600 clusters, 100,000 events over 20 min of virtual time)
// repeated ten times, shifted in time — a real run of that size takes too long here. Wall time throughout.
import { closeSync, copyFileSync, openSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { createRecorder } from '@cpnet/simulator';
import { generateRecording, repeatThroughRecorder, serveVisualiser } from '@cpnet/visualiser';
import type { Figures } from './lib.ts';

interface Probe {
  ready: boolean;
  error: string | null;
  bytesFetched(): number | null;
  settled(): Promise<void>;
  t(): number;
}

const COPIES = 10;
const EVENTS = 100_000;

function write(file: string): { events: number; duration: number; failover: { node: string; down: number } } {
  const fixture = generateRecording({ nodes: 24, clusters: 600, events: EVENTS, seed: 1, durationMs: 1_200_000 });
  const fd = openSync(file, 'w');
  let buffered: string[] = [];
  const flush = () => {
    writeSync(fd, buffered.join(''));
    buffered = [];
  };
  const written = repeatThroughRecorder(fixture, {
    times: COPIES,
    recorder: (latest) =>
      createRecorder({
        header: fixture.header,
        snapshot: latest,
        sink: (line) => {
          buffered.push(`${line}\n`);
          if (buffered.length >= 10_000) flush();
        },
      }),
  });
  flush();
  closeSync(fd);
  return { ...written, failover: fixture.failover };
}

/** Byte offset of the last line (the index line; it is well under 1 MiB). */
function indexLineOffset(file: string): number {
  const size = statSync(file).size;
  const start = Math.max(0, size - 2 ** 20);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  readSync(fd, buf, 0, buf.length, start);
  closeSync(fd);
  return start + buf.lastIndexOf(10, buf.length - 2) + 1;
}

async function openTimed(page: Page, url: string): Promise<{ ms: number; bytes: number | null }> {
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction(
    () =>
      (window as unknown as { __cpnetViz?: Probe }).__cpnetViz?.ready ||
      (window as unknown as { __cpnetViz?: Probe }).__cpnetViz?.error,
    null,
    { timeout: 300_000 },
  );
  const ms = performance.now() - started;
  const r = await page.evaluate(() => {
    const p = (window as unknown as { __cpnetViz: Probe }).__cpnetViz;
    return { error: p.error, bytes: p.bytesFetched() };
  });
  if (r.error) throw new Error(`the page failed to open the 1M-event recording: ${r.error}`);
  return { ms, bytes: r.bytes };
}

/** Writes the 1M-event recording, then opens it (indexed, and with its index line cut off) and seeks to its middle. */
export async function millionFigures(context: BrowserContext, file: string): Promise<Figures> {
  const writeStart = performance.now();
  const rec = write(file);
  const writeMs = performance.now() - writeStart;
  const size = statSync(file).size;
  const figures: Figures = {
    recording_1m_events: rec.events,
    recording_1m_mb: size / 2 ** 20,
    recording_1m_write_ms: writeMs,
  };
  const page = await context.newPage();
  const indexed = await serveVisualiser({ port: 0, replayFile: file });
  try {
    const open = await openTimed(page, indexed.url);
    figures.open_1m_events_ms = open.ms;
    figures.open_1m_events_fetched_mb = (open.bytes ?? size) / 2 ** 20;
    // The middle copy's failover, a time whose chunk is not loaded.
    const middle = Math.round(rec.duration / 2 + rec.failover.down + 3_000);
    const seekStart = performance.now();
    await page.evaluate(async (t) => {
      const p = (window as unknown as { __cpnetViz: Probe & { seek(t: number): void } }).__cpnetViz;
      p.seek(t);
      await p.settled();
    }, middle);
    await page.waitForFunction(
      ({ node, t }) =>
        (window as unknown as { __cpnetViz: Probe }).__cpnetViz.t() === t &&
        document.querySelector(`#topology g.node[data-code="${node}"] circle`)?.getAttribute('class') === 'health-down',
      { node: rec.failover.node, t: middle },
      { timeout: 60_000 },
    );
    figures.seek_1m_middle_ms = performance.now() - seekStart;
  } finally {
    await indexed.close();
  }
  // The same file without its index line: the server builds the index in one scan (included in the time).
  const bare = `${file}.noindex.jsonl`;
  copyFileSync(file, bare);
  truncateSync(bare, indexLineOffset(file));
  const unindexed = await serveVisualiser({ port: 0, replayFile: bare });
  try {
    figures.open_1m_events_unindexed_ms = (await openTimed(page, unindexed.url)).ms;
  } finally {
    await unindexed.close();
    await page.close();
  }
  return figures;
}
