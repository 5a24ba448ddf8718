import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLinkProxy, type LinkProxy } from './link-proxy.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function echoServer(): Promise<number> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => res.end(Buffer.concat(chunks).toString() || 'pong'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function proxyTo(port: number): Promise<LinkProxy> {
  const proxy = await startLinkProxy({ target: { host: '127.0.0.1', port }, random: () => 0.5 });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function get(
  url: string,
  options: { timeoutMs?: number; body?: string } = {},
): Promise<{ ok: true; body: string; ms: number } | { ok: false; error: string; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      method: options.body ? 'POST' : 'GET',
      body: options.body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      headers: { connection: 'close' },
    });
    return { ok: true, body: await res.text(), ms: performance.now() - t0 };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    return { ok: false, error: cause?.code ?? (e as Error).name, ms: performance.now() - t0 };
  }
}

describe('link proxy', () => {
  it('forwards transparently without faults', async () => {
    const proxy = await proxyTo(await echoServer());
    expect(await get(`${proxy.url}/`)).toMatchObject({ ok: true, body: 'pong' });
    expect(proxy.stats().bytesUp).toBeGreaterThan(0);
  });

  it('rewrites data one way with a transform hook, until it is removed', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.setTransform((chunk, direction) =>
      direction === 'down' ? Buffer.from(chunk.toString('latin1').replace('pong', 'PONG'), 'latin1') : chunk,
    );
    expect(await get(proxy.url)).toMatchObject({ ok: true, body: 'PONG' });
    expect(await get(proxy.url, { body: 'pong' })).toMatchObject({ ok: true, body: 'PONG' });
    proxy.setTransform(null);
    expect(await get(proxy.url)).toMatchObject({ ok: true, body: 'pong' });
  });

  it('adds latency in each direction', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ latencyMs: 100 });
    const r = await get(`${proxy.url}/`);
    expect(r).toMatchObject({ ok: true });
    expect(r.ms).toBeGreaterThanOrEqual(190);
  });

  it('black-holes a partitioned link until healed, then works again', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ partition: 'full' });
    const cut = await get(`${proxy.url}/`, { timeoutMs: 300 });
    expect(cut.ok).toBe(false);
    expect(proxy.stats().dropped).toBeGreaterThan(0);
    proxy.heal();
    expect(await get(`${proxy.url}/`)).toMatchObject({ ok: true, body: 'pong' });
  });

  it('drops one direction only in a one-way partition', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ partition: 'down' });
    const r = await get(`${proxy.url}/`, { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, error: 'TimeoutError' });
    expect(proxy.stats().bytesUp).toBeGreaterThan(0);
    expect(proxy.stats().bytesDown).toBe(0);
  });

  it('caps bandwidth', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ bandwidthKbps: 800 });
    const body = 'x'.repeat(20_000);
    const r = await get(`${proxy.url}/`, { body });
    expect(r.ok && r.body.length).toBe(20_000);
    // 20 kB up and 20 kB down at 100 kB/s is at least 400 ms.
    expect(r.ms).toBeGreaterThanOrEqual(350);
  });

  it('resets open connections', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ latencyMs: 500 });
    const pending = get(`${proxy.url}/`);
    await new Promise((r) => setTimeout(r, 100));
    proxy.reset();
    const r = await pending;
    expect(r.ok).toBe(false);
    expect(proxy.stats().open).toBe(0);
  });
});
