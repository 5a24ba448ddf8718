// `npx tsx bench/src/floor-3hop.ts [rounds] [per-round]`: the floor under `resolve_3hop_*` on this machine. Beside the
// benchmark's real 3-hop network (four nodes, each in a process of its own, every cache off), four bare
// `node:http` processes do what a hop must do and nothing else: take the GET, forward it over a keep-alive
// connection with the path header, parse the answer and write it back with the nodes' headers; the last signs a
// body of the real answer's size with Ed25519 per request. Rounds of `per-round` sequential resolutions alternate
// between the two chains after 2,000 of warm-up each, so load from elsewhere falls on both alike. Prints each
// chain's p50/p90/p99 (wall ms), each process's CPU per resolution, and the ratios real / bare.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { createClient } from '@cpnet/client';
import { createNode, type NodeConfigInput } from '@cpnet/node';
import { quantile } from '../lib.ts';
import { processCpuMs, spawnNode, type NodeProcess } from './node-process.ts';
import { online, threeHopNetwork } from './three-hop-network.ts';

const rounds = Number(process.argv[2] ?? 10);
const perRound = Number(process.argv[3] ?? 200);
const WARM = 2000;
const say = (m: string) => process.stderr.write(`${m}\n`);

// One bare hop: forwards to NEXT (or, the last, answers a signed body of BODY_BYTES). The same headers a node sets.
const HOP = `
const http = require('node:http');
const crypto = require('node:crypto');
const next = process.env.NEXT;
const bytes = Number(process.env.BODY_BYTES);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const { privateKey } = crypto.generateKeyPairSync('ed25519');
const headers = JSON.parse(process.env.HEADERS);
let n = 0;
const send = (res, body) => {
  for (const [k, v] of headers) res.setHeader(k, v);
  res.setHeader('x-request-id', 'r' + (++n).toString(36));
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
};
const server = http.createServer((req, res) => {
  if (!next) {
    const record = { id: decodeURIComponent(req.url), data: 'x'.repeat(Math.max(0, bytes - 200)), path: req.headers['cpn-path'] };
    const signature = crypto.sign(null, Buffer.from(JSON.stringify(record)), privateKey).toString('base64url');
    return send(res, JSON.stringify({ ...record, signature }));
  }
  const path = (req.headers['cpn-path'] ? req.headers['cpn-path'] + ',' : '') + 'hop';
  http.get(next + req.url, { agent, headers: { 'cpn-path': path, accept: 'application/json' } }, (up) => {
    const chunks = [];
    up.on('data', (c) => chunks.push(c));
    up.on('end', () => send(res, JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('http://127.0.0.1:' + server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

async function bareHop(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', HOP], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: line.toString().trim(), child };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      })
      .on('error', reject);
  });
}

const dirs: string[] = [];
const processes: NodeProcess[] = [];
const bare: ChildProcess[] = [];
try {
  // The real network, each node in a process of its own (as `resolve_3hop_p50_ms`/`p99_ms`).
  const { nodes, id } = await threeHopNetwork(createNode, { prefix: 'cpnet-floor3-', dirs });
  const configs = nodes.map((n) => ({ ...n.node.context.config, port: Number(new URL(n.url).port) }));
  for (const n of nodes) await n.node.close();
  for (const config of configs) {
    const prof = process.env.CPNET_FLOOR_PROF; // a folder: each node's whole-run CPU profile goes there
    const p = await spawnNode(
      config as NodeConfigInput,
      prof ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${prof}`] } : {},
    );
    processes.push(p);
    await online(p.url);
  }
  say('real network up');
  const client = createClient({ baseUrl: processes[3]!.url });
  const probe = await client.resolve(id);
  if (!probe.ok) throw new Error(probe.error.message);
  const realUrl = `${processes[3]!.url}/cpn/v1/identifiers/${encodeURIComponent(id)}`;
  const sample = await get(realUrl);
  const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'x-request-id']);
  const headers = Object.entries(sample.headers).filter(([k]) => !skip.has(k));

  // The bare chain: last hop first.
  let next = '';
  const bareUrls: string[] = [];
  for (let i = 0; i < 4; i++) {
    const h = await bareHop({
      NEXT: next,
      BODY_BYTES: String(sample.text.length),
      HEADERS: JSON.stringify(headers),
    });
    bare.push(h.child);
    bareUrls.unshift(h.url);
    next = h.url;
  }
  const bareUrl = `${bareUrls[0]}/cpn/v1/identifiers/${encodeURIComponent(id)}`;
  say('bare chain up');
  const bareSample = await get(bareUrl);
  if (bareSample.status !== 200) throw new Error(`bare chain answered ${bareSample.status}`);

  const chains = [
    { name: 'real', url: realUrl, pids: processes.map((p) => p.pid), times: [] as number[], cpu: 0 },
    { name: 'bare', url: bareUrl, pids: bare.map((c) => c.pid!), times: [] as number[], cpu: 0 },
  ];
  const cpuOf = (pids: number[]) => pids.reduce((s, pid) => s + processCpuMs(pid), 0);
  for (const c of chains) for (let i = 0; i < WARM; i++) await get(c.url);
  say('warmed up');
  for (let r = 0; r < rounds; r++)
    for (const c of chains) {
      const before = cpuOf(c.pids);
      for (let i = 0; i < perRound; i++) {
        const t = performance.now();
        const a = await get(c.url);
        if (a.status !== 200) throw new Error(`${c.name}: ${a.status} ${a.text}`);
        c.times.push(performance.now() - t);
      }
      c.cpu += cpuOf(c.pids) - before;
    }
  const figures = chains.map((c) => ({
    name: c.name,
    p50: quantile(c.times, 0.5),
    p90: quantile(c.times, 0.9),
    p99: quantile(c.times, 0.99),
    cpuPerHop: c.cpu / c.times.length / 4,
  }));
  for (const f of figures)
    console.log(
      `${f.name}: ${f.name === 'real' ? 'nodes' : 'bare node:http'} apart, ${rounds * perRound} resolutions, ` +
        `p50 ${f.p50.toFixed(2)} ms, p90 ${f.p90.toFixed(2)}, p99 ${f.p99.toFixed(2)}; ` +
        `CPU per process per resolution ${f.cpuPerHop.toFixed(3)} ms`,
    );
  const [real, floor] = figures as [(typeof figures)[0], (typeof figures)[0]];
  console.log(
    `real / bare: p50 ${(real.p50 / floor.p50).toFixed(2)}, p99 ${(real.p99 / floor.p99).toFixed(2)}, ` +
      `CPU ${(real.cpuPerHop / floor.cpuPerHop).toFixed(2)}`,
  );
} finally {
  for (const p of processes.reverse()) await p.close();
  for (const c of bare) {
    c.stdin?.end();
    await once(c, 'exit');
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
// As ab-3hop.ts: the children's pipes may hold the loop a while after they exit.
process.exit(0);
