// The visualiser against real nodes (part of `npm run bench -- visualiser`): the demo topology of
// tests/browser/screen-scenario.yaml run by the simulator with the real recorder attached; while it runs, the live page
// on the national node, and the wall time from killing CPN.64 (its connections drop) to the node drawn down on the
// screen (fault_to_pixel_ms); then the recording it wrote, replayed at ×10 (frame and render time).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { parseScenario, runScenario } from '@cpnet/simulator';
import { serveVisualiser } from '@cpnet/visualiser';
import { quantile, type Figures } from './lib.ts';

const SCENARIO = join(import.meta.dirname, '..', 'tests', 'browser', 'screen-scenario.yaml');
/** Virtual time the run lasts (ten times that in wall time is the speed: 10). */
const RUN_MS = 5 * 60_000;
const wall = () => performance.timeOrigin + performance.now();

interface Probe {
  ready: boolean;
  error: string | null;
  frames: number[];
  renderMs: number[];
  play(speed?: number): void;
}

/** Runs the scenario with a live page and the recorder; returns its figures and writes the recording to `file`. */
export async function realFigures(context: BrowserContext, file: string): Promise<Figures> {
  // tsx names functions (esbuild keepNames): functions evaluated in the page call __name, which the page lacks.
  await context.addInitScript('window.__name = (f) => f');
  const parsed = parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO);
  if (!parsed.ok) throw new Error(`${SCENARIO}: ${JSON.stringify(parsed.errors)}`);
  // The bench kills CPN.64 itself (so that it knows the instant); the scenario's own fault steps are dropped.
  const scenario = { ...parsed.value, until: RUN_MS, steps: [] };
  const lines: string[] = [];
  let faultToPixel = Number.NaN;
  let closeViz: (() => Promise<void>) | null = null;
  await runScenario(scenario, {
    logLevel: 'warn',
    record: (line) => lines.push(line),
    onStarted: async (net) => {
      const national = net.nodes.get('CPN')!;
      await national
        .self()
        .createAccount({ id: 'bench-viewer', name: '基准观众', role: 'viewer', password: 'bench-pass' });
      const token = async () => {
        const t = await national.anon().token({ account: 'bench-viewer', password: 'bench-pass', ttlSeconds: 3600 });
        if (!t.ok) throw new Error(t.error.message);
        return t.value.token;
      };
      const viz = await serveVisualiser({
        port: 0,
        liveUrl: net.urlOf('CPN'),
        token: await token(),
        renew: async () => ({ ok: true, token: await token(), renewInMs: 60_000 }),
      });
      closeViz = viz.close;
      const page = await context.newPage();
      await page.goto(viz.url);
      await page.waitForFunction(() => document.querySelectorAll('#topology g.node').length >= 13, null, {
        timeout: 120_000,
      });
      // The page notes the wall instant (epoch ms) CPN.64 is drawn down.
      await page.evaluate(() => {
        const w = window as unknown as { __downAt?: number };
        const check = () => {
          if (w.__downAt) return;
          if (document.querySelector('#topology g.node[data-code="CPN.64"][data-health="down"]'))
            w.__downAt = performance.timeOrigin + performance.now();
        };
        new MutationObserver(check).observe(document.body, { subtree: true, attributes: true, childList: true });
      });
      await page.waitForTimeout(5_000);
      const killedAt = wall();
      await net.nodes.get('CPN.64')!.stop({ abrupt: true });
      await page.waitForFunction(() => (window as unknown as { __downAt?: number }).__downAt, null, {
        timeout: 60_000,
      });
      faultToPixel = (await page.evaluate(() => (window as unknown as { __downAt: number }).__downAt)) - killedAt;
      await page.screenshot({ path: join(import.meta.dirname, '..', 'test-artifacts', 'bench-visualiser-live.png') });
      await page.close();
    },
  });
  await (closeViz as (() => Promise<void>) | null)?.();
  writeFileSync(file, lines.join('\n') + '\n');
  const events = lines.filter((l) => l.includes('"kind":"event"')).length;

  // The recording the real recorder wrote, replayed at ×10.
  const replay = await serveVisualiser({ port: 0, replayFile: file });
  try {
    const page = await context.newPage();
    const opened = wall();
    await page.goto(replay.url);
    await page.waitForFunction(
      () =>
        (window as unknown as { __cpnetViz?: Probe }).__cpnetViz?.ready ||
        (window as unknown as { __cpnetViz?: Probe }).__cpnetViz?.error,
      null,
      { timeout: 120_000 },
    );
    const openMs = wall() - opened;
    await page.evaluate(() => (window as unknown as { __cpnetViz: Probe }).__cpnetViz.play(10));
    await page.waitForTimeout(1_500);
    await page.evaluate(() => {
      const p = (window as unknown as { __cpnetViz: Probe }).__cpnetViz;
      p.frames.length = 0;
      p.renderMs.length = 0;
    });
    await page.waitForTimeout(6_000);
    await page.screenshot({ path: join(import.meta.dirname, '..', 'test-artifacts', 'bench-visualiser-real.png') });
    const sample = await page.evaluate(() => {
      const p = (window as unknown as { __cpnetViz: Probe }).__cpnetViz;
      return { frames: [...p.frames], render: [...p.renderMs] };
    });
    await page.close();
    return {
      frame_ms_median: quantile(sample.frames, 0.5),
      frame_ms_p95: quantile(sample.frames, 0.95),
      render_ms_median: quantile(sample.render, 0.5),
      render_ms_p95: quantile(sample.render, 0.95),
      frames_sampled: sample.frames.length,
      real_recording_lines: lines.length,
      real_recording_events: events,
      real_recording_open_ms: openMs,
      fault_to_pixel_ms: faultToPixel,
    };
  } finally {
    await replay.close();
  }
}
