import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const read = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')) as unknown;

describe('npm install', () => {
  it('installs nothing whose engines exclude the oldest Node the project supports (no EBADENGINE warning)', () => {
    const root = read('package.json') as { engines: { node: string } };
    const oldest = /^>=\s*(\d+)\.(\d+)$/.exec(root.engines.node);
    expect(oldest, root.engines.node).not.toBeNull();
    const node = `${oldest![1]}.${oldest![2]}.0`;
    const lock = read('package-lock.json') as { packages: Record<string, { engines?: unknown }> };
    const excluding = Object.entries(lock.packages)
      .map(([where, p]) => [where, (p.engines as { node?: string } | undefined)?.node] as const)
      .filter(([, range]) => typeof range === 'string' && !semver.satisfies(node, range));
    expect(excluding).toEqual([]);
  });
});
