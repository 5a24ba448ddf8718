import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createClient } from '@cpnet/client';
import { ACCEPTANCE_ROUTES, AcceptanceCaseList, ChainState, PublicityList, ROUTES } from '@cpnet/protocol';
import { z } from 'zod';
import { ARTIFACTS, findChromium, launch, startDemo, type RunningDemo } from './chromium.ts';
import { englishWords } from './page-checks.ts';

// The 申报与验收 board over a guide's review chain: `cpnet demo --scenario scenarios/sichuan-2026.yaml --speed 1` (the
// regional node CPN.51 and industry nodes apply under the Sichuan guide; 初审推荐 … 名单 run at CPN.51, the regional
// node and the industry nodes are 上报'd to the national node; after 公布 CPN.51 approves its industry nodes and holds
// their acceptance cases). The oracle is the nodes' own APIs, read with the demo's accounts there (or none, for the
// public 公示 lists): CPN.51's applications and chain stages, a chain's steps, CPN.51's acceptance cases, and CPN's and
// CPN.51's 公示 lists — not the page's data.
const SICHUAN = fileURLToPath(new URL('../../scenarios/sichuan-2026.yaml', import.meta.url));
const haveChromium = findChromium() !== null;

let demo: RunningDemo | null = null;
let scenario = '';
let browser: Awaited<ReturnType<typeof launch>> | null = null;
let page: Page;

beforeAll(async () => {
  if (!haveChromium) return;
  // The scenario as it is, running on for 10 min of virtual time after its steps (by default a run ends 10 s after its
  // last step, and the demo with it — before the board could show the industry nodes' acceptance cases).
  const dir = mkdtempSync(join(tmpdir(), 'cpnet-pipeline-chain-'));
  scenario = join(dir, 'sichuan-2026.yaml');
  writeFileSync(scenario, readFileSync(SICHUAN, 'utf8').replace(/^speed: max$/m, 'speed: max\nuntil: 10m'));
  demo = await startDemo(['--speed', '1', '--scenario', scenario]);
  browser = await launch({ width: 1600, height: 1000 });
  page = browser.page;
  await page.goto(demo.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  await page.click('#tab-pipeline');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  if (scenario) rmSync(dirname(scenario), { recursive: true, force: true });
});

const get = async (base: string, path: string, token?: string) => {
  const r = await fetch(new URL(path, base), {
    headers: { 'cpn-protocol': '1.0', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: r.status, body: (await r.json()) as unknown };
};

/** A token of a demo account at a node, or null while it does not exist there yet (the board's server creates it). */
async function loginAt(base: string, account: 'demo-reviewer' | 'demo-expert'): Promise<string | null> {
  const login = await createClient({ baseUrl: base }).token({ account, password: `${account}-pass` });
  return login.ok ? login.value.token : null;
}

const tokens = new Map<string, string>();
/**
 * GET with a demo account's token at a node, logging in only when none is held (or the last was refused): the board's
 * server logs in with the same accounts, and a node refuses a second login of an account while one is running. Null
 * while the account does not exist there yet.
 */
async function authGet(
  base: string,
  account: 'demo-reviewer' | 'demo-expert',
  path: string,
): Promise<{ status: number; body: unknown } | null> {
  const key = `${account}@${base}`;
  let token = tokens.get(key);
  if (!token) {
    token = (await loginAt(base, account)) ?? undefined;
    if (!token) return null;
    tokens.set(key, token);
  }
  const r = await get(base, path, token);
  if (r.status === 401) tokens.delete(key);
  return r;
}

/** A failed poll's error with what was compared last, the board's text and a screenshot (pipeline-chain-failed.png). */
const failWith = (state: () => unknown) => async (e: Error) => {
  await page.screenshot({ path: join(ARTIFACTS, 'pipeline-chain-failed.png') }).catch(() => undefined);
  const board = await page
    .locator('#pipeline')
    .innerText()
    .catch(() => '');
  throw new Error(`${e.message}; last compared: ${JSON.stringify(state())}; board: ${board.slice(0, 1500)}`);
};

/** A node time as Beijing wall-clock time, minute precision (an oracle independent of the page's formatter). */
const beijing = (iso: string) =>
  new Date(iso).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false }).slice(0, 16);

const Regional = z.object({
  items: z.array(
    z.object({ ext: z.object({ applicant: z.string() }).optional(), application: z.object({ endpoint: z.string() }) }),
  ),
});
const Items = z.object({
  items: z.array(z.object({ id: z.string(), ext: z.object({ applicant: z.string() }).optional() })),
});

/** CPN.51's URL: the endpoint its application to the national node names (in the snapshot only once online). */
let regionFound: string | null = null;
async function regionUrl(): Promise<string | null> {
  if (regionFound) return regionFound;
  const r = await authGet(demo!.nodeUrl('CPN'), 'demo-reviewer', ROUTES.applications);
  if (r?.status !== 200) return null;
  const apps = Regional.parse(r.body);
  regionFound = apps.items.find((a) => a.ext?.applicant === 'CPN.51')?.application.endpoint ?? null;
  return regionFound;
}

describe.skipIf(!haveChromium)('the 申报与验收 board on the Sichuan guide’s review chain', () => {
  it('shows the applications held at the regional node with the chain stage that node reports, each step with who and when', async () => {
    // What CPN.51 itself reports: each application it holds and the stage its chain waits in.
    const nodeChains = async (): Promise<Map<string, ChainState>> => {
      const region = await regionUrl();
      const chains = new Map<string, ChainState>();
      const r = region && (await authGet(region, 'demo-reviewer', ROUTES.applications));
      if (!region || !r || r.status !== 200) return chains;
      const list = Items.parse(r.body);
      for (const a of list.items) {
        const c = await authGet(region, 'demo-reviewer', `${ROUTES.applications}/${a.id}/chain`);
        if (c?.status === 200) chains.set(a.ext?.applicant ?? a.id, ChainState.parse(c.body));
      }
      return chains;
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
          const chains = await nodeChains().catch(() => new Map<string, ChainState>());
          const want = [...chains].map(([k, c]) => `${k}:${c.stage}`).sort();
          const seen = await pageStages();
          last = { want, seen };
          if (want.length >= 5 && JSON.stringify(seen) === JSON.stringify(want)) matched.add(want.join(','));
          return matched.size >= 1;
        },
        { timeout: 100_000, interval: 1_000 },
      )
      .toBe(true)
      .catch(failWith(() => last));
    console.log('board matched CPN.51 at', JSON.stringify([...matched]), 'last', JSON.stringify(last));
    const text = (await page.locator('#pipeline').textContent()) ?? '';
    expect(text).toContain('受理节点');
    expect(text).toMatch(/初审推荐|联合复审|上报|专家评审|公示|名单|已入选/);

    // Each step of a card on its own line, with who (agency and role) and when (Beijing time): the steps the page shows
    // are the first steps, in order, of the chain a holding node reports (CPN.51's; the national node's once 上报'd —
    // steps are only ever appended), and each line names its author's agency and its time. Cap 60 s wall.
    const chainAt = async (base: string): Promise<ChainState | undefined> => {
      const r = await authGet(base, 'demo-reviewer', ROUTES.applications);
      if (r?.status !== 200) return undefined;
      const list = Items.parse(r.body);
      const id = list.items.find((a) => a.ext?.applicant === 'CPN.51.C397')?.id;
      const c = id ? await authGet(base, 'demo-reviewer', `${ROUTES.applications}/${id}/chain`) : null;
      return c?.status === 200 ? ChainState.parse(c.body) : undefined;
    };
    let stepsSeen: unknown = null;
    await expect
      .poll(
        async () => {
          const shown = await page.evaluate(() =>
            [...document.querySelectorAll('#application-board .board-card[data-node="CPN.51.C397"] li.card-step')].map(
              (li) => ({ by: li.getAttribute('data-by'), at: li.getAttribute('data-at'), text: li.textContent ?? '' }),
            ),
          );
          const region = await regionUrl().catch(() => null);
          const chains = await Promise.all(
            [demo!.nodeUrl('CPN'), ...(region ? [region] : [])].map((u) => chainAt(u).catch(() => undefined)),
          );
          stepsSeen = { shown: shown.length, chains: chains.map((c) => c?.steps.length) };
          return (
            shown.length > 0 &&
            chains.some(
              (chain) =>
                chain !== undefined &&
                shown.length <= chain.steps.length &&
                shown.every((s, i) => {
                  const step = chain.steps[i]!;
                  return (
                    s.by === step.by &&
                    s.at === step.at &&
                    s.text.includes(beijing(step.at)) &&
                    (step.agency === null || s.text.includes(step.agency))
                  );
                }),
            )
          );
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toBe(true)
      .catch(failWith(() => stepsSeen));
    console.log('steps of CPN.51.C397', JSON.stringify(stepsSeen));
    expect(await page.locator('#application-board li.card-step').first().textContent()).toMatch(
      /市州评审人|省级评审人|评审专家|评审人|申报单位/,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'pipeline-chain.png') });
  }, 180_000);

  it('shows the acceptance cases of the industry nodes as their regional node holds them, and each node’s 公示 list', async () => {
    // After 公布名单 CPN.51 grants its industry nodes: their cases open at CPN.51 (their approving authority). The
    // board's cases held at CPN.51 must equal CPN.51's own `GET /cpn/v1/acceptance/cases` (read with demo-expert
    // there) at one moment, with at least one industry node's case (cap 150 s wall: 公布 is at 36 s of the run).
    const nodeCases = async (): Promise<string[]> => {
      const region = await regionUrl();
      const r = region && (await authGet(region, 'demo-expert', ACCEPTANCE_ROUTES.cases));
      if (!r || r.status !== 200) return [];
      return AcceptanceCaseList.parse(r.body)
        .items.map((c) => `${c.node}:${c.status}`)
        .sort();
    };
    const pageCases = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('#acceptance-cases .case[data-held="CPN.51"]')]
          .map((r) => `${r.getAttribute('data-node')}:${r.getAttribute('data-stage')}`)
          .sort(),
      );
    let last: unknown = null;
    await expect
      .poll(
        async () => {
          const want = await nodeCases().catch(() => []);
          const seen = await pageCases();
          last = { want, seen };
          return want.some((c) => c.startsWith('CPN.51.C')) && JSON.stringify(seen) === JSON.stringify(want);
        },
        { timeout: 150_000, interval: 1_000 },
      )
      .toBe(true)
      .catch(failWith(() => last));
    console.log('cases at CPN.51 matched:', JSON.stringify(last));
    const phases = await page.evaluate(() =>
      [...document.querySelectorAll('#acceptance-cases .case[data-held="CPN.51"]')].map((r) =>
        [...r.querySelectorAll('.case-phase')].map(
          (p) => `${p.getAttribute('data-phase')}=${p.getAttribute('data-state')}`,
        ),
      ),
    );
    for (const p of phases) expect(p).toHaveLength(3);
    expect((await page.locator('#acceptance-cases').textContent()) ?? '').toContain('验收机关 CPN.51');

    // Each node's 公示 list (public: no token) — the national node's (where the chain runs 公示 for 上报'd applications)
    // and CPN.51's own: the board's entries per node equal the nodes' lists at one moment, with at least one entry
    // (cap 30 s wall).
    const nodePublicity = async () => {
      const region = await regionUrl();
      if (!region) return [];
      const lists = await Promise.all(
        [
          ['CPN', demo!.nodeUrl('CPN')],
          ['CPN.51', region],
        ].map(async ([code, base]) => {
          const r = await get(base!, '/cpn/v1/publicity');
          return r.status === 200
            ? PublicityList.parse(r.body).items.map((i) => `${code} ${i.applicant}:${i.status}`)
            : [];
        }),
      );
      return lists.flat().sort();
    };
    const pagePublicity = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('#publicity .publicity-item')]
          .map((i) => {
            const node = i.closest('.publicity-node')!.getAttribute('data-node');
            return `${node} ${i.getAttribute('data-applicant')}:${i.getAttribute('data-status')}`;
          })
          .sort(),
      );
    await expect
      .poll(
        async () => {
          const want = await nodePublicity().catch(() => []);
          const seen = await pagePublicity();
          last = { want, seen };
          return want.length > 0 && JSON.stringify(seen) === JSON.stringify(want);
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBe(true)
      .catch(failWith(() => last));
    console.log('公示 matched:', JSON.stringify(last));
    const publicity = (await page.locator('#publicity').textContent()) ?? '';
    expect(publicity).toMatch(/公示中|已入选/);
    expect(publicity).toMatch(/公示期 .*至 \d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间）/);
    // The whole tab in Chinese: no English word outside the allow-list (node wording is marked lang=en).
    expect(await page.evaluate(englishWords)).toEqual([]);
    await page.locator('#acceptance-cases').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'pipeline-acceptance.png') });
  }, 200_000);
});
