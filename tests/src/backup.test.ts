import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, startTestNode, tempDir, type TestNode } from './nodes.ts';
import { gateway, registerClusters, registerProvider, reportEntry } from './providers.ts';

const CPNET = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../apps/cli/bin/cpnet.js');
const run = promisify(execFile);
const nodes: TestNode[] = [];

async function cpnet(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [CPNET, ...args]);
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

afterAll(async () => {
  for (const n of nodes) await n.stop();
  cleanup();
});

describe('cpnet node backup / restore', () => {
  it('backs up a running node, restores into a new folder, and the restored node serves the same state', async () => {
    // The key's passphrase is not in the database: a restored node needs the same one (here a passphrase file).
    const passphraseFile = path.join(tempDir(), 'passphrase');
    writeFileSync(passphraseFile, 'backup-test-passphrase-0123456789', { mode: 0o600 });
    const live = await startTestNode({ role: 'national', code: 'CPN', passphraseFile });
    nodes.push(live);
    const p = await registerProvider(live.url, 700);
    const clusters = await registerClusters(p, 3);
    const g = gateway(live.url, 'CPN', p);
    await g.connect();
    expect((await g.report(clusters.map((c) => reportEntry(c, 123)))).ok).toBe(true);
    g.close();

    const file = path.join(tempDir(), 'cpn.db');
    const backup = await cpnet('node', 'backup', '--data', live.dir, '--out', file);
    expect(backup.code, backup.err).toBe(0);
    expect(backup.out).toMatch(/backed up \d+ pages/);
    expect((await cpnet('node', 'backup', '--data', live.dir, '--out', file)).code).toBe(2); // never overwrites

    const target = tempDir();
    const restore = await cpnet('node', 'restore', '--from', file, '--data', target);
    expect(restore.code, restore.err).toBe(0);
    expect((await cpnet('node', 'restore', '--from', file, '--data', target)).code).toBe(2); // exists: needs --force
    expect((await cpnet('node', 'restore', '--from', file, '--data', target, '--force')).code).toBe(0);
    expect((await cpnet('node', 'restore', '--from', CPNET, '--data', tempDir())).code).toBe(2); // not a database

    const restored = await startTestNode({ role: 'national', code: 'CPN', dataDir: target, passphraseFile });
    nodes.push(restored);
    const list = await restored.anon.request<{
      items: { id: string; reports: number; lastReport: { k2: { cpuCores: number } } }[];
    }>({ method: 'GET', path: '/cpn/v1/clusters' });
    expect(list.ok && list.value.items.map((c) => c.id).sort()).toEqual([...clusters].sort());
    expect(list.ok && list.value.items.every((c) => c.reports === 1 && c.lastReport.k2.cpuCores === 123)).toBe(true);
    const resolved = await restored.anon.resolve(clusters[0]!);
    expect(resolved.ok && resolved.value.record.id).toBe(clusters[0]);
    // The restored node has the same identity and keeps serving writes and gateways.
    expect(
      (await restored.anon.node()).ok &&
        ((await restored.anon.node()) as { value: { publicKey: string } }).value.publicKey,
    ).toBe(((await live.anon.node()) as { value: { publicKey: string } }).value.publicKey);
    const g2 = gateway(restored.url, 'CPN', p);
    const session = await g2.connect();
    expect(session.lastReportSeq).toBe(0);
    expect((await g2.report(clusters.map((c) => reportEntry(c)))).ok).toBe(true);
    g2.close();
  }, 60_000);
});
