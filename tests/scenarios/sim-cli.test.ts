import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bufferIo, run } from '@cpnet/cli';

async function cpnet(...args: string[]) {
  const io = bufferIo();
  const code = await run(['node', 'cpnet', ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-simcli-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('cpnet sim validate', () => {
  it('exits 2 for a step naming a node the topology lacks, naming file, line and the closest known node', async () => {
    const f = file(
      'unknown-node.yaml',
      'name: unknown\ntopology:\n  regions:\n    - code: "51"\nsteps:\n  - { at: 1s, that: lifecycle, node: CPN.52, is: online }\n',
    );
    const r = await cpnet('sim', 'validate', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${f}:6:32: steps.0.node: node CPN.52 is not in the topology; did you mean CPN.51?`);
  });

  it('reports a YAML error left open at the end of a file on a line of the file', async () => {
    const f = file('open.yaml', 'name: open\ntopology:\n  regions: [{ code: "51" }\n');
    const r = await cpnet('sim', 'validate', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`${f.replace(/[.\\]/g, '\\$&')}:3:12: YAML: `));
  });
});

describe('cpnet sim run', () => {
  it('exits 2 naming file, line and field for a scenario with a typo, and starts nothing', async () => {
    const f = file(
      'typo.yaml',
      'name: typo\ntopology:\n  regions:\n    - code: "51"\nsteps:\n  - at: 0s\n    do: aply\n    node: CPN.51\n',
    );
    const r = await cpnet('sim', 'run', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${f}:7:5: steps.0.do:`);
  });

  it('exits 2 for a flag out of range', async () => {
    const f = file('ok.yaml', 'name: ok\ntopology: {}\n');
    const r = await cpnet('sim', 'run', f, '--speed', '0');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--speed must be a number from 0.1 to 1000');
  });

  it('exits 1 when an expectation fails, and writes the JSON and JUnit reports', async () => {
    const f = file(
      'fails.yaml',
      'name: fails\nspeed: 20\ntopology:\n  regions:\n    - code: "51"\nsteps:\n  - { at: 1s, that: lifecycle, node: ' +
        'CPN.51, is: revoked }\n',
    );
    const report = path.join(dir, 'r.json');
    const junit = path.join(dir, 'r.xml');
    const r = await cpnet('sim', 'run', f, '--quiet', '--report', report, '--junit', junit);
    expect(r.code).toBe(1);
    expect(r.out).toContain('0 passed, 1 failed');
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      scenario: string;
      seed: number;
      passed: boolean;
      expectations: Array<{ name: string; passed: boolean; detail: string }>;
      metrics: Record<string, number>;
    };
    expect(json).toMatchObject({ scenario: 'fails', passed: false, expectations: [{ passed: false }] });
    expect(json.expectations[0]?.detail).toMatch(/expected revoked, found/);
    // Only what was measured: no -1 placeholders (no nothing-lost check ran, no failover happened).
    expect(Object.entries(json.metrics).filter(([, v]) => v < 0)).toEqual([]);
    expect(json.metrics).not.toHaveProperty('acknowledged_lost');
    expect(json.metrics).toMatchObject({ nodes: 2, identifiers_registered: 0 });
    expect(readFileSync(junit, 'utf8')).toContain('failures="1"');
  }, 120_000);
});

describe('cpnet sim up', () => {
  it("starts the scenario's providers: their clusters appear in the market, and Ctrl-C stops everything", async () => {
    const f = file(
      'up.yaml',
      'name: up\ntopology:\n  regions:\n    - code: "51"\n  providers:\n    - node: CPN.51\n      clusters:\n' +
        '        - { cpuCores: 512, memoryGib: 2048 }\n        - { cpuCores: 256, memoryGib: 1024 }\n',
    );
    const bin = fileURLToPath(new URL('../../apps/cli/bin/cpnet.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'sim', 'up', f], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let clusters = -1;
      for (let i = 0; i < 600 && clusters < 2; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const url = out.match(/CPN\.51 +(http:\/\/\S+)/)?.[1];
        if (!url) continue;
        const market = await fetch(`${url}/cpn/v1/market`)
          .then((r) => r.json() as Promise<{ totals: { clusters: number } }>)
          .catch(() => null);
        clusters = market?.totals.clusters ?? -1;
      }
      expect(out).toContain('1 provider(s) with 2 cluster(s)');
      expect(clusters, out).toBe(2);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 180_000);
});
