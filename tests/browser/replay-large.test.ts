import { closeSync, mkdtempSync, openSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder } from '@cpnet/simulator';
import {
  generateRecording,
  repeatThroughRecorder,
  serveVisualiser,
  type Fixture,
  type VisualiserServer,
} from '@cpnet/visualiser';
import { ARTIFACTS, findChromium, launch } from './chromium.ts';

const chromiumPath = findChromium();

type VizProbe = { bytesFetched(): number | null; settled(): Promise<void>; t(): number; play(s?: number): void };

// A recording written by the simulator's real recorder (header, events, snapshots every 10 s, the index line last),
// its events the FIXTURE's repeated five times (100,000 events): the page must open it by its index and seek into the
// middle without reading the whole file.
describe.skipIf(!chromiumPath)('visualiser opening a large recording by its index', () => {
  const COPIES = 5;
  let fixture: Fixture;
  let file: string;
  let span: number;
  let server: VisualiserServer;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  const probe = <T>(f: (p: VizProbe) => T | Promise<T>) =>
    page.evaluate(
      (src) => new Function('p', `return (${src})(p)`)((window as unknown as { __cpnetViz: VizProbe }).__cpnetViz),
      f.toString(),
    ) as Promise<T>;

  beforeAll(async () => {
    fixture = generateRecording({ nodes: 24, clusters: 600, events: 20_000, seed: 5, durationMs: 120_000 });
    file = join(mkdtempSync(join(tmpdir(), 'cpnet-viz-large-')), 'recording.jsonl');
    const fd = openSync(file, 'w');
    const written = repeatThroughRecorder(fixture, {
      times: COPIES,
      recorder: (latest) =>
        createRecorder({ header: fixture.header, sink: (line) => writeSync(fd, `${line}\n`), snapshot: latest }),
    });
    closeSync(fd);
    expect(written.events).toBe(COPIES * 20_000);
    span = written.duration / COPIES;
    server = await serveVisualiser({ port: 0, replayFile: file });
    browser = await launch();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens from the header, index and first chunk, and seeking into the middle shows the state there', async () => {
    const size = statSync(file).size;
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const opened = (await probe((p) => p.bytesFetched())) ?? size;
    // Read by its index: the first chunk only, not the file.
    expect(opened).toBeLessThan(size / 3);

    const { node, down, up } = fixture.failover;
    const circle = page.locator(`#topology g.node[data-code="${node}"] circle`);
    await expect.poll(() => circle.getAttribute('class')).toBe('health-healthy');
    // The third copy's failover: its node is down between down and up of that copy.
    const middle = 2 * span + down + 3_000;
    await page.locator('#scrub').fill(String(middle));
    await probe((p) => p.settled());
    await expect.poll(() => circle.getAttribute('class'), { timeout: 10_000 }).toBe('health-down');
    await expect.poll(() => probe((p) => Math.round(p.t()))).toBe(middle);
    await page.screenshot({ path: join(ARTIFACTS, 'replay-large-middle.png') });
    await page.locator('#scrub').fill(String(2 * span + up + 3_000));
    await probe((p) => p.settled());
    await expect.poll(() => circle.getAttribute('class'), { timeout: 10_000 }).toBe('health-healthy');
    const fetched = (await probe((p) => p.bytesFetched())) ?? size;
    expect(fetched).toBeLessThan(size / 2);
  });

  it('plays across chunk boundaries into the next failover', async () => {
    const { node, down } = fixture.failover;
    const circle = page.locator(`#topology g.node[data-code="${node}"] circle`);
    // From the end of the third copy (healthy) into the fourth copy's failover, fetching the chunks on the way.
    await page.locator('#scrub').fill(String(3 * span - 20_000));
    await probe((p) => p.settled());
    await expect.poll(() => circle.getAttribute('class'), { timeout: 10_000 }).toBe('health-healthy');
    await probe((p) => p.play(60));
    await expect.poll(() => probe((p) => p.t()), { timeout: 30_000 }).toBeGreaterThan(3 * span + down + 1_000);
    await page.click('#play');
    const t = await probe((p) => p.t());
    const expected = t < 3 * span + fixture.failover.up ? 'health-down' : 'health-healthy';
    await expect.poll(() => circle.getAttribute('class'), { timeout: 10_000 }).toBe(expected);
  });

  it('follows a deep link into the middle, reading only the chunk it needs', async () => {
    const { node, down } = fixture.failover;
    const middle = 3 * span + down + 2_000;
    await page.goto('about:blank'); // a fresh page: the same URL with another hash would not reload
    await page.goto(`${server.url}#t=${middle}&sel=node:${node}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    expect(await probe((p) => Math.round(p.t()))).toBe(middle);
    expect(await page.locator('#drawer-title').textContent()).toContain(node);
    expect(await page.locator('#drawer dl').textContent()).toContain('故障');
    expect((await probe((p) => p.bytesFetched())) ?? Infinity).toBeLessThan(statSync(file).size / 3);
  });
});
