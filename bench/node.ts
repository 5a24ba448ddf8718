// `npx tsx bench/node.ts`: node server figures, measured side by side in one run (see bench/README or the issue).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import express from 'express';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient } from '@cpnet/client';
import { formatIdentifier } from '@cpnet/identifier';
import { createNode, type CpnNode, type NodeConfigInput } from '@cpnet/node';
import { cryptoRandomBytes } from '@cpnet/security';
import { printTable, writeFigures, type Figures } from './lib.ts';
import { startTestPostgres } from '@cpnet/node/testing/postgres';
import { aggregationFigures, reportsPerSecond } from './src/node-aggregation.ts';
import { schedulingFigures } from './src/node-scheduling.ts';
import { signVerify } from './security.ts';
import { threeHops } from './src/node-3hop.ts';
import { registerElsewhere } from './src/node-register.ts';

const deps = () => ({
  clock: systemClock,
  logger: pino({ level: 'silent' }),
  randomBytes: cryptoRandomBytes,
});
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'cpnet-bench-'));
  dirs.push(d);
  return d;
};

async function start(config: Omit<NodeConfigInput, 'dataDir' | 'port'>): Promise<{ node: CpnNode; url: string }> {
  const node = await createNode(
    { port: 0, retry: { initialMs: 50, maxMs: 400 }, pollMs: 50, ...config, dataDir: tmp() },
    deps(),
  );
  return { node, url: await node.listen() };
}

/** GETs `url` over a keep-alive agent (what a resolver in production holds), reading the whole body. */
function getter(url: string): () => Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const u = new URL(url);
  return () =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: u.hostname, port: u.port, path: u.pathname, agent }, (r) => {
          if (r.statusCode !== 200) reject(new Error(`${url}: HTTP ${r.statusCode}`));
          r.resume();
          r.on('end', resolve);
        })
        .on('error', reject);
    });
}

/**
 * Rates of two request functions measured in alternating short rounds, so that load from elsewhere on a shared
 * machine falls on both alike; each rate is total requests over total time.
 */
async function sideBySide(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  opts: { rounds?: number; ms?: number } = {},
): Promise<[number, number]> {
  const { rounds = 8, ms = 500 } = opts;
  const n = [0, 0];
  const t = [0, 0];
  for (let i = 0; i < rounds; i++) {
    for (const [k, fn] of [
      [0, a],
      [1, b],
    ] as const) {
      const start = performance.now();
      n[k]! += await count(fn, ms);
      t[k]! += performance.now() - start;
    }
  }
  return [n[0]! / (t[0]! / 1000), n[1]! / (t[1]! / 1000)];
}

async function count(fn: () => Promise<unknown>, ms: number, concurrency = 16): Promise<number> {
  let c = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        c++;
      }
    }),
  );
  return c;
}

async function throughput(fn: () => Promise<unknown>, ms = 2000, concurrency = 16): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        count++;
      }
    }),
  );
  return count / (ms / 1000);
}

async function resolveVsExpress(f: Figures, database?: string): Promise<void> {
  const { node, url } = await start({ role: 'national', code: 'CPN', ...(database ? { database } : {}) });
  const self = createClient({
    baseUrl: url,
    signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey },
  });
  const made = await self.register({
    kind: 'SV',
    values: [{ index: 1, type: 'URL', data: 'https://example.cn', ttl: 3600 }],
  });
  if (!made.ok) throw new Error(made.error.message);
  const target = `${url}/cpn/v1/identifiers/${made.value.id}`;
  const body = JSON.stringify((await (await fetch(target)).json()) as unknown);
  const bare = express();
  bare.get('/x', (_req, res) => {
    res.type('application/json').send(body);
  });
  const server = createServer(bare);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/x`;
  const [resolveOnce, bareOnce] = [getter(target), getter(bareUrl)];
  await count(resolveOnce, 300);
  await count(bareOnce, 300);
  [f.resolve_cached_per_s, f.express_constant_per_s] = await sideBySide(resolveOnce, bareOnce);
  f.resolve_ratio_to_express = f.resolve_cached_per_s / f.express_constant_per_s;
  // Registrations with the 16 signing clients in this process, sharing the node's event loop and CPU: the old
  // set-up, kept for comparison (`register_per_s` itself has the node in its own process: bench/src/node-register.ts).
  let registered = 0;
  const cpu0 = process.cpuUsage();
  f.register_per_s_one_process = await throughput(
    async () => {
      await self.register({ kind: 'JB', values: [{ index: 1, type: 'T', data: { n: 1 } }] });
      registered++;
    },
    2000,
    16,
  );
  // CPU time of this process (client signing included) per registration: what the rate would be bound by on an idle
  // core, whatever else the shared machine is running.
  const cpu = process.cpuUsage(cpu0);
  f.register_cpu_ms_per_op_one_process = (cpu.user + cpu.system) / 1000 / registered;
  const rows = (await node.context.db.identifiers.page({ take: 2000 })).map((r) => {
    const at = r.id.lastIndexOf('/');
    return {
      ...r,
      prefix: r.id.slice(0, at),
      serial: r.id.slice(at + 1).split('-')[1] ?? '',
      values: JSON.stringify(r.values),
    };
  });
  const raw = new Database(path.join(tmp(), 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.exec(
    'CREATE TABLE r (id TEXT PRIMARY KEY, prefix TEXT, kind TEXT, serial TEXT, owner TEXT, version INT, status TEXT, ' +
      '"values" TEXT, createdAt TEXT, updatedAt TEXT)',
  );
  const ins = raw.prepare('INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?,?)');
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 1000) {
    for (const r of rows)
      ins.run(
        `${r.id}#${n++}`,
        r.prefix,
        r.kind,
        r.serial,
        r.owner,
        r.version,
        r.status,
        r.values,
        r.createdAt,
        r.updatedAt,
      );
  }
  f.raw_sqlite_inserts_per_s = n / ((performance.now() - t0) / 1000);
  f.register_ratio_to_raw = f.register_per_s_one_process / f.raw_sqlite_inserts_per_s;
  raw.close();
  server.close();
  await node.close();
}

/** Child process mode: serve the national node over `dir`, print its URL, and stay up until stdin closes. */
async function serveChild(dir: string): Promise<void> {
  const node = await createNode({ role: 'national', code: 'CPN', port: 0, dataDir: dir, logLevel: 'silent' }, deps());
  const url = await node.listen();
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  await node.close();
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * RSS of a node holding `count` records: bulk-loaded straight into its database file (raw inserts in one
 * transaction), then the node runs in a process of its own — so the figure is the node's, not this benchmark's —
 * and answers uncached and cached resolutions spread over the whole key space while its RSS is sampled.
 */
async function million(f: Figures, count: number): Promise<void> {
  const dir = tmp();
  const first = await createNode({ role: 'national', code: 'CPN', port: 0, dataDir: dir }, deps());
  await first.close();
  const db = new Database(path.join(dir, 'node.db'));
  const ins = db.prepare(
    'INSERT INTO IdentifierRecord (id, prefix, kind, serial, ownerNode, version, status, "values", createdAt, ' +
      'updatedAt) VALUES (?,?,?,?,?,?,?,?,?,?)',
  );
  const now = new Date().toISOString().replace('Z', '+00:00');
  const values = JSON.stringify([
    {
      index: 1,
      type: 'URL',
      data: 'https://example.cn',
      ttl: 300,
      permissions: { publicRead: true, adminRead: true, adminWrite: true },
    },
  ]);
  const ids: string[] = [];
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const serial =
        i.toString(32).toUpperCase().replace(/I/g, 'X').replace(/L/g, 'Y').replace(/O/g, 'Z').replace(/U/g, 'W') + 'Q';
      const id = formatIdentifier({ prefix: 'CPN', kind: 'CL', serial });
      if (!id.ok) continue;
      if (i % 97 === 0) ids.push(id.value);
      ins.run(id.value, 'CPN', 'CL', serial, 'CPN', 1, 'active', values, now, now);
    }
  })();
  f.records_loaded = (db.prepare('SELECT count(*) AS n FROM IdentifierRecord').get() as { n: number }).n;
  db.close();
  f.bulk_load_s = (performance.now() - t0) / 1000;
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname], {
    env: { ...process.env, CPNET_BENCH_SERVE: dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const { url } = JSON.parse(line.toString()) as { url: string };
    let peak = rssMiB(child.pid!);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const get = (id: string) => () =>
      new Promise<void>((resolve, reject) => {
        http
          .get(`${url}/cpn/v1/identifiers/${encodeURIComponent(id)}`, { agent }, (r) => {
            if (r.statusCode !== 200) reject(new Error(`${id}: HTTP ${r.statusCode}`));
            r.resume();
            r.on('end', resolve);
          })
          .on('error', reject);
      });
    const t1 = performance.now();
    // Uncached: every sampled identifier once (≈1 % of the key space); then cached: the first thousand again.
    for (let i = 0; i < ids.length; i += 64) {
      await Promise.all(ids.slice(i, i + 64).map((id) => get(id)()));
      if ((i / 64) % 16 === 0) peak = Math.max(peak, rssMiB(child.pid!));
    }
    f.resolve_1m_uncached_per_s = ids.length / ((performance.now() - t1) / 1000);
    for (const id of ids.slice(0, 1000)) await get(id)();
    peak = Math.max(peak, rssMiB(child.pid!));
    f.rss_mib_1m_records = peak;
  } finally {
    child.stdin.end();
    await once(child, 'exit');
  }
}

/**
 * register_per_s, resolve_ratio_to_express and reports_per_s of a node on PostgreSQL (an embedded 15.x server on this
 * machine, fsync on, as in production; CPNET_TEST_DATABASE_URL names another) beside the SQLite figures already in
 * `f`, with the PostgreSQL-over-SQLite ratios.
 */
async function databaseFigures(f: Figures): Promise<void> {
  const server = await startTestPostgres({ durable: true });
  try {
    const pg: Figures = {};
    await resolveVsExpress(pg, await server.database());
    // One process (clients and node together) on both databases, so the ratio compares like with like.
    f.register_per_s_postgres = pg.register_per_s_one_process!;
    f.register_cpu_ms_per_op_postgres = pg.register_cpu_ms_per_op_one_process!;
    f.resolve_ratio_to_express_postgres = pg.resolve_ratio_to_express!;
    f.reports_per_s_postgres = await reportsPerSecond(await server.database());
    f.register_postgres_over_sqlite = f.register_per_s_postgres / f.register_per_s_one_process!;
    f.resolve_postgres_over_sqlite = f.resolve_ratio_to_express_postgres / f.resolve_ratio_to_express!;
    f.reports_postgres_over_sqlite = f.reports_per_s_postgres / f.reports_per_s!;
  } finally {
    await server.stop();
  }
}

/**
 * Runs the node benchmark and writes bench/results/node.json (merged: other parts' figures are kept).
 * CPNET_BENCH_ONLY=databases runs only the SQLite/PostgreSQL comparison (register, resolve, reports);
 * CPNET_BENCH_ONLY=register only the cached resolution and registrations on SQLite, =3hop only the 3-hop resolution.
 */
export async function run(): Promise<Figures> {
  const f: Figures = {};
  const only = process.env.CPNET_BENCH_ONLY;
  if (only === 'register' || only === '3hop') {
    try {
      if (only === 'register') {
        await resolveVsExpress(f);
        await registerElsewhere(f);
      } else await threeHops(f);
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
    return report(f);
  }
  if (only === 'databases') {
    try {
      await resolveVsExpress(f);
      f.reports_per_s = await reportsPerSecond();
      await databaseFigures(f);
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
    return report(f);
  }
  try {
    // What each signed request costs the node's security layer, against bare Ed25519 (interleaved rounds).
    const sv = await signVerify(10_000);
    f.sign_verify_ratio_to_crypto = sv.signedPerS / sv.barePerS;
    await resolveVsExpress(f);
    await registerElsewhere(f);
    await threeHops(f);
    await million(f, Number(process.env.CPNET_BENCH_RECORDS ?? 1_000_000));
    await aggregationFigures(f);
    Object.assign(f, await schedulingFigures());
    await databaseFigures(f);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  return report(f);
}

function report(f: Figures): Figures {
  printTable(
    'node',
    Object.entries(f).map(([figure, value]) => ({ figure, value })),
  );
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', 'node.json');
  // Other benchmarks of the node (aggregation, scheduling) write their figures into the same file.
  const held = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Figures) : {};
  writeFigures('node', { ...held, ...f });
  return f;
}

if (process.env.CPNET_BENCH_SERVE) await serveChild(process.env.CPNET_BENCH_SERVE);
else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
