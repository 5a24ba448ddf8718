import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, spawnNode } from '../src/process.ts';

describe('cpnet node start --role national', () => {
  it('writes its trust anchor (the root certificate) into the data folder and prints its path', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'cpnet-national-'));
    const node = await spawnNode(['--role', 'national', '--code', 'CPN', '--data', data], { port: await freePort() });
    try {
      const file = path.join(data, 'trust-anchor.pem');
      for (let i = 0; i < 100 && !node.output().includes('trust anchor'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(node.output()).toContain(
        `trust anchor (national root certificate) for child nodes' --trust-anchor: ${file}`,
      );
      expect(existsSync(file)).toBe(true);
      const info = (await (await fetch(`${node.url}/cpn/v1/node`)).json()) as { certificate: string };
      expect(readFileSync(file, 'utf8')).toBe(info.certificate);
    } finally {
      await node.stop();
    }
  }, 60_000);
});
