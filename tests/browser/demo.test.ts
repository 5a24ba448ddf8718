import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launch } from './chromium.ts';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/cpnet.js', import.meta.url));
let demo: ChildProcess | null = null;

afterAll(async () => {
  if (demo && demo.exitCode === null) {
    const done = new Promise((r) => demo!.once('exit', r));
    demo.kill('SIGINT');
    await Promise.race([done, new Promise((r) => setTimeout(r, 15_000))]);
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
});

/** Starts `cpnet demo` (what `npm start` runs) and resolves with the URL of its "Visualiser:" line. */
function startDemo(): Promise<{ url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    demo = spawn(process.execPath, [BIN, 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => reject(new Error(`no "Visualiser:" line within 90 s:\n${out}`)), 90_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /^Visualiser: (http:\/\/\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, output: () => out });
      }
    };
    demo.stdout!.on('data', onData);
    demo.stderr!.on('data', onData);
    demo.once('exit', (code) => reject(new Error(`cpnet demo exited ${code}:\n${out}`)));
  });
}

describe('npm start (cpnet demo)', () => {
  it('prints a "Visualiser:" URL whose page shows the running demo, node codes readable as text, and stops on Ctrl-C', async () => {
    const { url, output } = await startDemo();
    expect(output()).toMatch(/CPN\.51\.C151\s+http:\/\/127\.0\.0\.1:\d+/);
    const browser = await launch();
    try {
      await browser.page.goto(url);
      // Live from the national node: every node of the demo appears as text once the snapshot and events arrive.
      // Nodes register one by one (on a loaded machine seconds apart, wall time), so the page is asked for all of them
      // and, if one never shows, the test names the missing ones beside what the page did show.
      const codes = ['CPN.11', 'CPN.15', 'CPN.31', 'CPN.44', 'CPN.51', 'CPN.52', 'CPN.62', 'CPN.64', 'C151'];
      const shown = await browser.page
        .waitForFunction((all) => all.every((c) => document.body.innerText.includes(c)), codes, { timeout: 60_000 })
        .then(() => true)
        .catch(() => false);
      const text = await browser.page.evaluate(() => document.body.innerText);
      if (!shown)
        expect(
          codes.filter((c) => !text.includes(c)),
          text.slice(0, 4000),
        ).toEqual([]);
      // The viewer's token lives an hour of node time (six real minutes at speed 10): the page renews it through the
      // demo before it expires, and again when a reconnection is refused.
      const config = (await (await fetch(new URL('config.json', url))).json()) as { renewal?: string };
      expect(config.renewal).toBe('token');
      // A renewal is a password login at the node: on a loaded machine its hash queue can answer 429 (the page then
      // retries), so the test retries twice too, a second apart (wall time), and shows the last refusal.
      const fresh = async () => {
        let body: { token: string; renewInMs: number } | { error: unknown } = { error: 'not asked' };
        for (let attempt = 0; attempt < 3; attempt++) {
          const r = await fetch(new URL('token', url), { method: 'POST' });
          body = (await r.json()) as typeof body;
          if (r.ok) break;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        return body as unknown as { token: string; renewInMs: number };
      };
      const [a, b] = [await fresh(), await fresh()];
      expect(JSON.stringify(a)).toMatch(/"token":"ey/);
      expect(JSON.stringify(b)).toMatch(/"token":"ey/);
      expect(b.token).not.toBe(a.token);
      expect(a.renewInMs).toBe(180_000);
      await browser.page.screenshot({ path: join(ARTIFACTS, 'demo.png') });
    } finally {
      await browser.close();
    }
    const exited = new Promise<number | null>((r) => demo!.once('exit', (code) => r(code)));
    demo!.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output()).toContain('stopping the demo');
  }, 180_000);
});
