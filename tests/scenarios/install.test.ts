import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')) as unknown;

type Version = readonly [number, number, number];

/** Whether a node `engines` range (the forms npm packages use: >=, >, ^, ~, N, N.x, *, joined by ||) admits `v`. */
function admits(range: string, v: Version): boolean {
  return range.split('||').some((alternative) => {
    const a = alternative.trim();
    if (a === '*' || a === '') return true;
    const m = /^(>=|>|<=|<|\^|~)?\s*v?(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?$/.exec(a);
    if (!m) throw new Error(`cannot read the engines range "${range}"`);
    const spec = [Number(m[2]), m[3] === undefined || m[3] === 'x' ? 0 : Number(m[3]), Number(m[4] ?? 0) || 0];
    const cmp = v[0] - spec[0]! || v[1] - spec[1]! || v[2] - spec[2]!;
    switch (m[1]) {
      case '>=':
        return cmp >= 0;
      case '>':
        return cmp > 0;
      case '<=':
        return cmp <= 0;
      case '<':
        return cmp < 0;
      case '^':
        return v[0] === spec[0] && cmp >= 0;
      case '~':
        return v[0] === spec[0] && v[1] === spec[1] && cmp >= 0;
      default:
        return v[0] === spec[0] && (m[3] === undefined || m[3] === 'x' || v[1] === spec[1]);
    }
  });
}

describe('npm install', () => {
  it('installs nothing whose engines exclude the oldest Node the project supports (no EBADENGINE warning)', () => {
    const root = read('package.json') as { engines: { node: string } };
    const oldest = /^>=\s*(\d+)\.(\d+)$/.exec(root.engines.node);
    expect(oldest, root.engines.node).not.toBeNull();
    const node: Version = [Number(oldest![1]), Number(oldest![2]), 0];
    const lock = read('package-lock.json') as { packages: Record<string, { engines?: unknown }> };
    const excluding = Object.entries(lock.packages)
      .map(([where, p]) => [where, (p.engines as { node?: string } | undefined)?.node] as const)
      .filter(([, range]) => typeof range === 'string' && !admits(range, node));
    expect(excluding).toEqual([]);
  });
});
