// `npx tsx bench/src/cpuprofile-top.ts <file.cpuprofile>… [--top=N]`: the functions with the most self time in V8 CPU
// profiles (`node --cpu-prof`), summed over the files, with each one's share of the sampled time; and the same by
// package (what bench/README.md "Where the time goes" summarises).
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
const files = args.filter((a) => !a.startsWith('--'));
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
let total = 0;

/** Where a script belongs: a workspace package, a dependency, node's own code, or V8 (GC, idle, program). */
function area(url: string, name: string): string {
  if (!url) return `(${name || 'native'})`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  const ws = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (ws) return `@cpnet/${ws[2]}`;
  if (url.includes('/simulator/')) return '@cpnet/simulator';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!);
    if (!n) continue;
    const dt = p.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    total += dt;
    const short = url.replace(/^.*\/(node_modules|packages|apps|simulator)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + dt);
    const a = area(url, functionName);
    byPkg.set(a, (byPkg.get(a) ?? 0) + dt);
  }
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (${(total / 1000).toFixed(0)} ms sampled, idle excluded)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
};
show('self time by function', byFn);
show('self time by package', byPkg);
