import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseIdentifier } from '@cpnet/identifier';
import { bufferIo, run } from './index.ts';

async function cpnet(...args: string[]) {
  const io = bufferIo();
  const code = await run(['node', 'cpnet', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
}

describe('cpnet id check', () => {
  it('prints the canonical form and exits 0', async () => {
    expect(await cpnet('id', 'check', ' cpn.51/nd-1ej\t')).toEqual({ code: 0, out: 'CPN.51/ND-1EJ', err: '' });
  });

  it('exits 2 with one line naming the segment and the expected check pair', async () => {
    const r = await cpnet('id', 'check', 'CPN.51/ND-1EK');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('check:');
    expect(r.err).toContain('"EJ"');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cpnet('id', 'check')).code).toBe(2);
    expect((await cpnet('nonsense')).code).toBe(2);
  });
});

describe('cpnet --help', () => {
  it('describes every command by all of its subcommands (sim: validate, run, up, schema; node: start, backup, restore)', async () => {
    const r = await cpnet('--help');
    expect(r.code).toBe(0);
    const line = (name: string) => r.out.replace(/\n\s{6,}/g, ' ').match(new RegExp(`^  ${name} .*$`, 'm'))?.[0] ?? '';
    expect(line('sim')).toMatch(/validate.*run.*up.*schema/);
    expect(line('node')).toMatch(/run.*back up.*restore/);
  });
});

describe('cpnet id parse', () => {
  it('prints JSON with names from the code tables', async () => {
    const r = await cpnet('id', 'parse', 'CPN.51.C151/CL-01JQ4ZK8M3XX1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      id: 'CPN.51.C151/CL-01JQ4ZK8M3XX1',
      prefix: 'CPN.51.C151',
      region: { code: '51', name: '四川省' },
      industry: { code: 'C151', name: '酒的制造' },
      kind: 'CL',
      serial: '01JQ4ZK8M3X',
      check: 'X1',
    });
  });

  it('gives null region and industry for national identifiers, and a null name for an unknown 中类', async () => {
    expect(JSON.parse((await cpnet('id', 'parse', 'CPN/ND-16Q', '--json')).out)).toMatchObject({
      region: null,
      industry: null,
    });
    const made = await cpnet('id', 'make', '--prefix', 'CPN.51.C159', '--kind', 'SV', '--serial', '1');
    expect(JSON.parse((await cpnet('id', 'parse', made.out, '--json')).out).industry).toEqual({
      code: 'C159',
      name: null,
    });
  });
});

describe('cpnet id make', () => {
  it('makes a valid identifier with a generated 12-character serial', async () => {
    const r = await cpnet('id', 'make', '--prefix', 'cpn.51.c151', '--kind', 'cl');
    expect(r.code).toBe(0);
    const p = parseIdentifier(r.out);
    expect(p.ok && p.value.serial).toHaveLength(12);
  });

  it('uses a given serial', async () => {
    expect((await cpnet('id', 'make', '--prefix', 'CPN.51', '--kind', 'ND', '--serial', '1')).out).toBe(
      'CPN.51/ND-1EJ',
    );
  });

  it.each([
    [['--prefix', 'CPN.99', '--kind', 'ND'], 'region'],
    [['--prefix', 'CPN.51', '--kind', 'XX'], '--kind'],
    [['--prefix', 'CPN.51', '--kind', 'ND', '--serial', 'OOPS'], 'serial'],
  ])('refuses %j with exit 2', async (args, word) => {
    const r = await cpnet('id', 'make', ...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(word);
  });
});

describe('the binary', () => {
  it('runs from the repository root with --help and exit codes', async () => {
    const bin = fileURLToPath(new URL('../bin/cpnet.js', import.meta.url));
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, 'id', 'check', 'CPN.51/ND-1EK'], (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      });
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected "EJ"');
    expect(result.stderr).not.toContain('    at ');
  });
});
