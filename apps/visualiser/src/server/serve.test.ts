import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    });
    const rec = await fetch(new URL('recording.jsonl', server.url));
    expect(rec.headers.get('content-type')).toContain('application/x-ndjson');
    expect((await rec.text()).split('\n')[0]).toContain('cpnet-recording');
  });

  it('answers 404 outside dist and 409 to a selection while replaying', async () => {
    expect((await fetch(new URL('/../../etc/passwd', server.url))).status).toBe(404);
    expect((await fetch(new URL('/%2e%2e/%2e%2e/etc/passwd', server.url))).status).toBe(404);
    const res = await fetch(new URL('/cpn/v1/selections', server.url), { method: 'POST', body: '{}' });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_LIVE' } });
  });

  it('refuses a port in use with EADDRINUSE', async () => {
    const port = Number(new URL(server.url).port);
    await expect(serveVisualiser({ port, distDir: dist })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
