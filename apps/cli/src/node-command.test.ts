import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferIo } from './io.ts';
import { run } from './program.ts';

const argv = (...args: string[]) => ['node', 'cpnet', 'node', 'start', ...args];
const data = () => mkdtempSync(path.join(tmpdir(), 'cpnet-cli-'));

describe('cpnet node start', () => {
  it('refuses a bad configuration value with the reason (exit 2)', async () => {
    const io = bufferIo();
    expect(await run(argv('--role', 'regional', '--code', 'CPN.51', '--data', data()), io)).toBe(2);
    expect(io.stderr.join('')).toContain('parentUrl');
    const io2 = bufferIo();
    expect(await run(argv('--role', 'national', '--code', 'CPN.51', '--data', data()), io2)).toBe(2);
    expect(io2.stderr.join('')).toContain('code: CPN.51 is a regional prefix');
  });

  it('exits 3 when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const io = bufferIo();
    const code = await run(
      argv('--role', 'national', '--code', 'CPN', '--port', String(port), '--data', data(), '--log-level', 'silent'),
      io,
    );
    blocker.close();
    expect(code).toBe(3);
    expect(io.stderr.join('')).toContain('in use');
  });
});
