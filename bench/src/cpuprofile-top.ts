// `npx tsx bench/src/cpuprofile-top.ts <file.cpuprofile>… [--top=N]`: the functions with the most self time in V8 CPU
// profiles (`node --cpu-prof`), summed over the files, with each one's share of the sampled time; and the same by
// package (what bench/README.md "Where the time goes" summarises). `--minus=<file>` subtracts another profile's time
// (a run of the same work with fewer jobs) and `--per=<n>` divides the difference by n: with one-job.ts's two
// profiles, one job's milliseconds by function and package. `--from=<s>` leaves out each profile's first s seconds
// (start-up and warm-up: what a steady load costs).
import { readFileSync } from 'node:fs';
import { area } from './profile-area.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
const files = args.filter((a) => !a.startsWith('--'));
const minus = args.find((a) => a.startsWith('--minus='))?.slice(8);
/**
 * `--callers=<name>`: the stacks (`--depth=<n>` frames up, 5 unless told) under which functions of that name spent
 * their self time.
 */
const callersOf = args.find((a) => a.startsWith('--callers='))?.slice(10);
const callerDepth = Number(args.find((a) => a.startsWith('--depth='))?.slice(8) ?? 5);
const byCaller = new Map<string, number>();
/** `--entry=<package>`: that package's time (callees included) by the frame outside it that called into it. */
const entryOf = args.find((a) => a.startsWith('--entry='))?.slice(8);
const byEntry = new Map<string, number>();
const per = Number(args.find((a) => a.startsWith('--per='))?.slice(6) ?? 1);
/** `--from=<seconds>`: samples taken in a profile's first seconds (of its own clock) are left out. */
const fromUs = Number(args.find((a) => a.startsWith('--from='))?.slice(7) ?? 0) * 1e6;
/**
 * `--incl=<name>,<name>…`: the time under each named function (callees included; a sample counts once per name
 * however deep the recursion) — what one piece of work costs in all, e.g. `--incl=buildOnce,askSubtree`.
 */
const inclOf = args
  .find((a) => a.startsWith('--incl='))
  ?.slice(7)
  .split(',');
const byIncl = new Map<string, number>();
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
/** Time with the package anywhere on the stack (its callees included, each package once per sample). */
const byPkgIncl = new Map<string, number>();
let total = 0;

for (const [file, sign] of [...files.map((f) => [f, 1] as const), ...(minus ? [[minus, -1] as const] : [])]) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let at = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < fromUs) continue;
    const n = byId.get(p.samples[i]!);
    if (!n) continue;
    const dt = sign * (p.timeDeltas[i] ?? 0);
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    total += dt;
    const short = url.replace(/^.*\/(node_modules|packages|apps|simulator)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + dt);
    const a = area(url, functionName);
    byPkg.set(a, (byPkg.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.functionName === '(root)') continue;
      seen.add(area(f.url, f.functionName));
    }
    for (const s of seen) byPkgIncl.set(s, (byPkgIncl.get(s) ?? 0) + dt);
    if (inclOf !== undefined) {
      const under = new Set<string>();
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        const fn = byId.get(id)!.callFrame.functionName;
        if (inclOf.includes(fn)) under.add(fn);
      }
      for (const fn of under) byIncl.set(fn, (byIncl.get(fn) ?? 0) + dt);
    }
    if (entryOf !== undefined && seen.has(entryOf)) {
      // The outermost frame of the package on this stack, and the frame that called it.
      let caller: Node['callFrame'] | undefined;
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        const up = parent.get(id);
        if (area(f.url, f.functionName) === entryOf && up !== undefined) {
          const g = byId.get(up)!.callFrame;
          if (area(g.url, g.functionName) !== entryOf) caller = g;
        }
      }
      const k = caller
        ? `${caller.functionName || '(anonymous)'} ${caller.url.split('/').slice(-2).join('/')}:${caller.lineNumber + 1}`
        : '?';
      byEntry.set(k, (byEntry.get(k) ?? 0) + dt);
    }
    if (callersOf !== undefined && functionName === callersOf) {
      const stack: string[] = [];
      for (let id = parent.get(n.id); id !== undefined && stack.length < callerDepth; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        stack.push(`${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`);
      }
      const k = stack.join(' < ');
      byCaller.set(k, (byCaller.get(k) ?? 0) + dt);
    }
  }
}
const show = (title: string, m: Map<string, number>) => {
  if (minus) {
    console.log(`\n${title}, difference over ${per} (${(total / 1000 / per).toFixed(3)} ms each, idle excluded)`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(
        `${(v / 1000 / per).toFixed(3).padStart(7)} ms  ${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`,
      );
    return;
  }
  console.log(`\n${title} (${(total / 1000).toFixed(0)} ms sampled, idle excluded)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
};
show('self time by function', byFn);
show('self time by package', byPkg);
show('time by package, callees included', byPkgIncl);
if (entryOf !== undefined) show(`${entryOf} (callees included) by the caller outside it`, byEntry);
if (callersOf !== undefined) show(`where ${callersOf} was called from`, byCaller);
if (inclOf !== undefined) show('time under each named function (callees included)', byIncl);
