// `npx tsx bench/src/heapprofile-top.ts <file.heapprofile>… [--top=N] [--stacks=N] [--per=n]`: where allocations
// come from, in sampling heap profiles (`CPNET_THREAD_ALLOC_PROFILE=<dir>` in a simulator run, which samples freed
// objects too): bytes allocated by function (self) and by package, summed over the files, each with its share; then
// the N heaviest allocation sites with four frames of the stack above them. `--per=n` divides the bytes by n (jobs);
// `--entry=<package>` adds that package's bytes by the caller outside it (`--entry=zod`: which schemas' parsing).
import { readFileSync } from 'node:fs';
import { area } from './profile-area.ts';

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  callFrame: Frame;
  selfSize: number;
  children: ProfileNode[];
}

// Piped into `head`: a closed pipe ends the listing, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
const stacks = Number(args.find((a) => a.startsWith('--stacks='))?.slice(9) ?? 15);
const per = Number(args.find((a) => a.startsWith('--per='))?.slice(6) ?? 1);
/** `--entry=<package>`: that package's bytes by the frame outside it that called into it. */
const entryOf = args.find((a) => a.startsWith('--entry='))?.slice(8);
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  console.error('usage: heapprofile-top.ts <file.heapprofile>… [--top=N] [--stacks=N] [--per=n]');
  process.exit(2);
}

/** Where a frame's script belongs. */
const areaOf = (f: Frame): string => area(f.url, f.functionName);

/** A frame's name: function, file and position (tsx output keeps a file on few lines, so the column too). */
const name = (f: Frame): string => {
  const short = f.url.replace(/^.*\/(node_modules|packages|apps|simulator)\//, '$1/');
  return `${f.functionName || '(anonymous)'}${short ? ` ${short}:${f.lineNumber + 1}:${f.columnNumber + 1}` : ''}`;
};

const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
const byStack = new Map<string, number>();
const byEntry = new Map<string, number>();
let total = 0;

function walk(node: ProfileNode, path: Frame[]): void {
  const here = [...path, node.callFrame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    const fn = name(node.callFrame);
    byFn.set(fn, (byFn.get(fn) ?? 0) + node.selfSize);
    const pkg = areaOf(node.callFrame);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + node.selfSize);
    const stack = here
      .slice(-5)
      .reverse()
      .map((f) => name(f))
      .join('\n      < ');
    byStack.set(stack, (byStack.get(stack) ?? 0) + node.selfSize);
    if (entryOf !== undefined && pkg === entryOf) {
      // The innermost frame outside the package, above the package's outermost frame on this stack.
      let i = here.length - 1;
      // Builtins (Map, next, …) among the package's frames are skipped too.
      while (i >= 0 && (areaOf(here[i]!) === entryOf || !here[i]!.url)) i--;
      const caller = i >= 0 ? name(here[i]!) : '(root)';
      byEntry.set(caller, (byEntry.get(caller) ?? 0) + node.selfSize);
    }
  }
  for (const c of node.children) walk(c, here);
}

for (const file of files) walk((JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode }).head, []);

const mib = (b: number) => (b / per / (per === 1 ? 1024 * 1024 : 1024)).toFixed(per === 1 ? 1 : 2);
const unit = per === 1 ? 'MiB' : `KiB per ${per === 1 ? '' : 'one of'} ${per}`;
const print = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title} (${mib(total)} ${unit} sampled)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${mib(v).padStart(8)}  ${k}`);
};
print('bytes allocated by function (self)', byFn, top);
print('bytes allocated by package (self)', byPkg, top);
print('heaviest allocation sites, with the frames above them', byStack, stacks);
if (entryOf !== undefined) print(`${entryOf}'s bytes by the caller outside it`, byEntry, top);
