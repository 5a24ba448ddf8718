import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The visualiser's package folder. */
export const VISUALISER_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where `vite build` writes the page. */
export const DIST_DIR = join(VISUALISER_ROOT, 'dist');

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.endsWith('.test.ts')) continue;
    max = Math.max(max, newest(join(path, entry)));
  }
  return max;
}

/** Whether dist/ is missing or older than the page's sources (and the shared packages it bundles). */
export function isBuildStale(root = VISUALISER_ROOT): boolean {
  const built = join(root, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const sources = [
    join(root, 'index.html'),
    join(root, 'vite.config.ts'),
    join(root, 'src', 'app'),
    join(root, 'src', 'state'),
    join(root, '..', '..', 'packages', 'protocol', 'src'),
    join(root, '..', '..', 'packages', 'identifier', 'src'),
  ];
  return Math.max(...sources.map(newest)) > statSync(built).mtimeMs;
}

/** Runs `vite build` in-process when dist/ is missing or stale; returns whether it built. */
export async function ensureBuilt(options: { root?: string; force?: boolean } = {}): Promise<boolean> {
  const root = options.root ?? VISUALISER_ROOT;
  if (!options.force && !isBuildStale(root)) return false;
  const { build } = await import('vite');
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
  return true;
}
