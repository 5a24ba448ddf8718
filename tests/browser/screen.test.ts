import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ARTIFACTS, findChromium, launch, startDemo, type RunningDemo } from './chromium.ts';
import { englishWords, labelProblems } from './page-checks.ts';

// The reviewer's screen against real nodes: one `cpnet demo` run of screen-scenario.yaml (the demo's topology, jobs
// from the start, CPN.64 killed at 4 min and restarted at 6 min of virtual time, speed 10) and one page on it; every
// assertion below reads that page. Wall-time caps are stated with each wait.
const SCENARIO = fileURLToPath(new URL('./screen-scenario.yaml', import.meta.url));
const wallNow = () => performance.now();

let demo: RunningDemo | null = null;
let url = '';
let browser: Awaited<ReturnType<typeof launch>> | null = null;
let page: Page;
const out = () => demo?.output() ?? '';

/** Waits until the CLI log shows a line matching `re`; resolves with the wall time it was seen (polled every 50 ms). */
async function logLine(re: RegExp, capMs: number): Promise<number> {
  const until = wallNow() + capMs;
  while (wallNow() < until) {
    if (re.test(out())) return wallNow();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no log line ${re} within ${capMs} ms (wall):\n${out().slice(-2000)}`);
}

/**
 * Opens the drawer on a job by its link, as a reviewer pasting it would; on a timeout the error says what the page
 * showed instead (its hash, the drawer's text, uncaught page errors).
 */
async function openJob(id: string, capMs: number): Promise<void> {
  await page.evaluate((sel) => (location.hash = `#sel=job:${sel}`), id);
  try {
    await page.waitForSelector('#drawer:not([hidden]) #job-chosen', { timeout: capMs });
  } catch (e) {
    const seen = await page.evaluate(() => ({
      hash: location.hash,
      drawerHidden: document.getElementById('drawer')?.hidden,
      drawer: document.getElementById('drawer')?.innerText.slice(0, 1500),
    }));
    throw new Error(
      `the drawer did not show job ${id} within ${capMs} ms (wall): ${JSON.stringify(seen)}; page errors: ` +
        `${JSON.stringify(browser?.pageErrors.slice(-5) ?? [])}`,
      { cause: e },
    );
  }
}

const haveChromium = findChromium() !== null;

beforeAll(async () => {
  if (!haveChromium) return;
  demo = await startDemo(['--scenario', SCENARIO], 90_000);
  url = demo.url;
  browser = await launch({ width: 1600, height: 1000 });
  page = browser.page;
  await page.goto(url);
  // The snapshot arrives once the national node has its subtree (cap 60 s wall).
  await page.waitForFunction(() => document.querySelectorAll('#topology g.node').length >= 13, undefined, {
    timeout: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

describe.skipIf(!haveChromium)("the reviewer's screen on a running scenario", () => {
  it('shows as many clusters as the national market API lists', async () => {
    const token = ((await (await fetch(new URL('token', url), { method: 'POST' })).json()) as { token: string }).token;
    const national = demo!.nodeUrl('CPN');
    // Providers register their clusters in the first minutes: poll until both agree (cap 30 s wall).
    let market = -1;
    let shown = -2;
    const until = wallNow() + 30_000;
    while (wallNow() < until) {
      const m = (await (
        await fetch(new URL('/cpn/v1/market', national), { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { offers: { clusters: number }[] };
      market = m.offers.reduce((n, o) => n + o.clusters, 0);
      shown = Number(await page.getAttribute('#topology', 'data-clusters'));
      if (market > 0 && shown === market) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(shown).toBe(market);
    expect(await page.innerText('#topology .legend')).toContain(`${market} 集群`);
  }, 40_000);

  it('draws a flow between two provinces within 60 s (wall) of the job streams starting', async () => {
    // The jobs start at 30 s of virtual time, 3 s of wall time after the scenario began.
    await page.waitForFunction(
      () => /(\d\d)>(\d\d):/.exec(document.querySelector<HTMLElement>('#tilemap .stage')?.dataset.flows ?? '') !== null,
      undefined,
      { timeout: 60_000 },
    );
    const flows = (await page.getAttribute('#tilemap .stage', 'data-flows'))!;
    expect(flows.split(' ').some((f) => /^(\d\d)>(\d\d):/.exec(f) && f.slice(0, 2) !== f.slice(3, 5))).toBe(true);
    expect(await page.innerText('#tilemap .legend')).toMatch(/最繁忙: \S+ → \S+ [\d.]+ 次\/分/);
  }, 70_000);

  it("explains a real job's placement: the cluster chosen and a cluster not taken, with its reason", async () => {
    // A placement at the cluster's node, forwarded up (job.schedule): chosen is a cluster identifier (cap 60 s wall).
    const job = await page.waitForFunction(
      () => {
        const probe = (
          window as unknown as {
            __cpnetViz: { events(): { event: { type: string; subject?: string; data: Record<string, unknown> } }[] };
          }
        ).__cpnetViz;
        const e = probe.events().find((x) => {
          const ex = x.event.data.explanation as { chosen?: string; rejected?: { target: string }[] } | undefined;
          return (
            x.event.type === 'job.schedule' &&
            ex?.chosen?.includes('/CL-') &&
            ex.rejected?.some((r) => r.target.includes('/CL-'))
          );
        });
        return e?.event.subject ?? false;
      },
      undefined,
      { timeout: 60_000 },
    );
    const id = (await job.jsonValue()) as string;
    await openJob(id, 5_000);
    expect(await page.innerText('#job-chosen')).toMatch(/选定: CPN[\w.]*\/CL-/);
    const rows = await page.$$eval('#job-rejected tr', (trs) =>
      trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    expect(rows.some(([target, why]) => /\/CL-/.test(target!) && why!.trim().length > 0)).toBe(true);
    // Fields, not JSON; the raw view on demand; the tabs stay visible; Escape closes it.
    expect(await page.innerText('#drawer')).not.toContain('{"');
    await page.screenshot({ path: join(ARTIFACTS, 'screen-drawer.png') });
    await page.click('#drawer-raw');
    expect(await page.innerText('#drawer pre.raw-json')).toContain('"explanation"');
    const tabs = await page.locator('#tab-service').boundingBox();
    const drawer = await page.locator('#drawer').boundingBox();
    expect(drawer!.y).toBeGreaterThanOrEqual(tabs!.y + tabs!.height);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#drawer[hidden]', { state: 'attached', timeout: 2_000 });
  }, 70_000);

  it("shows a training job's data transfer (1 GiB in Shanghai) for the chosen cluster and the others, in Chinese", async () => {
    // The training stream names input data: the placing node's explanation carries each candidate's transfer.
    const job = await page.waitForFunction(
      () => {
        const probe = (
          window as unknown as {
            __cpnetViz: { events(): { event: { type: string; subject?: string; data: Record<string, unknown> } }[] };
          }
        ).__cpnetViz;
        const e = probe.events().find((x) => {
          const ex = x.event.data.explanation as
            { transfer?: unknown; rejected?: { transfer?: unknown }[] } | undefined;
          return x.event.type === 'job.schedule' && ex?.transfer !== undefined && ex.rejected?.some((r) => r.transfer);
        });
        return e?.event.subject ?? false;
      },
      undefined,
      { timeout: 60_000 },
    );
    const id = (await job.jsonValue()) as string;
    // It may be the job of the test above, whose link is still the page's hash: clear it so that the drawer reopens.
    await page.evaluate(() => (location.hash = ''));
    await openJob(id, 5_000);
    expect(await page.locator('#job-chosen-transfer').count(), await page.innerText('#drawer')).toBe(1);
    const moved = /迁移 \d[\d,.]* GiB · [\d,.]+ 元 · \d[\d.]* (秒|分钟|小时)后可开始|数据不出省 · 0 元/;
    expect(await page.innerText('#job-chosen-transfer')).toMatch(moved);
    const head = await page.$$eval('#job-rejected tr th', (ths) => ths.map((th) => th.textContent ?? ''));
    expect(head).toContain('数据传输');
    const cells = await page.$$eval('#job-rejected td.transfer', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(cells.some((c) => moved.test(c))).toBe(true);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#drawer[hidden]', { state: 'attached', timeout: 2_000 });
  }, 70_000);

  it('shows a killed node as down within 10 s (wall) of the kill, crossed out, with its episode on the timeline', async () => {
    // The kill is at 4 min of virtual time (24 s of wall time at speed 10 after the start): cap 90 s wall to see it.
    const killedAt = await logLine(/\[\d+\.\d min\] · fault kill CPN\.64/, 90_000);
    await page.waitForSelector('#topology g.node[data-code="CPN.64"][data-health="down"]', {
      state: 'attached',
      timeout: 10_000,
    });
    const seenMs = wallNow() - killedAt;
    expect(seenMs).toBeLessThan(10_000);
    expect(await page.getAttribute('#topology g.node[data-code="CPN.64"] path.fault-mark', 'd')).toMatch(/^M/);
    await page.waitForSelector('#tilemap g.tile.down[data-province="64"]', { state: 'attached', timeout: 5_000 });
    await page.waitForSelector('#episode-list li[data-subject="CPN.64"]', { timeout: 5_000 });
    await page.waitForSelector('#timeline rect.episode[data-subject="CPN.64"]', { state: 'attached', timeout: 5_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'screen-fault-1600x1000.png') });
  }, 100_000);

  it('runs a selection in the service centre as the demo tenant, and says it is live', async () => {
    await page.click('#tab-service');
    expect(await page.innerText('#service-mode')).toMatch(/^实时模式/);
    await page.click('#template-submit');
    await page.waitForSelector('#selection-answer', { timeout: 15_000 });
    expect(await page.innerText('#selection-answer')).toMatch(/CPN[\w.]*\/CL-/);
    await page.screenshot({ path: join(ARTIFACTS, 'screen-service-centre.png') });
  }, 20_000);

  it('speaks Chinese: no English word in the page outside identifiers, units and proper names', async () => {
    // Every tab, and the drawer of a node, a cluster and a province.
    const words: string[] = [];
    for (const tab of ['#tab-overview', '#tab-nodes', '#tab-service']) {
      await page.click(tab);
      words.push(...(await page.evaluate(englishWords)));
    }
    const cluster = await page.getAttribute('#topology', 'data-first-cluster');
    for (const sel of ['node:CPN.62', `cluster:${cluster}`, 'province:62']) {
      await page.evaluate((s) => (location.hash = `#sel=${s}`), sel);
      await page.waitForSelector('#drawer:not([hidden])', { timeout: 2_000 });
      await new Promise((r) => setTimeout(r, 400));
      words.push(...(await page.evaluate(englishWords)));
    }
    await page.keyboard.press('Escape');
    await page.click('#tab-overview');
    expect([...new Set(words)]).toEqual([]);
    // The clock: one, virtual, with its speed.
    expect(await page.innerText('#time')).toMatch(/^虚拟时间 \d+\.\d 分钟 · ×10$/);
  });

  it('keeps every label inside the viewport and apart from the others at 1600×1000 and 1280×800', async () => {
    expect(await page.evaluate(labelProblems)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
    await new Promise((r) => setTimeout(r, 800));
    await page.screenshot({ path: join(ARTIFACTS, 'screen-1280x800.png') });
    expect(await page.evaluate(labelProblems)).toEqual([]);
    await page.setViewportSize({ width: 1600, height: 1000 });
  });

  it('draws the trends over the run with a CSV of each, works from the keyboard, and has a projector mode', async () => {
    await page.click('#tab-trends');
    await page.waitForSelector('#trend-jobs svg.trend path[d^="M"]', { state: 'attached', timeout: 15_000 });
    for (const id of ['jobs', 'scheduling', 'provinces', 'prices', 'alerts'])
      expect(await page.locator(`#csv-${id}`).count()).toBe(1);
    const [file] = await Promise.all([page.waitForEvent('download', { timeout: 5_000 }), page.click('#csv-jobs')]);
    const csv = await new Promise<string>((resolve, reject) => {
      void file.createReadStream().then((stream) => {
        let text = '';
        stream.on('data', (d: Buffer) => (text += d.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
    });
    const [head, ...rows] = csv.trim().split('\r\n');
    expect(head).toMatch(/^t_ms,/);
    expect(rows.length).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'screen-trends.png') });
    // Keyboard: the episode of the killed node, focused and opened with Enter; Escape closes the drawer.
    // The lists and the map are redrawn as snapshots arrive (every 5 s of wall time): an element focused just before a
    // redraw is gone when the key lands, so focus and press again until the drawer opens (10 s of wall time at most).
    const openWith = async (selector: string, key: string) => {
      for (let tries = 0; tries < 10; tries++) {
        await page.focus(selector);
        await page.keyboard.press(key);
        const opened = await page
          .waitForSelector('#drawer:not([hidden])', { timeout: 1_000 })
          .then(() => true)
          .catch(() => false);
        if (opened) return;
      }
      throw new Error(`${key} on ${selector} never opened the drawer`);
    };
    await openWith('#episode-list li[data-subject="CPN.64"]', 'Enter');
    expect(await page.innerText('#drawer-title')).toContain('CPN.64');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#drawer[hidden]', { state: 'attached', timeout: 10_000 });
    await openWith('#tilemap g.tile[data-province="62"]', ' ');
    await page.keyboard.press('Escape');
    await page.click('#projector');
    expect(await page.getAttribute('body', 'class')).toContain('projector');
    await page.click('#tab-overview');
    await new Promise((r) => setTimeout(r, 600));
    await page.screenshot({ path: join(ARTIFACTS, 'screen-projector.png') });
    expect(await page.evaluate(labelProblems)).toEqual([]);
    await page.click('#projector');
  }, 40_000);

  it('threw no uncaught error in the page through the whole run', () => {
    expect(browser!.pageErrors).toEqual([]);
  });
});
