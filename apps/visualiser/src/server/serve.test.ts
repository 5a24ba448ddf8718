import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecording, toJsonLines } from '../fixtures/recording-fixture.ts';
import { serveVisualiser, type VisualiserServer } from './serve.ts';

describe('serveVisualiser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpnet-serve-'));
  const dist = join(dir, 'dist');
  const recording = join(dir, 'rec.jsonl');
  let server: VisualiserServer;

  beforeAll(async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dist);
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>viz</title>');
    writeFileSync(recording, toJsonLines(generateRecording({ nodes: 4, clusters: 8, events: 20, seed: 1 })));
    server = await serveVisualiser({ port: 0, replayFile: recording, distDir: dist });
  });
  afterAll(() => server.close());

  it('serves the page, its configuration and the recording', async () => {
    expect(await (await fetch(server.url)).text()).toContain('<title>viz</title>');
    expect(await (await fetch(new URL('config.json', server.url))).json()).toEqual({
      mode: 'replay',
      recording: 'recording.jsonl',
      recordingIndex: 'recording/index',
    });
    const rec = await fetch(new URL('recording.jsonl', server.url));
    expect(rec.headers.get('content-type')).toContain('application/x-ndjson');
    expect((await rec.text()).split('\n')[0]).toContain('cpnet-recording');
  });

  it('serves the header and index of the recording, and byte ranges of it', async () => {
    const served = (await (await fetch(new URL('recording/index', server.url))).json()) as {
      header: { kind: string };
      index: { snapshots: { offset: number }[] };
      headerEnd: number;
    };
    expect(served.header.kind).toBe('cpnet-recording');
    const at = served.index.snapshots[0]!.offset;
    const part = await fetch(new URL('recording.jsonl', server.url), { headers: { range: `bytes=${at}-${at + 19}` } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('{"kind":"snapshot","');
    const past = await fetch(new URL('recording.jsonl', server.url), { headers: { range: 'bytes=99999999-' } });
    expect(past.status).toBe(416);
  });

  it('answers 404 outside dist and 409 to a selection while replaying', async () => {
    expect((await fetch(new URL('/../../etc/passwd', server.url))).status).toBe(404);
    expect((await fetch(new URL('/%2e%2e/%2e%2e/etc/passwd', server.url))).status).toBe(404);
    // No reviewing accounts given: no board.
    expect((await fetch(new URL('pipeline', server.url))).status).toBe(404);
    const res = await fetch(new URL('/cpn/v1/selections', server.url), { method: 'POST', body: '{}' });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_LIVE' } });
  });

  it('refuses a port in use with EADDRINUSE', async () => {
    const port = Number(new URL(server.url).port);
    await expect(serveVisualiser({ port, distDir: dist })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('serveVisualiser with a renewal (cpnet demo, cpnet viz --operator)', () => {
  it('hands the page a fresh token on POST /token and forwards selections with the latest one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-serve-token-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html>');
    // A stand-in for the live node's selections route: a real server recording the bearer token it was sent.
    const seen: string[] = [];
    const node = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((ok) => node.listen(0, '127.0.0.1', ok));
    const liveUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
    let minted = 1;
    const server = await serveVisualiser({
      port: 0,
      liveUrl,
      distDir: join(dir, 'dist'),
      token: 't1',
      renew: () => Promise.resolve({ ok: true, token: `t${++minted}`, renewInMs: 180_000 }),
    });
    try {
      expect(await (await fetch(new URL('config.json', server.url))).json()).toEqual({
        mode: 'live',
        liveUrl,
        token: 't1',
        renewal: 'token',
        selections: 'viewer',
      });
      const select = () => fetch(new URL('/cpn/v1/selections', server.url), { method: 'POST', body: '{}' });
      expect((await select()).status).toBe(200);
      const renewed = await fetch(new URL('token', server.url), { method: 'POST' });
      expect(await renewed.json()).toEqual({ token: 't2', renewInMs: 180_000 });
      expect((await select()).status).toBe(200);
      expect(seen).toEqual(['Bearer t1', 'Bearer t2']);
      // A page loaded later starts from the latest token.
      expect(await (await fetch(new URL('config.json', server.url))).json()).toMatchObject({ token: 't2' });
      // The node's subtree snapshot, asked with the latest viewer token.
      expect((await fetch(new URL('snapshot', server.url))).status).toBe(200);
      expect(seen.at(-1)).toBe('Bearer t2');
    } finally {
      await server.close();
      await new Promise<void>((ok) => node.close(() => ok()));
    }
  });

  it("forwards selections with the selection token (cpnet demo's tenant), not the viewer's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-serve-tenant-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html>');
    const seen: string[] = [];
    const node = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${String(req.headers.authorization)}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((ok) => node.listen(0, '127.0.0.1', ok));
    const liveUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
    let refuse = false;
    const server = await serveVisualiser({
      port: 0,
      liveUrl,
      distDir: join(dir, 'dist'),
      token: 'viewer',
      selectionToken: () => Promise.resolve(refuse ? { ok: false, error: 'no' } : { ok: true, token: 'tenant' }),
    });
    try {
      expect(await (await fetch(new URL('config.json', server.url))).json()).toMatchObject({ selections: 'tenant' });
      const select = () => fetch(new URL('/cpn/v1/selections', server.url), { method: 'POST', body: '{}' });
      expect((await select()).status).toBe(200);
      expect(seen).toEqual(['POST /cpn/v1/selections Bearer tenant']);
      refuse = true;
      const refused = await select();
      expect(refused.status).toBe(502);
      expect(JSON.stringify(await refused.json())).toContain('no token for selections: no');
    } finally {
      await server.close();
      await new Promise<void>((ok) => node.close(() => ok()));
    }
  });

  it('reads the board with the reviewing tokens it was given, one per list, and says when it has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-serve-pipeline-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html>');
    const seen: string[] = [];
    const node = createServer((req, res) => {
      seen.push(`${req.url} ${String(req.headers.authorization)}`);
      const refused = req.headers.authorization !== 'Bearer expert' && req.url?.includes('acceptance');
      res.writeHead(refused ? 403 : 200, { 'content-type': 'application/json' }).end('{"items":[]}');
    });
    await new Promise<void>((ok) => node.listen(0, '127.0.0.1', ok));
    const liveUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
    const server2 = await serveVisualiser({
      port: 0,
      liveUrl,
      distDir: join(dir, 'dist'),
      token: 'viewer',
      pipelineTokens: {
        applications: () => Promise.resolve({ ok: true, token: 'reviewer' }),
        cases: () => Promise.resolve({ ok: true, token: 'expert' }),
      },
    });
    try {
      expect(await (await fetch(new URL('config.json', server2.url))).json()).toMatchObject({ pipeline: 'pipeline' });
      const board = (await (await fetch(new URL('pipeline', server2.url))).json()) as Record<string, unknown>;
      expect(board).toEqual({
        applications: { ok: true, body: { items: [] } },
        cases: { ok: true, body: { items: [] } },
        held: [],
        nodes: [{ node: 'CPN', ok: true }],
        caseHeld: [],
        caseNodes: [{ node: 'CPN', ok: true }],
        publicity: [{ node: 'CPN', ok: true, body: { items: [] }, opened: {} }],
      });
      // The subtree snapshot (for the regional nodes) is read with the viewer token, the lists with the reviewers',
      // the public 公示 list with none.
      expect(seen.sort()).toEqual([
        '/cpn/v1/acceptance/cases Bearer expert',
        '/cpn/v1/applications Bearer reviewer',
        '/cpn/v1/monitor/subtree Bearer viewer',
        '/cpn/v1/publicity undefined',
      ]);
    } finally {
      await server2.close();
      await new Promise<void>((ok) => node.close(() => ok()));
    }
  });

  it('reads each regional node of the subtree with tokens valid there, merging by applicant, with its chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-serve-pipeline-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'dist'));
    const seen: string[] = [];
    const listen = async (answer: (url: string) => [number, unknown]) => {
      const s = createServer((req, res) => {
        seen.push(`${req.url} ${String(req.headers.authorization)}`);
        const [status, body] = answer(req.url ?? '');
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
      return { s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
    };
    const app = (id: string, applicant: string, status: string) => ({ id, status, ext: { applicant } });
    const opened = { at: '2026-04-20T01:00:00.000Z', step: { action: 'open-publicity' } };
    const chain = { application: 'A-2', guide: 'sichuan-2026', stage: 'publicity', steps: [opened] };
    const publicity = { guide: 'sichuan-2026', items: [{ application: 'A-2', applicant: 'CPN.51.C397' }] };
    const regional = await listen((url) =>
      url.endsWith('/applications')
        ? [200, { items: [app('A-1', 'CPN.51', 'forwarded'), app('A-2', 'CPN.51.C397', 'reviewing')] }]
        : url.endsWith('/A-2/chain')
          ? [200, chain]
          : url.endsWith('/acceptance/cases')
            ? [200, { items: [{ node: 'CPN.51.C341', status: 'joint-debugging' }] }]
            : url.endsWith('/publicity')
              ? [200, publicity]
              : [409, { error: { code: 'CONFLICT', message: 'no dossier' } }],
    );
    const national = await listen((url) =>
      url.startsWith('/cpn/v1/monitor/subtree')
        ? [
            200,
            {
              nodes: [
                { code: 'CPN', role: 'national', url: 'x' },
                { code: 'CPN.51', role: 'regional', url: regional.url },
              ],
            },
          ]
        : url.endsWith('/applications')
          ? [200, { items: [app('N-1', 'CPN.51', 'approved')] }]
          : url.includes('/chain') || url.endsWith('/publicity')
            ? [409, { error: { code: 'CONFLICT', message: 'no guide here' } }]
            : url.endsWith('/acceptance/cases')
              ? [200, { items: [{ node: 'CPN.51', status: 'accepted' }] }]
              : [200, { items: [] }],
    );
    const at = (n?: { code: string }) => Promise.resolve({ ok: true as const, token: `reviewer@${n?.code ?? 'CPN'}` });
    const expert = (n?: { code: string }) =>
      Promise.resolve({ ok: true as const, token: `expert@${n?.code ?? 'CPN'}` });
    const server = await serveVisualiser({
      port: 0,
      liveUrl: national.url,
      distDir: join(dir, 'dist'),
      token: 'viewer',
      pipelineTokens: { applications: at, cases: expert },
    });
    try {
      const board = (await (await fetch(new URL('pipeline', server.url))).json()) as Record<string, unknown>;
      // Acceptance cases from every node, each marked with the node holding it (its approving authority); the 公示
      // list of each node running a guide, with when each window opened (from the chain's open-publicity step).
      expect(board.cases).toEqual({
        ok: true,
        body: {
          items: [
            { node: 'CPN.51', status: 'accepted' },
            { node: 'CPN.51.C341', status: 'joint-debugging' },
          ],
        },
      });
      expect(board.caseHeld).toEqual([
        { node: 'CPN.51', heldAt: ['CPN'] },
        { node: 'CPN.51.C341', heldAt: ['CPN.51'] },
      ]);
      expect(board.publicity).toEqual([
        { node: 'CPN', ok: true, none: true },
        { node: 'CPN.51', ok: true, body: publicity, opened: { 'A-2': opened.at } },
      ]);
      expect(seen).toContain('/cpn/v1/acceptance/cases Bearer expert@CPN.51');
      expect(board.applications).toEqual({
        ok: true,
        body: { items: [app('N-1', 'CPN.51', 'approved'), app('A-2', 'CPN.51.C397', 'reviewing')] },
      });
      expect(board.held).toEqual([
        { applicant: 'CPN.51', heldAt: ['CPN', 'CPN.51'] },
        { applicant: 'CPN.51.C397', heldAt: ['CPN.51'], chain },
      ]);
      expect(board.nodes).toEqual([
        { node: 'CPN', ok: true },
        { node: 'CPN.51', ok: true },
      ]);
      expect(seen).toContain('/cpn/v1/applications Bearer reviewer@CPN.51');
      expect(seen).toContain('/cpn/v1/applications/A-2/chain Bearer reviewer@CPN.51');
    } finally {
      await server.close();
      for (const { s } of [national, regional]) await new Promise<void>((ok) => s.close(() => ok()));
    }
  });

  it('keeps the board’s tokens across reads and logs in again once when a node refuses one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-serve-pipeline-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'dist'));
    let valid = 'reviewer-1';
    const node = createServer((req, res) => {
      const auth = String(req.headers.authorization);
      const refused = req.url === '/cpn/v1/applications' && auth !== `Bearer ${valid}`;
      res
        .writeHead(refused ? 401 : 200, { 'content-type': 'application/json' })
        .end(refused ? '{"error":{"code":"UNAUTHENTICATED","message":"expired"}}' : '{"items":[]}');
    });
    await new Promise<void>((ok) => node.listen(0, '127.0.0.1', ok));
    const logins: string[] = [];
    let n = 0;
    const server = await serveVisualiser({
      port: 0,
      liveUrl: `http://127.0.0.1:${(node.address() as AddressInfo).port}`,
      distDir: join(dir, 'dist'),
      pipelineTokens: {
        applications: () => {
          logins.push('applications');
          return Promise.resolve({ ok: true, token: `reviewer-${++n}` });
        },
        cases: () => {
          logins.push('cases');
          return Promise.resolve({ ok: true, token: 'expert' });
        },
      },
    });
    try {
      const board = async () =>
        (await (await fetch(new URL('pipeline', server.url))).json()) as { applications: { ok: boolean } };
      expect((await board()).applications.ok).toBe(true);
      expect((await board()).applications.ok).toBe(true);
      expect(logins.sort()).toEqual(['applications', 'cases']);
      valid = 'reviewer-2'; // the node no longer takes the first token (expired)
      expect((await board()).applications.ok).toBe(true);
      expect(logins.sort()).toEqual(['applications', 'applications', 'cases']);
    } finally {
      await server.close();
      await new Promise<void>((ok) => node.close(() => ok()));
    }
  });

  it('answers 502 naming the cause when no token can be minted, 404 when it holds no credential', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-serve-token-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'dist'));
    const server = await serveVisualiser({
      port: 0,
      liveUrl: 'http://127.0.0.1:9',
      distDir: join(dir, 'dist'),
      renew: () => Promise.reject(new Error('the national node is down')),
    });
    const fixed = await serveVisualiser({ port: 0, liveUrl: 'http://127.0.0.1:9', distDir: join(dir, 'dist') });
    try {
      const res = await fetch(new URL('token', server.url), { method: 'POST' });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: { code: 'UPSTREAM', message: /national node is down/ } });
      const none = await fetch(new URL('token', fixed.url), { method: 'POST' });
      expect(none.status).toBe(404);
      expect(await none.json()).toMatchObject({ error: { code: 'NO_RENEWAL' } });
    } finally {
      await server.close();
      await fixed.close();
    }
  });
});
