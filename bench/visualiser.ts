// `npm run bench -- visualiser` (or `npx tsx bench/visualiser.ts`): the visualiser in headless Chromium.
// First against real nodes (bench/visualiser-real.ts): a recording written by the simulator's real recorder, replayed
// at ×10 (frame_ms_*, render_ms_*), and fault_to_pixel_ms in live mode. Then the scale case on the visualiser's seeded
// FIXTURE (fixture_*): 100 nodes and 10,000 clusters animating and the first render of a 100,000-event recording.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { generateRecording, serveVisualiser, toJsonLines } from '@cpnet/visualiser';
import { printTable, quantile, writeFigures, type Figures } from './lib.ts';
import { realFigures } from './visualiser-real.ts';
import { millionFigures } from './visualiser-1m.ts';

interface Probe {
  ready: boolean;
  error: string | null;
  loadStartedMs: number;
  firstRenderMs: number | null;
  frames: number[];
  renderMs: number[];
  play(speed?: number): void;
}

const NODES = 100;
const CLUSTERS = 10_000;
const EVENTS = 100_000;

/** Runs the benchmark and writes bench/results/visualiser.json. */
export async function run(): Promise<Figures> {
  const executablePath = process.env.CHROMIUM_PATH ?? execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'cpnet-bench-viz-'));
  const file = join(dir, 'recording.jsonl');
  const genStart = performance.now();
  // 300 s of virtual time: 31 snapshots of 10,000 clusters, ~333 events per virtual second.
  const fixture = generateRecording({
    nodes: NODES,
    clusters: CLUSTERS,
    events: EVENTS,
    seed: 2026,
    durationMs: 300_000,
    validate: false,
  });
  writeFileSync(file, toJsonLines(fixture));
  const genMs = performance.now() - genStart;
  const server = await serveVisualiser({ port: 0, replayFile: file });
  mkdirSync(join(import.meta.dirname, '..', 'test-artifacts'), { recursive: true });
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const real = await realFigures(context, join(dir, 'real.jsonl'));
    const million = await millionFigures(context, join(dir, 'million.jsonl'));
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(server.url);
    await page.waitForFunction(
      () =>
        (window as unknown as { __cpnetViz?: Probe }).__cpnetViz?.ready ||
        (window as unknown as { __cpnetViz?: Probe }).__cpnetViz?.error,
      null,
      { timeout: 300_000 },
    );
    const load = await page.evaluate(() => {
      const p = (window as unknown as { __cpnetViz: Probe }).__cpnetViz;
      return {
        error: p.error,
        ms: p.loadStartedMs + (p.firstRenderMs ?? Number.NaN),
        nodes: document.querySelectorAll('#topology g.node').length,
      };
    });
    if (load.error) throw new Error(`the page failed to load the recording: ${load.error}`);
    // Animate: play at ×10 (about 3,300 events per second of wall time), warm up, then sample 6 s of frames.
    await page.evaluate(() => (window as unknown as { __cpnetViz: Probe }).__cpnetViz.play(10));
    await page.waitForTimeout(1_500);
    await page.evaluate(() => {
      const p = (window as unknown as { __cpnetViz: Probe }).__cpnetViz;
      p.frames.length = 0;
      p.renderMs.length = 0;
    });
    await page.waitForTimeout(6_000);
    await page.screenshot({ path: join(import.meta.dirname, '..', 'test-artifacts', 'bench-visualiser.png') });
    const sample = await page.evaluate(() => {
      const p = (window as unknown as { __cpnetViz: Probe }).__cpnetViz;
      return { frames: [...p.frames], render: [...p.renderMs] };
    });
    const figures: Figures = {
      ...real,
      ...million,
      fixture_frame_ms_median: quantile(sample.frames, 0.5),
      fixture_frame_ms_p95: quantile(sample.frames, 0.95),
      fixture_render_ms_median: quantile(sample.render, 0.5),
      fixture_render_ms_p95: quantile(sample.render, 0.95),
      fixture_frames_sampled: sample.frames.length,
      replay_load_ms: load.ms,
      recording_mb: statSync(file).size / 2 ** 20,
      recording_events: EVENTS,
      nodes: load.nodes,
      clusters: CLUSTERS,
      fixture_generation_ms: genMs,
    };
    printTable(
      'visualiser (headless Chromium: a real recording at ×10 and live; fixture_*: 100 nodes, 10,000 clusters)',
      Object.entries(figures).map(([figure, value]) => ({ figure, value })),
    );
    const out = writeFigures('visualiser', figures);
    console.log(
      `\nframe p95 ${figures.frame_ms_p95!.toFixed(1)} ms (aim ≤ 33 ms), fault to pixel ` +
        `${figures.fault_to_pixel_ms!.toFixed(0)} ms (aim ≤ 2,000 ms), 1M-event recording opened in ` +
        `${figures.open_1m_events_ms!.toFixed(0)} ms (aim ≤ 5,000 ms); figures in ${out}`,
    );
    return figures;
  } finally {
    await context.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
