import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIds, type ConformanceReport } from '@cpnet/cli';
import { offsetClock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { cleanup, startTestNode, type TestNode } from './nodes.ts';
import { freePort } from './process.ts';

// The installable pieces of packaging/ (issue 25), built by its script as a team would, then run from an empty folder
// under /tmp where no node_modules of this checkout can be reached: `cpnet check` as a self-contained package and as
// a Node single-executable application against a real reference node, and the node's offline bundle starting a
// national node. Build times are wall time.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.join(ROOT, 'packaging/build.mjs');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const folders: string[] = [];

interface Built {
  dir: string;
  bundle: string;
  tarball: string;
  sea?: string;
  bytes: Record<string, number>;
  wallMs: number;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking this process (the reference node runs in it) and collects its output. */
function exec(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A new folder under /tmp with no node_modules in it or in any folder above it. */
function emptyFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-pack-'));
  folders.push(dir);
  for (let p = dir; ; p = path.dirname(p)) {
    expect(existsSync(path.join(p, 'node_modules')), `${p}/node_modules must not exist`).toBe(false);
    if (path.dirname(p) === p) break;
  }
  return dir;
}

/** A bare environment: no NODE_PATH or NODE_OPTIONS, HOME and caches inside the empty folder. */
function bareEnv(dir: string, more: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CPNET_CACHE_DIR: path.join(dir, 'cache'), ...more };
}

async function build(target: 'check' | 'node', extra: readonly string[] = []): Promise<Built> {
  const out = mkdtempSync(path.join(tmpdir(), 'cpnet-build-'));
  folders.push(out);
  const r = await exec(process.execPath, [BUILD, target, '--out', out, ...extra], { cwd: ROOT, env: process.env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Built;
}

async function unpack(tarball: string, into: string): Promise<void> {
  const r = await exec('tar', ['-xzf', tarball, '-C', into], { cwd: into, env: process.env });
  expect(r.code, r.stderr).toBe(0);
}

/** `systemd-analyze verify` of the unit pointed at the unpacked bundle (unknown keys and bad values are reported). */
async function verifyUnit(unit: string, dir: string): Promise<void> {
  if (!existsSync('/usr/bin/systemd-analyze')) {
    console.log('packaging.test: no systemd-analyze here; the unit is not verified');
    return;
  }
  const file = path.join(dir, 'verify', 'cpnet-node.service');
  mkdirSync(path.dirname(file));
  writeFileSync(
    file,
    unit
      .replaceAll('/opt/cpnet-node', dir)
      .replace('/usr/bin/node', process.execPath)
      .replace('EnvironmentFile=/', 'EnvironmentFile=-/'),
  );
  const r = await exec('/usr/bin/systemd-analyze', ['verify', file], { cwd: dir, env: process.env });
  expect([r.code, r.stderr.trim()]).toEqual([0, '']);
}

// Some Node builds (a few distributions' packages) lack the SEA fuse; the self-contained package is tested anyway.
const seaPossible = process.platform === 'linux' && readFileSync(process.execPath).includes(SEA_FUSE);
if (!seaPossible) console.log(`packaging.test: ${process.execPath} has no ${SEA_FUSE}: the SEA part is skipped`);

afterAll(() => {
  cleanup();
  for (const d of folders.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('cpnet check installed alone (packaging/build.mjs check)', () => {
  let built: Built;
  let home: string;
  let target: TestNode;
  let skewMs = 0;
  const state = () => path.join(home, 'state');
  const pkg = (...args: string[]) =>
    exec(process.execPath, [path.join(home, 'cpnet-check/cpnet-check.mjs'), ...args], {
      cwd: home,
      env: bareEnv(home),
    });
  const sea = (...args: string[]) => exec(built.sea!, args, { cwd: home, env: bareEnv(home) });

  beforeAll(async () => {
    const started = Date.now();
    built = await build('check', seaPossible ? ['--sea'] : []);
    console.log(
      `packaging.test: check package built in ${built.wallMs} ms (wall; ${Date.now() - started} ms with the process); ` +
        `bundle ${built.bytes.bundle} B, folder ${built.bytes.dir} B, tarball ${built.bytes.tarball} B` +
        (built.sea ? `, single executable ${built.bytes.sea} B` : ''),
    );
    home = emptyFolder();
    await unpack(built.tarball, home);
    const init = await pkg('check', 'init', '--state', state(), '--json');
    expect(init.code, init.stderr).toBe(0);
    const r = JSON.parse(init.stdout) as { trustAnchor: string; parentUrl: string; application: string };
    // The team's node: the reference implementation, started by the test, applying to the checker's virtual root.
    target = await startTestNode({
      role: 'regional',
      code: 'CPN.51',
      parentUrl: r.parentUrl,
      trustAnchor: r.trustAnchor,
      applicationFile: r.application,
      // A cluster silent for 3 s is down (45 s by default): cluster-dark-replaced takes seconds.
      aggregation: { degradedAfterMs: 2000, downAfterMs: 3000 },
      clock: offsetClock(systemClock, () => skewMs),
    });
  }, 120_000);

  afterAll(async () => {
    await target?.stop();
  });

  it('builds within 60 s of wall time, from this checkout alone', () => {
    expect(built.wallMs).toBeLessThan(60_000);
    expect(
      existsSync(path.join(home, 'cpnet-check/node_modules/better-sqlite3/build/Release/better_sqlite3.node')),
    ).toBe(true);
  });

  it('the package passes every MUST of a conforming node (exit 0, JSON report)', async () => {
    const json = path.join(home, 'report.json');
    const r = await pkg(
      'check',
      'run',
      '--state',
      state(),
      '--target',
      target.url,
      '--as',
      'regional',
      '--json',
      json,
      '--wait',
      '60',
      '--quiet',
    );
    const report = JSON.parse(readFileSync(json, 'utf8')) as ConformanceReport;
    expect(
      report.checks.filter((c) => !c.passed).map((c) => c.id),
      r.stdout + r.stderr,
    ).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.checks.map((c) => c.id)).toEqual(checkIds('regional'));
    expect(r.stdout).toContain('CONFORMS');
  }, 120_000);

  it.skipIf(!seaPossible)(
    'the single executable fails a skewed node on its clock (exit 1)',
    async () => {
      skewMs = 20_000;
      try {
        const json = path.join(home, 'report-sea.json');
        // One run only: a skewed target re-runs its own joint debugging against the parent and fails it, which a
        // second run would report too (tests/conformance/check.test.ts makes one skewed run as well).
        const args = ['check', 'run', '--state', state(), '--target', target.url, '--as', 'regional', '--json', json];
        const r = await sea(...args);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stdout).toContain('DOES NOT CONFORM');
        const report = JSON.parse(readFileSync(json, 'utf8')) as ConformanceReport;
        // The checker sees the skew (clock) and nothing else wrong. The target re-runs its own joint debugging against
        // the virtual parent during the run, with its clock skewed and the parent just restarted: that result
        // (reverse-joint-debug) may fail too, on its clock check and, under load, on checks the restart disturbed.
        const failedChecks = report.checks.filter((c) => !c.passed);
        const detail = (id: string) => (failedChecks.find((c) => c.id === id)?.evidence as { detail?: string })?.detail;
        expect(failedChecks.map((c) => c.id).filter((id) => id !== 'reverse-joint-debug')).toEqual(['clock']);
        expect(detail('clock')).toMatch(/^clock skew \d+ ms exceeds/);
        if (failedChecks.length > 1) expect(detail('reverse-joint-debug')).toMatch(/^checks failed: /);
      } finally {
        skewMs = 0;
      }
    },
    180_000,
  );

  it.skipIf(!seaPossible)(
    'the single executable refuses bad usage with one line and exit 2',
    async () => {
      const r = await sea('check', 'run', '--state', state(), '--target', target.url, '--as', 'national');
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe('cpnet: --as must be regional or industry, not "national"');
      const id = await sea('id', 'check', ' cpn.51/nd-1ej');
      expect([id.code, id.stdout.trim()]).toEqual([0, 'CPN.51/ND-1EJ']);
    },
    60_000,
  );
});

describe('the node as an offline bundle (packaging/build.mjs node)', () => {
  it('unpacks into an empty folder and starts a national node from its environment file, then stops', async () => {
    const built = await build('node');
    console.log(
      `packaging.test: node bundle built in ${built.wallMs} ms (wall); tarball ${built.bytes.tarball} B, ` +
        `unpacked ${built.bytes.dir} B`,
    );
    const home = emptyFolder();
    await unpack(built.tarball, home);
    const dir = path.join(home, 'cpnet-node');
    const unit = readFileSync(path.join(dir, 'cpnet-node.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/cpnet-node\/cpnet-node\.mjs node start$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/cpnet\/cpnet-node\.env$/m);
    await verifyUnit(unit, dir);
    for (const f of ['INSTALL.md', 'INSTALL.zh-CN.md'])
      expect(readFileSync(path.join(dir, f), 'utf8')).toContain('cpnet-node');
    // The shipped environment file, as systemd would read it, with the national node's values put in.
    const env: Record<string, string> = {};
    for (const line of readFileSync(path.join(dir, 'cpnet-node.env'), 'utf8').split('\n')) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
      if (m) env[m[1]!] = m[2]!;
    }
    for (const k of ['CPNET_PARENT', 'CPNET_TRUST_ANCHOR', 'CPNET_APPLICATION']) delete env[k];
    const [port, tlsPort] = [await freePort(), await freePort()];
    const passphrase = path.join(home, 'key-passphrase');
    writeFileSync(passphrase, 'a passphrase long enough for the test', { mode: 0o600 });
    Object.assign(env, {
      CPNET_ROLE: 'national',
      CPNET_CODE: 'CPN',
      CPNET_HOST: '127.0.0.1',
      CPNET_PORT: String(port),
      CPNET_PUBLIC_URL: `http://127.0.0.1:${port}`,
      CPNET_TLS_PORT: String(tlsPort),
      CPNET_DATA: path.join(home, 'data'),
      CPNET_PASSPHRASE_FILE: passphrase,
      CPNET_LOG_LEVEL: 'warn',
    });
    const child = spawn(process.execPath, [path.join(dir, 'cpnet-node.mjs'), 'node', 'start'], {
      cwd: home,
      env: bareEnv(home, env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      const end = Date.now() + 30_000;
      let health: unknown = null;
      while (health === null) {
        if (child.exitCode !== null) throw new Error(`the node exited with ${child.exitCode}: ${out}`);
        if (Date.now() > end) throw new Error(`no /healthz within 30 s: ${out}`);
        health = await fetch(`${url}/healthz`)
          .then((r) => (r.ok ? r.json() : null))
          .catch(() => null);
        if (health === null) await new Promise((r) => setTimeout(r, 100));
      }
      expect(health).toMatchObject({ status: 'ok', lifecycle: 'online' });
      const info = (await (await fetch(`${url}/cpn/v1/node`)).json()) as { code: string; tlsEndpoint?: string };
      expect(info).toMatchObject({ code: 'CPN', tlsEndpoint: `https://127.0.0.1:${tlsPort}` });
      expect(out).toContain(`trust anchor (national root certificate)`);
      expect(out).not.toContain('development only');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, out).toBe(0);
  }, 120_000);
});
