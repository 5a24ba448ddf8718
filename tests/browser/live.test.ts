import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Server } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIdentifier } from '@cpnet/identifier';
import { SelectionAnswer, SelectionRequest } from '@cpnet/protocol';
import { generateRecording, serveVisualiser, type VisualiserServer } from '@cpnet/visualiser';
import { ARTIFACTS, findChromium, launch } from './chromium.ts';

const id = (prefix: string, serial: string) => {
  const r = formatIdentifier({ prefix, kind: 'CL', serial });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const CHOSEN = id('CPN.62', '0001');

// The node server is not built yet: this stand-in speaks the two parts of the contract the page uses —
// socket.io '/monitor' (a snapshot on connect, then events; a viewer token required) and POST /cpn/v1/selections.
async function fakeNode(snapshot: unknown) {
  const requests: unknown[] = [];
  const http: HttpServer = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/cpn/v1/selections') return void res.writeHead(404).end();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = SelectionRequest.safeParse(JSON.parse(body));
      requests.push(parsed.success ? parsed.data : null);
      if (!parsed.success)
        return void res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'INVALID', message: parsed.error.issues[0]?.message } }));
      const answer = SelectionAnswer.parse({
        answeredBy: 'CPN',
        escalated: false,
        summary: '最佳候选：甘肃区域集群（价格最低，绿电 80%）',
        candidates: [
          {
            cluster: CHOSEN,
            node: 'CPN.62',
            province: '62',
            rank: 1,
            score: 0.91,
            cats: 9.1,
            criteria: { cost: 0.95 },
            estimatedCostYuan: 30.7,
          },
        ],
        excluded: [
          { cluster: id('CPN.11', '0002'), constraint: 'maxPricePerHourYuan', reason: 'price over the limit' },
        ],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  const io = new Server(http, { cors: { origin: '*' } });
  const monitor = io.of('/monitor');
  monitor.use((socket, next) =>
    socket.handshake.auth.token === 'viewer-token' ? next() : next(new Error('unauthorised')),
  );
  monitor.on('connection', (socket) => void socket.emit('snapshot', snapshot));
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    monitor,
    requests,
    close: () => new Promise<void>((ok) => void io.close(() => ok())),
  };
}

const chromiumPath = findChromium();

describe.skipIf(!chromiumPath)('visualiser in live mode', () => {
  const fixture = generateRecording({ nodes: 12, clusters: 120, events: 10, seed: 5, validate: true });
  const first = fixture.lines.find((l) => l.kind === 'snapshot');
  let node: Awaited<ReturnType<typeof fakeNode>>;
  let server: VisualiserServer;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;

  beforeAll(async () => {
    if (first?.kind !== 'snapshot') throw new Error('no snapshot');
    node = await fakeNode(first.state);
    server = await serveVisualiser({ port: 0, liveUrl: node.url, token: 'viewer-token' });
    browser = await launch();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await node?.close();
  });

  it('shows the snapshot from /monitor, applies streamed events, and returns a selection from the service centre', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    await expect.poll(() => page.locator('#topology g.node').count(), { timeout: 15_000 }).toBe(12);
    expect(await page.locator('#mode').textContent()).toContain('实时');
    const victim = fixture.failover.node;
    node.monitor.emit('event', {
      id: 'live-1',
      type: 'node.health',
      at: '2026-03-02T08:00:05.000Z',
      node: 'CPN',
      subject: victim,
      severity: 'critical',
      data: { health: 'down' },
    });
    await expect
      .poll(() => page.locator(`#topology g.node[data-code="${victim}"] circle`).getAttribute('class'))
      .toBe('health-down');
    await expect.poll(() => page.locator(`#timeline rect.episode[data-subject="${victim}"]`).count()).toBe(1);
    await page.click('#tab-service');
    await page.click('#template-submit');
    await expect.poll(() => page.locator('#selection-answer').textContent()).toContain(CHOSEN);
    expect(node.requests).toHaveLength(1);
    expect(node.requests[0]).toMatchObject({
      template: { constraints: { userProvince: '31' }, latencyTolerant: true },
    });
    await page.locator('#selection-answer').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'live-service-centre.png') });
  });
});
