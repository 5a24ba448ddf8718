import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Standing checks of the node's structure (issue 15): persistence stays behind the store ports, and no module of
 * the node imports itself back through a chain of others.
 */
const SRC = path.dirname(fileURLToPath(import.meta.url));

/** Every .ts file of the node's own code (the generated Prisma client excluded), relative to src/. */
function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'generated' && entry.name !== 'node_modules') out.push(...sourceFiles(full));
    } else if (entry.name.endsWith('.ts')) out.push(path.relative(SRC, full));
  }
  return out.sort();
}

/** The relative modules a file imports at run time (type-only imports cannot make a cycle at run time, but count). */
function localImports(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^'";]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    const target = path.normalize(path.join(path.dirname(file), m[1]!));
    if (!target.startsWith('generated')) found.push(target);
  }
  return found;
}

/** The import cycles of a module graph (module → what it imports), each as the list of modules it passes through. */
function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const next of graph.get(f) ?? []) {
      if (state.get(next) === 'open') out.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return out;
}

describe('the node’s structure', () => {
  const files = sourceFiles();

  it('touches the database only in the store modules (src/store/)', () => {
    const offenders = files
      .filter((f) => !f.startsWith(`store${path.sep}`))
      .flatMap((f) =>
        readFileSync(path.join(SRC, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${f}:${i + 1}` }))
          .filter(({ line }) => /\.stmt\(|\bprepare\(|\bprisma\./.test(line) && !line.trim().startsWith('//'))
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(files.length).toBeGreaterThan(50);
    const graph = new Map(files.map((f) => [f, localImports(f)]));
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('finds a cycle where there is one (the detector itself)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual(['a.ts → b.ts → c.ts → a.ts']);
  });
});
