import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createClient } from '@cpnet/client';
import { ChainState, ROUTES } from '@cpnet/protocol';
import { z } from 'zod';
import { ARTIFACTS, findChromium, launch } from './chromium.ts';

// The 申报与验收 board over a guide's review chain: `cpnet demo --scenario scenarios/sichuan-2026.yaml --speed 1` (the
// regional node CPN.51 and industry nodes apply under the Sichuan guide; 初审推荐 … 名单 run at CPN.51, the regional
// node and the industry nodes are 上报'd to the national node). The oracle is the regional node's own API, read with
// the demo reviewer there: its applications and each one's chain stage, not the page's data.
const BIN = fileURLToPath(new URL('../../apps/cli/bin/cpnet.js', import.meta.url));
const SCENARIO = fileURLToPath(new URL('../../scenarios/sichuan-2026.yaml', import.meta.url));
const haveChromium = findChromium() !== null;

let demo: ChildProcess | null = null;
let out = '';
let url = '';
let browser: Awaited<ReturnType<typeof launch>> | null = null;
let page: Page;

function startDemo(): Promise<string> {
  return new Promise((resolve, reject) => {
    demo = spawn(process.execPath, [BIN, 'demo', '--port', '0', '--speed', '1', '--scenario', SCENARIO], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => reject(new Error(`no "Visualiser:" line within 60 s (wall):\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /^Visualiser: (http:\/\/\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    demo.stdout!.on('data', onData);
    demo.stderr!.on('data', onData);
    demo.once('exit', (code) => reject(new Error(`cpnet demo exited ${code}:\n${out}`)));
  });
}

beforeAll(async () => {
  if (!haveChromium) return;
  url = await startDemo();
  browser = await launch({ width: 1600, height: 1000 });
  page = browser.page;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const done = new Promise((r) => demo!.once('exit', r));
    demo.kill('SIGINT');
    await Promise.race([done, new Promise((r) => setTimeout(r, 15_000))]);
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
});

const Regional = z.object({
  items: z.array(
    z.object({ ext: z.object({ applicant: z.string() }).optional(), application: z.object({ endpoint: z.string() }) }),
  ),
});
const Items = z.object({
  items: z.array(z.object({ id: z.string(), ext: z.object({ applicant: z.string() }).optional() })),
});

describe.skipIf(!haveChromium)('the 申报与验收 board on the Sichuan guide’s review chain', () => {
  it('shows the applications held at the regional node with the chain stage that node reports', async () => {
    const national = /^\s+CPN\s+(http:\/\/\S+)/m.exec(out)![1]!;
    const get = async (base: string, path: string, token: string) => {
      const r = await fetch(new URL(path, base), {
        headers: { authorization: `Bearer ${token}`, 'cpn-protocol': '1.0' },
      });
      return { status: r.status, body: (await r.json()) as unknown };
    };
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.click('#tab-pipeline');

    // What CPN.51 itself reports: each application it holds and the stage its chain waits in.
    const nodeStages = async (): Promise<string[]> => {
      // CPN.51's URL is the endpoint its application to the national node names (it is in the snapshot only once online).
      const atNational = await createClient({ baseUrl: national }).token({
        account: 'demo-reviewer',
        password: 'demo-reviewer-pass',
      });
      if (!atNational.ok) return [];
      const apps = Regional.parse((await get(national, ROUTES.applications, atNational.value.token)).body);
      const regionUrl = apps.items.find((a) => a.ext?.applicant === 'CPN.51')?.application.endpoint;
      if (!regionUrl) return [];
      const region = { url: regionUrl };
      const login = await createClient({ baseUrl: region.url }).token({
        account: 'demo-reviewer',
        password: 'demo-reviewer-pass',
      });
      if (!login.ok) return [];
      const list = Items.parse((await get(region.url, ROUTES.applications, login.value.token)).body);
      const stages: string[] = [];
      for (const a of list.items) {
        const c = await get(region.url, `${ROUTES.applications}/${a.id}/chain`, login.value.token);
        if (c.status === 200) stages.push(`${a.ext?.applicant ?? a.id}:${ChainState.parse(c.body).stage}`);
      }
      return stages.sort();
    };
    const pageStages = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('#application-board .board-card')]
          .filter(
            (c) => c.querySelector('.card-chain') && c.querySelector('.card-held')?.textContent?.includes('CPN.51'),
          )
          .map(
            (c) => `${c.getAttribute('data-node')}:${c.querySelector('.card-chain')!.getAttribute('data-chain-stage')}`,
          )
          .sort(),
      );
    let last: unknown = null;
    const matched = new Set<string>();
    // Compared while the chain runs (cap 100 s wall): the board must equal what the node reports at some moment. (The
    // page reads every 5 s of wall time while the chain moves on at speed 1; asking for two distinct matching moments
    // failed on a loaded machine.)
    await expect
      .poll(
        async () => {
          const want = await nodeStages().catch(() => []);
          const seen = await pageStages();
          last = { want, seen };
          if (want.length >= 5 && JSON.stringify(seen) === JSON.stringify(want)) matched.add(want.join(','));
          return matched.size >= 1;
        },
        { timeout: 100_000, interval: 1_000 },
      )
      .toBe(true);
    console.log('board matched CPN.51 at', JSON.stringify([...matched]), 'last', JSON.stringify(last));
    const text = (await page.locator('#pipeline').textContent()) ?? '';
    expect(text).toContain('受理节点');
    expect(text).toMatch(/初审推荐|联合复审|上报|专家评审|公示|名单|已入选/);
    await page.screenshot({ path: join(ARTIFACTS, 'pipeline-chain.png') });
  }, 180_000);
});
