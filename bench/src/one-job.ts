// `npx tsx bench/src/one-job.ts [jobs]`: what one job's life costs each node, counted (bench/README.md "One job's work,
// counted"). A 4-node network in this thread (CPN, CPN.31, CPN.51, CPN.51.C151 with one provider's 4 clusters) runs
// at `speed: max` three times: with a quarter of `jobs` (default 40) jobs twice (the first only warms the process up:
// modules loaded, code compiled), then with `jobs`. The jobs are submitted at CPN.31 and bound by residency to
// Sichuan (51), so each goes CPN.31 → CPN (broker) → CPN.51 (broker) → CPN.51.C151 (owner), runs 36 s of virtual
// time, completes, is relayed back and is read by the simulator's checks (a tenant's listing). The runs have the
// same virtual length and the same background (reports, summaries, pings), so the difference of the last two,
// divided by the difference of their job counts, is the work of one job. Counted, per node where the counter can
// tell the node:
//   - SQL statements run (better-sqlite3 `run`/`get`/`all`/`iterate`, Prisma's adapter included) by verb and table,
//     rows written (`changes` of `run`) and transactions (`BEGIN`);
//   - HTTP requests the node answered (its own `cpn_http_requests_total`);
//   - socket.io packets emitted by the node's server (broadcasts and per-socket emits), by namespace, and apart
//     (`socket.io unwatched`) the broadcasts no socket was connected to receive;
// and for the whole process: Ed25519 signatures made and verified (`node:crypto` one-shot `sign`/`verify`) — which
// include the simulator's gateways and tenants — and process CPU time (user + system; nodes, simulator and these
// counters together, so read it before/after, not as a node's cost). zod parses are not counted: zod 4 binds its
// parse functions inside each schema, out of reach of a wrapper; the profiles' share stands for them.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import crypto from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseScenario, runScenario, type Network, type Scenario } from '@cpnet/simulator';
import { printTable } from '../lib.ts';

const require = createRequire(import.meta.url);
const nodeRequire = createRequire(require.resolve('@cpnet/node'));

const jobs = Number(process.argv[2] ?? '40');
if (!Number.isInteger(jobs) || jobs < 8) throw new Error(`jobs must be an integer ≥ 8, got ${process.argv[2]}`);

// ── counters ────────────────────────────────────────────────────────────────────────────────────────────────────────

type Counts = Map<string, number>;
let counts: Counts = new Map();
const add = (key: string, n = 1): void => {
  counts.set(key, (counts.get(key) ?? 0) + n);
};
/** The node a database file or a server port belongs to (filled once the network is up). */
const nodeOfDir: [string, string][] = [];
const nodeOfPort = new Map<number, string>();
const nodeOfDb = (name: string): string => nodeOfDir.find(([dir]) => name.startsWith(`${dir}/`))?.[1] ?? 'other';

/** `INSERT INTO "Job"` → `insert Job`; `SELECT … FROM "JobHistory"` → `select JobHistory`. */
function shape(sql: string): string {
  const s = sql.trim();
  const verb = (/^\w+/.exec(s)?.[0] ?? '?').toLowerCase();
  const table =
    /^(?:insert(?:\s+or\s+\w+)?\s+into|update|delete\s+from)\s+"?(\w+)"?/i.exec(s)?.[1] ??
    /\bfrom\s+"?(\w+)"?/i.exec(s)?.[1] ??
    '';
  return `${verb} ${table}`.trim();
}

const Database = nodeRequire('better-sqlite3') as new (f: string) => {
  prepare(s: string): object;
  close(): void;
};
const probe = new Database(':memory:');
const Statement = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
probe.close();
for (const method of ['run', 'get', 'all', 'iterate'] as const) {
  const original = Statement[method] as (...a: unknown[]) => unknown;
  Statement[method] = function (this: { source: string; database: { name: string } }, ...a: unknown[]) {
    const out = original.apply(this, a);
    const node = nodeOfDb(this.database.name);
    const what = shape(this.source);
    add(`${node}\tsql\t${what}`);
    if (what.startsWith('begin')) add(`${node}\ttransactions`);
    if (method === 'run') add(`${node}\trows written\t${what}`, (out as { changes: number }).changes);
    return out;
  };
}
const DatabaseProto = Database.prototype as unknown as Record<string, unknown>;
const exec = DatabaseProto.exec as (s: string) => unknown;
DatabaseProto.exec = function (this: { name: string }, s: string) {
  if (/^\s*begin/i.test(s)) add(`${nodeOfDb(this.name)}\ttransactions`);
  return exec.call(this, s);
};
const transaction = DatabaseProto.transaction as (fn: unknown) => unknown;
DatabaseProto.transaction = function (this: { name: string }, fn: (...a: unknown[]) => unknown) {
  const name = this.name;
  const tx = transaction.call(this, fn) as ((...a: unknown[]) => unknown) & Record<string, unknown>;
  const counted = ((...a: unknown[]) => {
    add(`${nodeOfDb(name)}\ttransactions`);
    return tx(...a);
  }) as typeof tx;
  for (const k of ['deferred', 'immediate', 'exclusive'])
    counted[k] = (...a: unknown[]) => {
      add(`${nodeOfDb(name)}\ttransactions`);
      return (tx[k] as (...b: unknown[]) => unknown)(...a);
    };
  return counted;
};

const ioRequire = createRequire(nodeRequire.resolve('socket.io'));
type Nsp = { name: string; server: { httpServer?: { address(): { port: number } | string | null } } };
const portOf = (nsp: Nsp): string => {
  const a = nsp.server.httpServer?.address();
  return (a && typeof a === 'object' && nodeOfPort.get(a.port)) || 'other';
};
const Broadcast = (ioRequire('./broadcast-operator.js') as { BroadcastOperator: { prototype: object } })
  .BroadcastOperator.prototype as Record<string, unknown>;
const broadcast = Broadcast.emit as (...a: unknown[]) => unknown;
Broadcast.emit = function (
  this: { adapter: { nsp: Nsp; sockets(rooms: Set<string>): Promise<Set<string>> }; rooms: Set<string> },
  ev: string,
  ...a: unknown[]
) {
  const node = portOf(this.adapter.nsp);
  add(`${node}\tsocket.io\tbroadcast ${this.adapter.nsp.name} ${ev}`);
  const receivers = (this.adapter as unknown as { nsp: { sockets: Map<string, unknown> } }).nsp.sockets.size;
  if (receivers === 0) add(`${node}\tsocket.io unwatched\tbroadcast with no socket connected ${this.adapter.nsp.name}`);
  return broadcast.call(this, ev, ...a);
};
const SocketProto = (ioRequire('./socket.js') as { Socket: { prototype: object } }).Socket.prototype as Record<
  string,
  unknown
>;
const socketEmit = SocketProto.emit as (...a: unknown[]) => unknown;
SocketProto.emit = function (this: { nsp: Nsp }, ev: string, ...a: unknown[]) {
  add(`${portOf(this.nsp)}\tsocket.io\temit ${this.nsp.name} ${ev}`);
  return socketEmit.call(this, ev, ...a);
};

const cryptoSign = crypto.sign;
const cryptoVerify = crypto.verify;
(crypto as { sign: unknown }).sign = (...a: Parameters<typeof crypto.sign>) => {
  if (a[0] === null) add('process\tsignatures\tEd25519 sign');
  return cryptoSign(...a);
};
(crypto as { verify: unknown }).verify = (...a: Parameters<typeof crypto.verify>) => {
  if (a[0] === null) add('process\tsignatures\tEd25519 verify');
  return cryptoVerify(...a);
};
syncBuiltinESMExports();

// ── the scenario ────────────────────────────────────────────────────────────────────────────────────────────────────

const yaml = (n: number): string => `
name: one-job
description: One job's life across two subtrees, counted.
seed: 26
speed: max
threads: 0
topology:
  reportEvery: 30s
  regions:
    - { code: "31" }
    - { code: "51", industries: [C151] }
  providers:
    - name: sichuan-compute
      node: CPN.51.C151
      clusters:
        - { cpuCores: 1024, memoryGib: 4096, province: "51" }
        - { cpuCores: 1024, memoryGib: 4096, province: "51" }
        - { cpuCores: 1024, memoryGib: 4096, province: "51" }
        - { cpuCores: 1024, memoryGib: 4096, province: "51" }
workload:
  jobs:
    - name: cross
      submitTo: CPN.31
      tenant: east-ai
      count: ${n}
      start: 2m
      arrival: { kind: uniform, every: ${Math.floor(120_000 / n)}ms }
      template:
        demand: { cpuCores: 4, memoryGib: 16 }
        durationHours: 0.01
        constraints: { residency: { provinces: ["51"] } }
steps:
  - { at: 1m, that: market, node: CPN, clusters: 4, within: 5m, name: "the national market lists the clusters" }
  - { at: 5m, that: jobs, state: final, min: ${n}, within: 10m, name: "every job ran to one final state" }
  - { at: 5m1s, that: nothing-lost }
`;

async function run(n: number): Promise<{ counts: Counts; submitted: number; passed: boolean }> {
  const parsed = parseScenario(yaml(n), 'one-job.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  let net: Network | null = null;
  let cpu = process.cpuUsage();
  const metrics = new Map<string, string>();
  // The newest exposition of each node: its counters only grow, so the last one read is the total.
  const poll = setInterval(() => {
    for (const [code, sim] of net?.nodes ?? [])
      void fetch(`${sim.url}/metrics`)
        .then((r) => r.text())
        .then(
          (t) => metrics.set(code, t),
          () => undefined,
        );
  }, 300);
  const report = await runScenario(parsed.value as Scenario, {
    logLevel: 'error',
    onStarted: (started) => {
      net = started;
      counts = new Map();
      nodeOfDir.length = 0;
      nodeOfPort.clear();
      cpu = process.cpuUsage();
    },
    onProgress: () => {
      for (const [code, sim] of net?.nodes ?? []) {
        if (!nodeOfDir.some(([, c]) => c === code)) nodeOfDir.push([sim.spec.dataDir, code]);
        nodeOfPort.set(sim.port, code);
      }
    },
  }).finally(() => clearInterval(poll));
  const used = process.cpuUsage(cpu);
  add('process\tCPU ms (nodes, simulator and this script)', (used.user + used.system) / 1000);
  for (const [code, text] of metrics)
    for (const line of text.split('\n')) {
      const m = /^cpn_http_requests_total\{(.*)\} (\d+)/.exec(line);
      if (!m) continue;
      const method = /method="(\w+)"/.exec(m[1]!)?.[1] ?? '';
      const route = /route="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
      if (route === '/metrics') continue; // this script's own polling
      add(`${code}\thttp\t${method} ${route}`, Number(m[2]));
    }
  return { counts, submitted: report.metrics['jobs_submitted'] ?? 0, passed: report.passed };
}

/**
 * `CPNET_BENCH_PROF=<dir>`: each counted run is sampled by V8's profiler (this thread: nodes and simulator), written to
 * `<dir>/small.cpuprofile` and `<dir>/large.cpuprofile`; `cpuprofile-top.ts <dir>/large.cpuprofile
 * --minus=<dir>/small.cpuprofile --per=<jobs between them>` prints one job's time by function and package.
 */
const profDir = process.env.CPNET_BENCH_PROF;
const session = profDir ? new Session() : null;
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!session || !profDir) return work();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(profDir, { recursive: true });
    writeFileSync(`${profDir}/${name}.cpuprofile`, JSON.stringify(profile));
  }
}
session?.connect();

// A first run warms the process (modules loaded, code compiled), so the two counted runs' CPU compares like with like.
await run(Math.round(jobs / 4));
const small = await profiled('small', () => run(Math.round(jobs / 4)));
const large = await profiled('large', () => run(jobs));
session?.disconnect();
const per = large.submitted - small.submitted;
console.log(
  `runs: ${small.submitted} and ${large.submitted} jobs submitted (passed: ${small.passed}, ${large.passed}); ` +
    `per job = difference / ${per}`,
);
const keys = [...new Set([...small.counts.keys(), ...large.counts.keys()])].sort();
const rows: Record<string, string>[] = [];
for (const k of keys) {
  const d = ((large.counts.get(k) ?? 0) - (small.counts.get(k) ?? 0)) / per;
  if (Math.abs(d) < 0.05) continue;
  const [node, kind, what = ''] = k.split('\t');
  rows.push({ node: node!, counter: kind!, what, 'per job': d.toFixed(2) });
}
printTable('One job, counted (difference of the two runs per job)', rows);
const sum = (kind: string, node?: string) =>
  keys
    .filter((k) => k.split('\t')[1] === kind && (!node || k.startsWith(`${node}\t`)))
    .reduce((s, k) => s + (large.counts.get(k) ?? 0) - (small.counts.get(k) ?? 0), 0) / per;
const nodes = [...new Set(keys.map((k) => k.split('\t')[0]!))].filter((n) => n !== 'process');
printTable(
  'Per node, per job',
  nodes.map((n) => ({
    node: n,
    'SQL statements': sum('sql', n).toFixed(1),
    'rows written': sum('rows written', n).toFixed(1),
    transactions: sum('transactions', n).toFixed(1),
    'HTTP requests answered': sum('http', n).toFixed(1),
    'socket.io packets': sum('socket.io', n).toFixed(1),
  })),
);
const delta = (key: string): number => ((large.counts.get(key) ?? 0) - (small.counts.get(key) ?? 0)) / per;
console.log(
  `Ed25519 (whole process, the simulator's gateways and tenants included): ` +
    `${delta('process\tsignatures\tEd25519 sign').toFixed(1)} signatures made, ` +
    `${delta('process\tsignatures\tEd25519 verify').toFixed(1)} verified; ` +
    `CPU ${delta('process\tCPU ms (nodes, simulator and this script)').toFixed(2)} ms per job`,
);
