// `npm run bench -- baseline`: checks that the benchmark tables in README.md and README.zh-CN.md are the ones
// bench/baseline.json gives (exit 1 when not). `--write` rewrites them; `--record=identifier,node,…` first copies
// bench/results/<name>.json and its <name>.meta.json (commit, time, machine, load) into bench/baseline.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkBaseline, currentTable, renderTable, replaceTable, type Baseline } from './src/baseline.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const BASELINE = join(HERE, 'baseline.json');
export const READMES = [
  { file: join(HERE, '..', 'README.md'), lang: 'en' as const },
  { file: join(HERE, '..', 'README.zh-CN.md'), lang: 'zh' as const },
];

export function readBaseline(): Baseline {
  return checkBaseline(JSON.parse(readFileSync(BASELINE, 'utf8')));
}

function record(names: string[]): void {
  const base = readBaseline();
  const benches = { ...base.benches };
  for (const name of names) {
    const figures = join(HERE, 'results', `${name}.json`);
    const meta = join(HERE, 'results', `${name}.meta.json`);
    if (!existsSync(figures) || !existsSync(meta))
      throw new Error(
        `bench/results/${name}.json or its .meta.json is missing: run \`npm run bench -- ${name}\` first`,
      );
    benches[name] = {
      ...(JSON.parse(readFileSync(meta, 'utf8')) as Omit<Baseline['benches'][string], 'figures'>),
      figures: JSON.parse(readFileSync(figures, 'utf8')) as Record<string, number>,
    };
  }
  writeFileSync(BASELINE, `${JSON.stringify(checkBaseline({ ...base, benches }), null, 2)}\n`);
}

/** Checks (or with `write`, rewrites) the README tables; returns the files that disagreed. */
export function tables(write: boolean): string[] {
  const base = readBaseline();
  const stale: string[] = [];
  for (const { file, lang } of READMES) {
    const text = readFileSync(file, 'utf8');
    const table = renderTable(base, lang);
    if (currentTable(text) === table) continue;
    stale.push(file);
    if (write) writeFileSync(file, replaceTable(text, table));
  }
  return stale;
}

export function run(argv: readonly string[] = process.argv.slice(2)): void {
  const rec = argv.find((a) => a.startsWith('--record='));
  if (rec) record(rec.slice('--record='.length).split(',').filter(Boolean));
  const write = argv.includes('--write') || rec !== undefined;
  const stale = tables(write);
  if (stale.length === 0) console.log('baseline: README tables agree with bench/baseline.json');
  else if (write) console.log(`baseline: rewrote the table in ${stale.join(', ')}`);
  else {
    console.error(
      `baseline: the table in ${stale.join(', ')} disagrees with bench/baseline.json; run \`npm run bench -- baseline --write\``,
    );
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) run();
