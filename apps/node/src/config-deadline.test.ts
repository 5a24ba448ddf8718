import { describe, expect, it } from 'vitest';
import { loadConfig } from './main.ts';
import { ConfigError } from './create-node.ts';

const base = { CPNET_ROLE: 'national', CPNET_CODE: 'CPN', CPNET_DATA: '/tmp/unused' };

describe('CPNET_DEADLINE', () => {
  it('takes an RFC 3339 offset, as the guide writes its dates, and keeps it in UTC', () => {
    const c = loadConfig({ env: { ...base, CPNET_DEADLINE: '2026-03-25T23:59:59+08:00' } });
    expect(c.applicationDeadline).toBe('2026-03-25T15:59:59.000Z');
    expect(loadConfig({ env: { ...base, CPNET_DEADLINE: '2026-03-25T15:59:59.000Z' } }).applicationDeadline).toBe(
      '2026-03-25T15:59:59.000Z',
    );
  });
  it('refuses a time without an offset, naming the field', () => {
    expect(() => loadConfig({ env: { ...base, CPNET_DEADLINE: '2026-03-25 23:59' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { ...base, CPNET_DEADLINE: '2026-03-25 23:59' } })).toThrow(/applicationDeadline/);
  });
});

describe('CPNET_GUIDE', () => {
  it('a guide file that does not fit the schema stops the start, naming the file and the field', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createNode } = await import('./create-node.ts');
    const { defaultDeps } = await import('./deps.ts');
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-guide-'));
    writeFileSync(join(dir, 'g.yaml'), 'id: x\n');
    const config = loadConfig({ env: { ...base, CPNET_DATA: dir, CPNET_GUIDE: join(dir, 'g.yaml') } });
    await expect(createNode(config, defaultDeps({ level: 'silent' }))).rejects.toThrow(
      /^guideFile: .*g\.yaml: (id|title)/,
    );
  });
});
