// `npx tsx bench/src/ab-reports.ts <tree-a> <tree-b> [rounds] [reports-per-gateway] [in-flight]`: the CPU a node
// spends per gateway report entry (bench/README.md, "Cluster report ingestion"), in two source trees side by side.
// Each tree's national node runs in a process of its own (`node-aggregation.ts` in serve mode, from that tree); this
// process registers 10 providers of 100 clusters at each and sends, in alternating rounds (A B A B …), the same fixed
// number of 100-entry reports per gateway (4 in flight each unless told). The figure is the node process's CPU time
// (/proc/<pid>/stat, utime + stime, wall-clock CPU) over the entries it acknowledged, so load from elsewhere changes
// how long a round takes, not much what it costs.
// `CPNET_AB_SAME=1`: every report repeats the same entry objects (a quiet network, nothing changed): to a node that
// advertises `report-unchanged` they go as identifiers in `ext.unchanged`, to one that does not, in full.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { entry, provider } from './node-aggregation.ts';

const [a, b, roundsArg, perArg, inFlightArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: ab-reports.ts <tree-a> <tree-b> [rounds] [reports-per-gateway] [in-flight]');
const rounds = Number(roundsArg ?? 6);
const perGateway = Number(perArg ?? 40);
// Reports each gateway keeps in flight: with more than one, the node's group commit finds a gateway's reports queued
// together (as under load), with one it never does.
const IN_FLIGHT = Number(inFlightArg ?? 4);
const SAME = process.env['CPNET_AB_SAME'] === '1';
const quiet = new Map<string, ReturnType<typeof entry>>();
/** A cluster's entry for a round: its figures moved by `n`, or (CPNET_AB_SAME) the same object every time. */
function entryOf(cluster: string, n: number): ReturnType<typeof entry> {
  if (!SAME) return entry(cluster, n);
  let e = quiet.get(cluster);
  if (!e) quiet.set(cluster, (e = entry(cluster, 100)));
  return e;
}

/** utime + stime of a process, in ms (USER_HZ 100). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

interface Side {
  readonly tree: string;
  readonly child: ChildProcess;
  readonly providers: Awaited<ReturnType<typeof provider>>[];
  readonly dir: string;
  cpuMs: number;
  entries: number;
  wallMs: number;
}

async function side(tree: string): Promise<Side> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-ab-reports-'));
  const root = path.resolve(tree);
  // CPNET_BENCH_PROF=<dir>: each node writes a CPU profile there (`--cpu-prof`) when it ends.
  const prof = process.env.CPNET_BENCH_PROF;
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(
    process.execPath,
    [...flags, '--import', 'tsx', path.join(root, 'bench/src/node-aggregation.ts')],
    {
      cwd: root,
      env: { ...process.env, CPNET_BENCH_AGG_SERVE: dir },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const { url } = JSON.parse(line.toString()) as { url: string };
  const providers = await Promise.all(
    Array.from({ length: 10 }, (_, i) => provider(url, { node: 'CPN', n: i, clusters: 100 })),
  );
  return { tree, child, providers, dir, cpuMs: 0, entries: 0, wallMs: 0 };
}

/** Sends `perGateway` reports from each gateway; adds the node's CPU and the entries acknowledged to `s`. */
async function round(s: Side, counted: boolean, start: number): Promise<void> {
  const pid = s.child.pid!;
  const cpu0 = processCpuMs(pid);
  const t0 = performance.now();
  let acked = 0;
  await Promise.all(
    s.providers.flatMap((p) =>
      Array.from({ length: IN_FLIGHT }, async (_, k) => {
        for (let i = k; i < perGateway; i += IN_FLIGHT) {
          const ack = await p.gateway.report(p.clusters.map((c) => entryOf(c, 100 + ((start + i) % 300))));
          if (!ack.ok) throw new Error(JSON.stringify(ack));
          acked += ack.accepted ?? 0;
        }
      }),
    ),
  );
  // Let the node finish what the last acknowledgements left (events, the view) before reading its CPU.
  await new Promise((r) => setTimeout(r, 200));
  if (!counted) return;
  s.cpuMs += processCpuMs(pid) - cpu0;
  s.entries += acked;
  s.wallMs += performance.now() - t0;
}

const sides = [await side(a), await side(b)];
try {
  for (const s of sides) await round(s, false, 0); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const s of order) await round(s, true, (r + 1) * perGateway);
  }
  for (const s of sides)
    console.log(
      `${s.tree}: ${((s.cpuMs * 1000) / s.entries).toFixed(1)} µs node CPU per entry, ` +
        `${((s.entries / s.wallMs) * 1000).toFixed(0)} entries/s, ${s.entries} entries in ${rounds} rounds`,
    );
  const [x, y] = sides as [Side, Side];
  console.log(`ratio b/a (CPU per entry): ${(y.cpuMs / y.entries / (x.cpuMs / x.entries)).toFixed(3)}`);
} finally {
  for (const s of sides) {
    for (const p of s.providers) p.gateway.close();
    s.child.stdin!.end();
    await once(s.child, 'exit');
    rmSync(s.dir, { recursive: true, force: true });
  }
}
