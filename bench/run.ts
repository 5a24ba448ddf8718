// `npm run bench -- <name>`: runs bench/<name>.ts, which prints its table and writes bench/results/<name>.json.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'lib.ts'].includes(f) && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3));
// Arguments starting with `--` are options for the benchmarks (e.g. `baseline --write`), not names.
const names = process.argv.slice(2).filter((a) => !a.startsWith('--') || a === '--help');

if (names.length === 0 || names.includes('--help')) {
  console.log(
    `usage: npm run bench -- <name> [<name> …] [--options]\navailable: ${available.join(', ')}\n` +
      'baseline [--write] [--record=<name>,…]: check / rewrite the README tables from bench/baseline.json',
  );
  process.exit(names.length === 0 ? 2 : 0);
}
for (const name of names) {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) {
    console.error(`bench: no benchmark "${name}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
}
for (const name of names) {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run: () => Promise<unknown> | unknown };
  await mod.run();
}
// Every benchmark closes what it opened; if something is still open a few seconds after the last one finished (a
// timer or socket a benchmark leaked), say what it is and end the process instead of hanging.
const settle = setTimeout(() => {
  const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
  console.error(`bench: still open after the run: ${open.join(', ') || 'nothing named'} — exiting`);
  process.exit(0);
}, 5000);
settle.unref();
