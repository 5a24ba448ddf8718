import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createClient, type NodeClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import { systemClock } from '@cpnet/kernel/system';
import { createNode, type CpnNode } from './create-node.ts';

let node: CpnNode;
let url: string;
let dir: string;
let signed: NodeClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cpnet-node-'));
  node = await createNode(
    { role: 'national', code: 'CPN', port: 0, dataDir: dir },
    { clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
  );
  url = await node.listen();
  signed = createClient({ baseUrl: url, signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey } });
});
afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a national node', () => {
  it('says who it is and is healthy', async () => {
    const info = await createClient({ baseUrl: url }).node();
    expect(info.ok && info.value).toMatchObject({
      code: 'CPN',
      role: 'national',
      lifecycle: 'online',
      parent: null,
      protocol: '1.0',
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('cpn_http_requests_total');
    const doc = (await (await fetch(`${url}/cpn/v1/openapi.json`)).json()) as {
      openapi: string;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas.RegisterIdentifier).toBeDefined();
  });

  it('registers, resolves with a raw slash or %2F, updates and revokes', async () => {
    const r = await signed.register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://example.cn' }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const id = r.value.id;
    expect(id.startsWith('CPN/SV-')).toBe(true);
    for (const p of [
      `/cpn/v1/identifiers/${id}`,
      `/cpn/v1/identifiers/${encodeURIComponent(id)}`,
      `/cpn/v1/identifiers/${id.toLowerCase()}`,
    ]) {
      const res = await fetch(url + p);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { answeredBy: string; authoritative: boolean; signature: string };
      expect(body).toMatchObject({ answeredBy: 'CPN', authoritative: true });
      expect(body.signature).toMatch(/\.\./);
    }
    const u = await signed.update(id, { version: 1, values: [{ index: 1, type: 'URL', data: 'https://example.com' }] });
    expect(u.ok && u.value.version).toBe(2);
    const stale = await signed.update(id, { version: 1, values: [{ index: 1, type: 'URL', data: 'x' }] });
    expect(stale.ok ? 0 : stale.status).toBe(409);
    const v = await signed.revoke(id);
    expect(v.ok && v.value.status).toBe('revoked');
  });

  it('never reuses a serial', async () => {
    // Serial 1 is the node's own ND record, CPN/ND-16Q, registered at first start.
    const own = await signed.register({ kind: 'CL', serial: '1', values: [{ index: 1, type: 'T', data: 1 }] });
    expect(own.ok ? 0 : own.status).toBe(409);
    const a = await signed.register({ kind: 'CL', serial: '2', values: [{ index: 1, type: 'T', data: 1 }] });
    expect(a.ok).toBe(true);
    const b = await signed.register({ kind: 'SV', serial: '2', values: [{ index: 1, type: 'T', data: 1 }] });
    expect(b.ok ? 0 : b.status).toBe(409);
  });

  it('follows the error contract', async () => {
    const unsigned = await fetch(`${url}/cpn/v1/identifiers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    const bad = await signed.request({ method: 'POST', path: '/cpn/v1/identifiers', body: '{not json' });
    expect(bad.status).toBe(400);
    const unknownField = await signed.register({
      kind: 'SV',
      values: [{ index: 1, type: 'T', data: 1 }],
      extra: 1,
    } as never);
    expect(unknownField.ok ? null : unknownField.error).toMatchObject({ status: 400, field: 'extra' });
    const big = await signed.request({
      method: 'POST',
      path: '/cpn/v1/identifiers',
      body: JSON.stringify({ kind: 'SV', values: [{ index: 1, type: 'T', data: 'x'.repeat(1_100_000) }] }),
    });
    expect(big.status).toBe(413);
    const malformed = await fetch(`${url}/cpn/v1/identifiers/CPN.51/ND-1EK`);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { field: string } }).error.field).toBe('check');
    expect((await fetch(`${url}/cpn/v1/identifiers/CPN/ND-261`)).status).toBe(404);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/cpn/v1/node`, { headers: { 'cpn-protocol': '2.0' } })).status).toBe(400);
  });

  it('answers forwarded queries (cpn-path) and their failures with the contract of the routed path', async () => {
    const r = await signed.register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://example.cn' }] });
    if (!r.ok) throw new Error(r.error.message);
    const at = (id: string, headers: Record<string, string>) =>
      fetch(`${url}/cpn/v1/identifiers/${encodeURIComponent(id)}`, { headers });
    const counted = async (status: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('cpn_http_requests_total{') &&
            l.includes('route="/cpn/v1/identifiers/*id"') &&
            l.includes(`status="${status}"`),
        );
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const ok = await at(r.value.id, { 'cpn-path': 'CPN.51.C151,CPN.51' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBeTruthy();
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(ok.headers.get('cpn-protocol')).toBe('1.0');
    const answer = (await ok.json()) as { record: { id: string }; answeredBy: string; signature: string };
    expect(answer).toMatchObject({ record: { id: r.value.id }, answeredBy: 'CPN' });
    expect(answer.signature).toMatch(/\.\./);

    // Eight nodes passed already: refused by the resolution itself, through the app's error handler.
    const before = await counted('400');
    const looped = await at(r.value.id, { 'cpn-path': Array(8).fill('CPN.51').join(',') });
    expect(looped.status).toBe(400);
    expect(looped.headers.get('x-request-id')).toBeTruthy();
    expect(((await looped.json()) as { error: { code: string; field: string } }).error).toMatchObject({
      code: 'SCHEMA_VIOLATION',
      field: 'cpn-path',
    });
    // A header that is not a list of prefixes: the routed path's 400.
    const bogus = await at(r.value.id, { 'cpn-path': 'CPN.51,not a prefix' });
    expect(bogus.status).toBe(400);
    expect(((await bogus.json()) as { error: { code: string } }).error.code).toBe('INVALID_PREFIX');
    expect(await counted('400')).toBe(before + 2);
    // A well-formed identifier nobody registered: 404 with the error body.
    const missing = await at('CPN/ND-261', { 'cpn-path': 'CPN.51' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

describe('connections', () => {
  it("keeps a peer's idle connection for its next request past Node's 5 s default (wall time)", async () => {
    let opened = 0;
    const count = () => opened++;
    node.server.on('connection', count);
    try {
      const client = createClient({ baseUrl: url });
      expect((await client.node()).ok).toBe(true);
      const before = opened;
      // Quiet for 6 s of wall time: longer than Node's server keep-alive (5 s) and the client's old idle limit (4 s).
      await new Promise((r) => setTimeout(r, 6000));
      expect((await client.node()).ok).toBe(true);
      expect(opened).toBe(before);
      expect(node.server.keepAliveTimeout).toBe(65_000);
    } finally {
      node.server.off('connection', count);
    }
  }, 30_000);
});
