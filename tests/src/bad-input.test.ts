import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@cpnet/client';
import { generateKeyPair } from '@cpnet/security';
import { cleanup, startTestNode, type TestNode } from './nodes.ts';

let n: TestNode;
beforeAll(async () => {
  n = await startTestNode({ role: 'national', code: 'CPN' });
});
afterAll(async () => {
  await n.stop();
  cleanup();
});

async function status(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; error: { code: string; field?: string; message: string } }> {
  const res = await fetch(n.url + path, init);
  const body = (await res.json()) as { error: { code: string; field?: string; message: string } };
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
  return { status: res.status, error: body.error };
}

describe('a catalogue of bad input: 4xx with a clear error, never a 500', () => {
  it.each([
    ['/cpn/v1/identifiers/CPN.51/ND-1EK', 'check'],
    ['/cpn/v1/identifiers/CPN.99/ND-1EJ', 'region'],
    ['/cpn/v1/identifiers/CPN.51/XX-1EJ', 'kind'],
    ['/cpn/v1/identifiers/CPN.51%2FND-1O', 'serial'],
    ['/cpn/v1/identifiers/%E5%9B%BD/ND-1', 'input'],
  ])('GET %s → 400 naming %s', async (path, field) => {
    const r = await status(path);
    expect(r.status).toBe(400);
    expect(r.error.code).toBe('INVALID_IDENTIFIER');
    expect(r.error.field).toBe(field);
  });

  it('answers 400 for broken percent-encoding', async () => {
    expect((await status('/cpn/v1/identifiers/%ZZ')).status).toBe(400);
  });

  it('answers 404 for a well-formed unknown identifier and an unknown route', async () => {
    expect((await status('/cpn/v1/identifiers/CPN.51/ND-1EJ')).status).toBe(404);
    expect((await status('/cpn/v1/nothing')).status).toBe(404);
  });

  it('refuses unsigned writes with 401 whatever the body', async () => {
    for (const body of ['{bad json', 'x'.repeat(2_000_000), JSON.stringify({ kind: 'SV', values: [] })]) {
      const r = await status('/cpn/v1/identifiers', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(r.status).toBe(401);
    }
    expect((await status('/cpn/v1/emergency', { method: 'POST' })).status).toBe(401);
  });

  it('refuses a forged signature (401), and a signer who may not act (403)', async () => {
    const forged = createClient({ baseUrl: n.url, signer: { keyid: 'CPN', privateKey: generateKeyPair().privateKey } });
    const r = await forged.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] });
    expect(r.ok ? 0 : r.status).toBe(401);
    const stranger = createClient({
      baseUrl: n.url,
      signer: { keyid: 'CPN.51', privateKey: generateKeyPair().privateKey },
    });
    expect((await stranger.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] })).status).toBe(401);
    const other = await n.self.register({ kind: 'SV', prefix: 'CPN.51', values: [{ index: 1, type: 'T', data: 1 }] });
    expect(other.ok ? 0 : other.status).toBe(403);
  });

  it('answers 413 over the body limit, 400 for malformed JSON and unknown fields, 415 for a non-JSON body', async () => {
    expect(
      (
        await n.self.request({
          method: 'POST',
          path: '/cpn/v1/identifiers',
          body: JSON.stringify({ kind: 'SV', values: [{ index: 1, type: 'T', data: 'x'.repeat(1_100_000) }] }),
        })
      ).status,
    ).toBe(413);
    const malformed = await n.self.request({ method: 'POST', path: '/cpn/v1/identifiers', body: '{"kind": "SV",' });
    expect(malformed.ok ? null : malformed.error.code).toBe('MALFORMED_JSON');
    const unknown = await n.self.register({
      kind: 'SV',
      values: [{ index: 1, type: 'T', data: 1, colour: 'red' }],
    } as never);
    expect(unknown.ok ? null : unknown.error).toMatchObject({ status: 400, field: 'values.0.colour' });
    const wrongKind = await n.self.register({ kind: 'ZZ', values: [{ index: 1, type: 'T', data: 1 }] } as never);
    expect(wrongKind.ok ? null : wrongKind.error).toMatchObject({ status: 400, field: 'kind' });
    const text = await n.self.request({
      method: 'POST',
      path: '/cpn/v1/identifiers',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const withExt = await n.self.register({
      kind: 'SV',
      values: [{ index: 1, type: 'T', data: 1 }],
      ext: { anything: true },
    });
    expect(withExt.ok).toBe(true);
  });

  it('refuses another protocol major version (400), on reads and signed writes', async () => {
    expect((await status('/cpn/v1/node', { headers: { 'cpn-protocol': '2.0' } })).status).toBe(400);
    const r = await n.self.request({
      method: 'POST',
      path: '/cpn/v1/identifiers',
      body: { kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] },
      headers: { 'cpn-protocol': '2.0' },
    });
    expect(r.ok ? null : r.error).toMatchObject({ status: 400, code: 'UNSUPPORTED_VERSION' });
  });

  it('refuses a replayed signed write (401)', async () => {
    const path = '/cpn/v1/joint-debug/echo';
    const { buildHeaders } = await import('@cpnet/client');
    const url = n.url + path;
    const text = '{}';
    const headers = buildHeaders(n.self.options, { method: 'POST', path, url, text });
    expect((await fetch(url, { method: 'POST', headers, body: text })).status).toBe(200);
    expect((await fetch(url, { method: 'POST', headers, body: text })).status).toBe(401);
  });

  it('validates paging and event queries', async () => {
    expect((await status('/cpn/v1/identifiers?limit=0')).status).toBe(400);
    expect((await status('/cpn/v1/events?type=nope')).status).toBe(400);
  });
});

describe('people: accounts and tokens', () => {
  it('lets the node create accounts; a token authenticates; a viewer may not register', async () => {
    const created = await n.self.createAccount({
      id: 'viewer1',
      name: '观察员',
      role: 'viewer',
      password: 'correct horse',
    });
    expect(created.ok).toBe(true);
    const bad = await n.anon.token({ account: 'viewer1', password: 'wrong password' });
    expect(bad.status).toBe(401);
    const t = await n.anon.token({ account: 'viewer1', password: 'correct horse' });
    if (!t.ok) throw new Error(t.error.message);
    const viewer = createClient({ baseUrl: n.url, token: t.value.token });
    const r = await viewer.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] });
    expect(r.ok ? 0 : r.status).toBe(403);
    const forgedToken = createClient({ baseUrl: n.url, token: `${t.value.token}x` });
    expect((await forgedToken.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] })).status).toBe(401);
  });
});
