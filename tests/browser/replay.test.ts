import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateRecording,
  serveVisualiser,
  toJsonLines,
  type Fixture,
  type VisualiserServer,
} from '@cpnet/visualiser';
import { ARTIFACTS, findChromium, launch } from './chromium.ts';

const chromiumPath = findChromium();
if (!chromiumPath) console.warn('[browser tests] skipped: chromium is not installed (apt-get install -y chromium)');

describe.skipIf(!chromiumPath)('visualiser replaying a recording', () => {
  let fixture: Fixture;
  let server: VisualiserServer;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;

  const open = async (hash = '') => {
    await page.goto(`${server.url}${hash}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  };
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    fixture = generateRecording({ nodes: 24, clusters: 600, events: 4000, seed: 11, durationMs: 120_000 });
    const file = join(mkdtempSync(join(tmpdir(), 'cpnet-viz-')), 'recording.jsonl');
    writeFileSync(file, toJsonLines(fixture));
    server = await serveVisualiser({ port: 0, replayFile: file });
    browser = await launch();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads the replay and shows every node code and name as text', async () => {
    await open();
    const nodes = fixture.lines.find((l) => l.kind === 'snapshot')!;
    if (nodes.kind !== 'snapshot') throw new Error('no snapshot');
    await expect.poll(() => page.locator('#topology g.node').count()).toBe(nodes.state.nodes.length);
    await expect(page.locator('#mode').textContent()).resolves.toContain('回放');
    await shot('replay-overview');
    await page.click('#tab-nodes');
    const list = (await page.locator('#node-list').textContent()) ?? '';
    for (const n of nodes.state.nodes) {
      expect(list).toContain(n.code);
      expect(list).toContain(n.name);
    }
    // Regional and national codes are also SVG labels, and every node has a title.
    const labels = await page.locator('#topology text.node-label').allTextContents();
    expect(labels).toContain('CPN.51');
    expect(await page.locator('#topology g.node[data-code="CPN.51"] title').textContent()).toContain('四川省区域节点');
    await shot('replay-node-list');
  });

  it('opens the details drawer when a node is clicked', async () => {
    await open();
    expect(await page.locator('#drawer').isVisible()).toBe(false);
    await page.locator('#topology g.node[data-code="CPN.51"] circle').click();
    await expect.poll(() => page.locator('#drawer').isVisible()).toBe(true);
    expect(await page.locator('#drawer-title').textContent()).toContain('CPN.51 四川省区域节点');
    expect(await page.locator('#drawer').textContent()).toContain('CPN.51.C397');
    await expect.poll(() => page.evaluate(() => location.hash)).toContain('sel=node:CPN.51');
    await shot('drawer-node');
  });

  it('marks the failover episode on the timeline, from failure to recovery', async () => {
    await open();
    const { node, down, up } = fixture.failover;
    const mark = page.locator(`#timeline rect.episode[data-subject="${node}"]`);
    await expect.poll(() => mark.count()).toBe(1);
    const title = (await mark.locator('title').textContent()) ?? '';
    expect(title).toContain(node);
    const fmt = (ms: number) => `${Math.floor(ms / 60_000)}:${((ms % 60_000) / 1000).toFixed(1).padStart(4, '0')}`;
    expect(title).toContain(`${fmt(down)} → ${fmt(up)}`);
    expect(await page.locator('#episode-list').textContent()).toContain(node);
  });

  it('changes the view when scrubbing into and out of the failover', async () => {
    await open();
    const { node, down } = fixture.failover;
    const province = node.slice(4, 6);
    const circle = page.locator(`#topology g.node[data-code="${node}"] circle`);
    await expect.poll(() => circle.getAttribute('class')).toBe('health-healthy');
    const before = await page.locator('#time').textContent();
    await page.locator('#scrub').fill(String(down + 3_000));
    await expect.poll(() => circle.getAttribute('class')).toBe('health-down');
    await expect
      .poll(() => page.locator(`#tilemap g.tile[data-province="${province}"]`).getAttribute('class'))
      .toContain('down');
    expect(await page.locator('#time').textContent()).not.toBe(before);
    expect(await page.locator(`#topology line.link.down`).count()).toBeGreaterThan(0);
    await shot('scrubbed-into-failover');
    await page.locator('#scrub').fill('1000');
    await expect.poll(() => circle.getAttribute('class')).toBe('health-healthy');
  });

  it("follows a deep link to a time and a selection, and shows a job's scheduling explanation", async () => {
    const { node, down } = fixture.failover;
    await open(`#t=${down + 2_000}&sel=node:${node}`);
    expect(await page.locator('#drawer-title').textContent()).toContain(node);
    expect(await page.locator('#drawer dl').textContent()).toContain('故障');
    const job = fixture.lines.find((l) => l.kind === 'event' && l.event.type === 'job.schedule' && l.t > 20_000);
    if (!job || job.kind !== 'event') throw new Error('no job in the fixture');
    await open(`#t=${job.t + 10}&sel=job:${job.event.subject}`);
    expect(await page.locator('#drawer-title').textContent()).toContain(job.event.subject);
    const explanation = (await page.locator('#job-explanation').textContent()) ?? '';
    expect(explanation).toContain('选择');
    expect(explanation).toContain(String(job.event.data.cluster));
    await shot('drawer-job-explanation');
  });

  it('plays, switches to English, and says the service centre needs a live node', async () => {
    await open();
    await page.click('#play');
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __cpnetViz: { t(): number } }).__cpnetViz.t()))
      .toBeGreaterThan(500);
    await page.click('#play');
    await page.click('#lang');
    await expect.poll(() => page.locator('#topology-title').textContent()).toBe('Node topology');
    await page.click('#tab-service');
    expect(await page.locator('#market-table tr').count()).toBeGreaterThan(5);
    await page.click('#template-submit');
    expect(await page.locator('#needs-live').textContent()).toContain('needs a live node');
    await shot('service-centre-replay-en');
  });
});
