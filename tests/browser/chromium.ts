import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts', 'browser');

/** Debian's Chromium on PATH (or $CHROMIUM_PATH), or null when it is not installed. */
export function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || null;
    } catch {
      // not this name
    }
  }
  return null;
}

/** A headless Chromium with a fresh profile; close() removes the profile. */
export async function launch(
  options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; pageErrors: string[]; close(): Promise<void> }> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)');
  const profile = mkdtempSync(join(tmpdir(), 'cpnet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: options.width ?? 1600, height: options.height ?? 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Uncaught exceptions in the page, for a failing wait to say (a view that throws leaves the old picture up).
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    pageErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** `cpnet`'s entry point, as `npm start` runs it. */
const BIN = fileURLToPath(new URL('../../apps/cli/bin/cpnet.js', import.meta.url));

/** A running `cpnet demo`: its page's URL, its output so far, a node's URL from its start lines, and Ctrl-C. */
export interface RunningDemo {
  url: string;
  process: ChildProcess;
  output(): string;
  /** The URL `cpnet demo` printed for a node it started with (`  CPN          http://…`). */
  nodeUrl(code: string): string;
  /** Ctrl-C (SIGINT), then SIGKILL if it has not exited within 15 s (wall). */
  stop(): Promise<void>;
}

/**
 * Starts `cpnet demo --port 0 …args` and resolves once it prints its "Visualiser:" line (cap `capMs` of wall time);
 * rejects with its output if it exits first.
 */
export function startDemo(args: string[], capMs = 60_000): Promise<RunningDemo> {
  let out = '';
  const child = spawn(process.execPath, [BIN, 'demo', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([done, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`no "Visualiser:" line within ${capMs / 1000} s (wall):\n${out}`));
    }, capMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /^Visualiser: (http:\/\/\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          process: child,
          output: () => out,
          nodeUrl: (code) => {
            const line = new RegExp(`^\\s+${code.replaceAll('.', '\\.')}\\s+(http:\\/\\/\\S+)`, 'm').exec(out);
            if (!line) throw new Error(`cpnet demo printed no URL for ${code}:\n${out}`);
            return line[1]!;
          },
          stop,
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cpnet demo exited ${code}:\n${out}`));
    });
  });
}
