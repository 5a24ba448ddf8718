import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createClient } from '@cpnet/client';
import { ACCEPTANCE_ROUTES, AcceptanceCaseList, ApplicationState, ROUTES } from '@cpnet/protocol';
import { z } from 'zod';
import { ARTIFACTS, findChromium, launch, startDemo, type RunningDemo } from './chromium.ts';

// The 申报与验收 board against real nodes: `cpnet demo --scenario scenarios/acceptance.yaml` (CPN.51 and CPN.44 apply
// to the national node, which is their acceptance authority; speed 4) and one page on it. The oracle is the national
// node's own API, read with the demo's reviewing accounts (demo-reviewer, role reviewer: applications; demo-expert,
// role expert: acceptance cases), not the page's data.
const SCENARIO = fileURLToPath(new URL('../../scenarios/acceptance.yaml', import.meta.url));
const haveChromium = findChromium() !== null;

let demo: RunningDemo | null = null;
let url = '';
let browser: Awaited<ReturnType<typeof launch>> | null = null;
let page: Page;

beforeAll(async () => {
  if (!haveChromium) return;
  demo = await startDemo(['--scenario', SCENARIO]);
  url = demo.url;
  browser = await launch({ width: 1600, height: 1000 });
  page = browser.page;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

describe.skipIf(!haveChromium)('the 申报与验收 board on a running acceptance scenario', () => {
  it("shows every application by the stage the national node reports, and each node's acceptance case", async () => {
    expect(demo!.output()).toContain('demo-reviewer');
    expect(demo!.output()).toContain('demo-expert');
    const national = demo!.nodeUrl('CPN');
    const loginAs = async (account: string) => {
      const login = await createClient({ baseUrl: national }).token({ account, password: `${account}-pass` });
      if (!login.ok) throw new Error(login.error.message);
      return login.value.token;
    };
    const tokens = { applications: await loginAs('demo-reviewer'), cases: await loginAs('demo-expert') };
    const read = async (path: string, token: string) =>
      (await fetch(new URL(path, national), {
        headers: { authorization: `Bearer ${token}`, 'cpn-protocol': '1.0' },
      }).then((r) => r.json())) as unknown;
    // The viewer role is not widened: the viewer token the page holds may not read the cases.
    const viewer = ((await (await fetch(new URL('token', url), { method: 'POST' })).json()) as { token: string }).token;
    const asViewer = await fetch(new URL(ACCEPTANCE_ROUTES.cases, national), {
      headers: { authorization: `Bearer ${viewer}`, 'cpn-protocol': '1.0' },
    });
    expect(asViewer.status).toBe(403);

    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.click('#tab-pipeline');
    expect(await page.locator('#tab-pipeline').textContent()).toBe('申报与验收');

    // Both nodes are approved and their cases opened within seconds (cap 45 s wall); the page shows what the node
    // says at the moment of each comparison (the stages move as the scenario runs).
    const pageStages = () =>
      page.evaluate(() => ({
        apps: [...document.querySelectorAll('#application-board .board-col')].flatMap((col) =>
          [...col.querySelectorAll('.board-card')].map(
            (c) => `${c.getAttribute('data-node')}:${col.getAttribute('data-stage')}`,
          ),
        ),
        cases: [...document.querySelectorAll('#acceptance-cases .case')].map(
          (r) => `${r.getAttribute('data-node')}:${r.getAttribute('data-stage')}`,
        ),
      }));
    const nodeStages = async () => {
      const apps = z
        .object({ items: z.array(ApplicationState) })
        .parse(await read(ROUTES.applications, tokens.applications));
      const cases = AcceptanceCaseList.parse(await read(ACCEPTANCE_ROUTES.cases, tokens.cases));
      return {
        apps: apps.items.map((a) => `${a.ext?.applicant ?? a.id}:${a.status}`).sort(),
        cases: cases.items.map((c) => `${c.node}:${c.status}`).sort(),
      };
    };
    let last: unknown = null;
    await expect
      .poll(
        async () => {
          const want = await nodeStages();
          const seen = await pageStages();
          last = { want, seen };
          return (
            want.cases.length === 2 &&
            JSON.stringify([...seen.apps].sort()) === JSON.stringify(want.apps) &&
            JSON.stringify([...seen.cases].sort()) === JSON.stringify(want.cases)
          );
        },
        { timeout: 45_000, interval: 1_000 },
      )
      .toBe(true);
    console.log('board matched the node:', JSON.stringify(last));
    // Each case says where it is held (the national node approved both regions) and its three phases.
    const rows = await page.evaluate(() =>
      [...document.querySelectorAll('#acceptance-cases .case')].map((r) => ({
        held: r.getAttribute('data-held'),
        phases: [...r.querySelectorAll('.case-phase')].map((p) => p.getAttribute('data-phase')),
      })),
    );
    for (const r of rows)
      expect(r).toEqual({ held: 'CPN', phases: ['phaseConstruction', 'phaseJoint', 'phaseAcceptance'] });
    const text = (await page.locator('#pipeline').textContent()) ?? '';
    expect(text).toContain('已批准');
    expect(text).toMatch(/联调中|待验收|有条件通过|已验收|建设中/);
    await page.screenshot({ path: join(ARTIFACTS, 'pipeline-board.png') });
  }, 90_000);
});
