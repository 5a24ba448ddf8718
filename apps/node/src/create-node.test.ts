import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import { systemClock } from '@cpnet/kernel/system';
import { NAMESPACES } from '@cpnet/protocol';
import { Server } from 'socket.io';
import { createNode } from './create-node.ts';
import type { NodeDeps } from './deps.ts';
import { openSqliteStores } from './store/stores.ts';
import { until } from './scheduling/testing.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const deps = (): NodeDeps => ({
  clock: systemClock,
  logger: pino({ level: 'silent' }),
  randomBytes: cryptoRandomBytes,
});

describe('createNode(config, { deps, db })', () => {
  it('builds the node on the stores it is given, and leaves them open for their owner', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-parts-'));
    dirs.push(dir);
    const db = await openSqliteStores(path.join(dir, 'elsewhere.db'));
    const node = await createNode({ role: 'national', code: 'CPN', port: 0, dataDir: dir }, { deps: deps(), db });
    const url = await node.listen();
    const signed = createClient({
      baseUrl: url,
      signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey },
    });
    const r = await signed.register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://example.cn' }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    await node.close();
    // The node wrote through the given stores and did not close them.
    expect((await db.identifiers.byId(r.value.id))?.values[0]?.data).toBe('https://example.cn');
    expect(existsSync(path.join(dir, 'node.db'))).toBe(false);
    await db.close();
  });
});

describe('close()', () => {
  // A child retries its parent's /link after a refused handshake (not yet approved, suspended). A node closed while
  // that retry waited used to open the link again when it fired, and then kept it — a closed node's link, signed with
  // its key, still retrying (or connected, once the parent admitted it), so the parent would count a stopped child
  // as connected.
  it("stops trying its parent's /link, also while a refused handshake waits for its retry", async () => {
    const http = createServer((req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const io = new Server(http);
    let attempts = 0;
    io.of(NAMESPACES.link).use((_socket, next) => {
      attempts++;
      next(new Error('UNAUTHENTICATED: CPN.51 is not a child of CPN'));
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const parentUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-link-close-'));
    dirs.push(dir);
    const retryMs = 100;
    const node = await createNode(
      { role: 'regional', code: 'CPN.51', port: 0, dataDir: dir, parentUrl, monitoring: { linkRetryMs: retryMs } },
      deps(),
    );
    await node.listen();
    expect(await until(() => attempts >= 2, 10_000)).toBe(true);
    await node.close();
    const closedAt = attempts;
    // Ten retry intervals of wall time: the old code tried again within one.
    await new Promise((r) => setTimeout(r, 10 * retryMs));
    expect(attempts).toBe(closedAt);
    await new Promise<void>((r) => void io.close(() => r()));
  }, 20_000);
});
