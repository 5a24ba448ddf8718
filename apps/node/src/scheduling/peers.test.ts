import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '@cpnet/client';
import { formatIdentifier } from '@cpnet/identifier';
import type { NodeContext } from '../context.ts';
import { nodePeers } from './peers.ts';
import type { PlacementAsk } from './ports.ts';

// The peer port's placement lanes against a real HTTP peer on loopback: one that takes batches, and one built before
// batches existed (it knows only a single placement per request and answers a batch with 400).

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function peer(o: {
  batches: boolean;
  delayMs: number;
}): Promise<{ url: string; requests: { placements: number }[] }> {
  const requests: { placements: number }[] = [];
  const answer = (p: { job: string }) => ({
    ok: true,
    owner: 'CPN.44',
    cluster: clusterFor(p.job),
    costYuan: 1,
    history: [],
  });
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as { job: string } | { placements: { job: string }[] };
      const batch = 'placements' in body;
      requests.push({ placements: batch ? body.placements.length : 1 });
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        if (batch && !o.batches) {
          res.statusCode = 400;
          res.end(JSON.stringify({ error: { code: 'VALIDATION', message: 'job: required' } }));
          return;
        }
        res.end(JSON.stringify(batch ? { answers: body.placements.map(answer) } : answer(body)));
      }, o.delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function portTo(url: string) {
  const ctx = {
    config: { code: 'CPN', parentUrl: null },
    db: { peers: { byPrefix: () => Promise.resolve({ prefix: 'CPN.44', relation: 'child', endpoint: url }) } },
    clientFor: (endpoint: string) => createClient({ baseUrl: endpoint }),
    deps: { logger: pino({ level: 'silent' }) },
  } as unknown as NodeContext;
  return nodePeers(ctx);
}

const id = (kind: 'CL' | 'JB', n: number) => {
  const r = formatIdentifier({ prefix: 'CPN.51', kind, serial: `01JQ4ZK8M${String(n).padStart(4, '0')}` });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
/** The cluster the test peer answers for a job: derived from the job, so a mixed-up answer shows. */
const clusterFor = (job: string) => id('CL', Number(job.split('-')[1]!.slice(9, 13)));
const ask = (n: number): PlacementAsk => ({
  job: id('JB', n),
  origin: 'CPN.51',
  tenant: 't',
  attempt: 1,
  direction: 'down',
  exclude: ['CPN'],
  excludeClusters: [],
  template: { demand: { cpuCores: 1, memoryGib: 1 }, durationHours: 1 },
});

describe('placement lanes', () => {
  it('sends the placements asked in one turn as one request, each answered with its own result', async () => {
    const p = await peer({ batches: true, delayMs: 30 });
    const port = portTo(p.url);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => port.place('CPN.44', ask(i))));
    answers.forEach((a, i) => expect(a).toMatchObject({ ok: true, cluster: id('CL', i) }));
    expect(p.requests).toEqual([{ placements: 40 }]);
  });

  it('sends a lone placement at the end of its turn, and those asked while two requests are out as one batch', async () => {
    const p = await peer({ batches: true, delayMs: 30 });
    const port = portTo(p.url);
    const turn = () => new Promise<void>((r) => setImmediate(r));
    const first = port.place('CPN.44', ask(0));
    await turn();
    const second = port.place('CPN.44', ask(1));
    await turn();
    const rest = Array.from({ length: 20 }, (_, i) => port.place('CPN.44', ask(i + 2)));
    const answers = await Promise.all([first, second, ...rest]);
    answers.forEach((a, i) => expect(a).toMatchObject({ ok: true, cluster: id('CL', i) }));
    expect(p.requests).toEqual([{ placements: 1 }, { placements: 1 }, { placements: 20 }]);
  });

  it('asks a peer that refuses batches one placement per request, and loses none', async () => {
    const p = await peer({ batches: false, delayMs: 10 });
    const port = portTo(p.url);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => port.place('CPN.44', ask(i))));
    answers.forEach((a, i) => expect(a).toMatchObject({ ok: true, cluster: id('CL', i) }));
    const refused = p.requests.filter((r) => r.placements > 1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    // After the first refusal, singles only: the later placements never go as a batch again.
    const after = p.requests.slice(p.requests.indexOf(refused[0]!) + 1);
    expect(after.filter((r) => r.placements > 1).length).toBeLessThanOrEqual(1);
    expect(p.requests.filter((r) => r.placements === 1).length).toBe(12);
  });
});
