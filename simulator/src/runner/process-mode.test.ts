import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVirtualClock } from '../clock/virtual-clock.ts';
import { parseScenario } from '../scenario/load.ts';
import { Topology } from '../scenario/schema.ts';
import { expandTopology } from '../topology/expand.ts';
import { seededFaker } from '../topology/fake-org.ts';
import { startNetwork, type Network } from './network.ts';
import { runScenario } from './run.ts';
import { summarise } from '../report/report.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-proc-'));
let net: Network | null = null;
afterAll(async () => {
  await net?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

/** Whether an OS process with this id exists (signal 0 probes without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('process mode: one OS process per node, running the real CLI', () => {
  it(
    'survives a SIGKILL of the regional node: restarted on the same port from its database, nothing lost, everything ' +
      'resolves everywhere',
    async () => {
      const plan = expandTopology(Topology.parse({ regions: [{ code: '51', industries: ['C151'] }] }), 1);
      net = await startNetwork(plan, {
        clock: createVirtualClock({ start: Date.now(), speed: 1 }),
        dir,
        autoReview: true,
        faker: seededFaker(1),
        logLevel: 'warn',
        processes: true,
      });
      const nodes = net.nodes;
      const lifecycle = async (code: string) => {
        const r = await nodes.get(code)!.anon().node();
        return r.ok ? r.value.lifecycle : 'down';
      };
      await net.startNode('CPN.51');
      await until(async () => (await lifecycle('CPN.51')) === 'online');
      await net.startNode('CPN.51.C151');
      await until(async () => (await lifecycle('CPN.51.C151')) === 'online');
      const pids = ['CPN', 'CPN.51', 'CPN.51.C151'].map((c) => nodes.get(c)!.pid);
      expect(pids.every((p) => typeof p === 'number' && p !== process.pid)).toBe(true);
      expect(new Set(pids).size).toBe(3);

      // Identifiers registered at the regional and the industry node, signed with keys read from their databases.
      const ids: Array<{ id: string; node: string }> = [];
      for (const code of ['CPN.51', 'CPN.51.C151']) {
        const client = nodes.get(code)!.self();
        for (let i = 0; i < 3; i++) {
          const r = await client.register({
            kind: 'SV',
            values: [{ index: 1, type: 'URL', data: `https://${i}.example.cn` }],
          });
          expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
          if (r.ok) ids.push({ id: r.value.id, node: code });
        }
      }

      const regional = nodes.get('CPN.51')!;
      const { port } = regional;
      const pid = regional.pid!;
      await net.kill('CPN.51');
      expect(regional.running).toBe(false);
      expect(alive(pid)).toBe(false);
      // While it is down, its child keeps accepting writes (buffered upward).
      const during = await nodes
        .get('CPN.51.C151')!
        .self()
        .register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://during.example.cn' }] });
      expect(during.ok).toBe(true);
      if (during.ok) ids.push({ id: during.value.id, node: 'CPN.51.C151' });

      await net.restart('CPN.51');
      expect(regional.running).toBe(true);
      expect(regional.port).toBe(port);
      expect(regional.pid).not.toBe(pid);
      await until(async () => (await lifecycle('CPN.51')) === 'online');

      // Nothing lost: each owner holds every identifier it acknowledged, exactly once.
      for (const code of ['CPN.51', 'CPN.51.C151']) {
        const page = await nodes.get(code)!.anon().list({ prefix: code, limit: 1000 });
        expect(page.ok).toBe(true);
        if (!page.ok) continue;
        const held = page.value.items.map((r) => r.id);
        for (const { id } of ids.filter((x) => x.node === code)) expect(held.filter((h) => h === id)).toHaveLength(1);
      }
      // Everything resolves from every node (copies upward caught up after the restart).
      await until(async () => {
        for (const code of ['CPN', 'CPN.51', 'CPN.51.C151']) {
          for (const { id } of ids) if (!(await nodes.get(code)!.anon().resolve(id)).ok) return false;
        }
        return true;
      });
      expect(readFileSync(path.join(dir, 'CPN_51', 'node.log'), 'utf8')).toContain('listening');

      const all = [...nodes.values()].map((n) => n.pid!);
      await net.close();
      net = null;
      expect(all.filter(alive)).toEqual([]);
    },
    120_000,
  );

  it('runs a shipped-style scenario (a regional node killed and restarted) at speed 1', async () => {
    const file = fileURLToPath(new URL('../../test-fixtures/process-failover.yaml', import.meta.url));
    const r = parseScenario(readFileSync(file, 'utf8'), file);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.value.processes).toBe(true);
    const data = path.join(dir, 'scenario');
    const report = await runScenario(r.value, { dir: data, logLevel: 'warn' });
    expect(report.passed, summarise(report)).toBe(true);
    expect(existsSync(path.join(data, 'CPN_51', 'node.log'))).toBe(true);
  }, 120_000);

  it('refuses another speed and clock-skew faults, naming the reason', async () => {
    const text =
      'name: x\nprocesses: true\nspeed: 10\ntopology: {}\nsteps:\n  - { at: 1s, do: fault, fault: { kind: skew-clock, ' +
      'target: CPN, skew: 1m } }\n';
    const r = parseScenario(text, 'x.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field).sort()).toEqual(['speed', 'steps.0.fault.kind']);
    const ok = parseScenario('name: x\nspeed: 10\ntopology: {}\n', 'x.yaml');
    if (!ok.ok) throw new Error('valid');
    await expect(runScenario(ok.value, { processes: true })).rejects.toThrow(/speed must be 1, not 10/);
  });
});
