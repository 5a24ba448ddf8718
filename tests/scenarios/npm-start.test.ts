import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start', () => {
  it('stops the demo when only npm itself gets SIGINT (as a service manager signals the PID it started)', async () => {
    const scenario = path.join(mkdtempSync(path.join(tmpdir(), 'cpnet-npm-start-')), 'tiny.yaml');
    writeFileSync(scenario, 'name: tiny\nspeed: 1\nuntil: 1h\ntopology:\n  regions:\n    - code: "51"\n');
    // Its own process group, so that only npm's PID is signalled below (a terminal's Ctrl-C signals the whole group).
    const npm = spawn('npm', ['start', '--', '--scenario', scenario, '--no-viz'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      await new Promise((r) => setTimeout(r, 100));
      url = out.match(/CPN\.51 +(http:\/\/\S+)/)?.[1];
    }
    try {
      expect(url, out).toBeDefined();
      npm.kill('SIGINT');
      const gone = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 30_000)),
      ]);
      expect(gone, out).toBe(true);
      expect(out).toContain('stopping the demo');
      // The demo's nodes ran in the demo's process: nothing answers once it has ended.
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      if (npm.pid && npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid, 'SIGKILL');
    }
  }, 90_000);
});
