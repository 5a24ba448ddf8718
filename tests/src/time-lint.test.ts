import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });

/** The rules that fired on `code` linted as if it were the file `file` of the repository. */
async function rulesOn(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const RAW_TIME = [
  'export const a = Date.now();',
  'export const b = performance.now();',
  'export const c = new Date();',
  'setTimeout(() => undefined, 10);',
  'setInterval(() => undefined, 10);',
  'export const d = AbortSignal.timeout(10);',
].join('\n');

describe('time comes from a Clock (eslint.config.js)', () => {
  it('refuses raw time and timers in the source of the node, the packages, the CLI and the simulator', async () => {
    for (const file of [
      'apps/node/src/x.ts',
      'packages/client/src/x.ts',
      'packages/scheduler/src/x.ts',
      'apps/cli/src/x.ts',
      'simulator/src/runner/x.ts',
    ]) {
      const rules = await rulesOn(file, RAW_TIME);
      expect(
        rules.filter((r) => r === 'no-restricted-properties'),
        file,
      ).toHaveLength(3);
      expect(
        rules.filter((r) => r === 'no-restricted-globals'),
        file,
      ).toHaveLength(2);
      expect(
        rules.filter((r) => r === 'no-restricted-syntax'),
        file,
      ).toHaveLength(1);
    }
  }, 60_000);

  it('allows them in the real clock, the simulator clock, tests, and what orders work without time', async () => {
    for (const file of ['packages/kernel/src/system.ts', 'simulator/src/clock/x.ts', 'apps/node/src/x.test.ts'])
      expect(await rulesOn(file, RAW_TIME), file).toEqual([]);
    expect(
      await rulesOn('apps/node/src/x.ts', 'setImmediate(() => undefined);\nexport const t = new Date(0);'),
    ).toEqual([]);
  }, 60_000);
});
