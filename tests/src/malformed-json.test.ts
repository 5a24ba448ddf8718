import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@cpnet/client';
import { generateKeyPair } from '@cpnet/security';
import { cleanup, startTestNode, type TestNode } from './nodes.ts';
import { registerProvider, type TestProvider } from './providers.ts';

// Issue 17 item 13: invalid JSON signed by a known provider answered 401, because the write wrapper parsed the body
// to look for a key in it before looking the signer up. The signature is checked first; then the JSON is 400.
let n: TestNode;
let provider: TestProvider;
beforeAll(async () => {
  n = await startTestNode({ role: 'national', code: 'CPN' });
  provider = await registerProvider(n.url, 1);
});
afterAll(async () => {
  await n.stop();
  cleanup();
});

const BAD = '{"provider": "x", oops';

describe('invalid JSON from a signer the node knows is 400 MALFORMED_JSON once the signature verifies', () => {
  it('a provider registering a cluster (its key is known, not in the body)', async () => {
    const r = await provider.client.request({ method: 'POST', path: '/cpn/v1/clusters', body: BAD });
    expect(r.ok ? r.status : [r.status, r.error.code]).toEqual([400, 'MALFORMED_JSON']);
  });

  it('the node itself registering an identifier', async () => {
    const r = await n.self.request({ method: 'POST', path: '/cpn/v1/identifiers', body: BAD });
    expect(r.ok ? r.status : [r.status, r.error.code]).toEqual([400, 'MALFORMED_JSON']);
  });

  it('a forged signature over invalid JSON is still 401 (the signature comes first)', async () => {
    const forger = createClient({
      baseUrl: n.url,
      signer: { keyid: provider.id, privateKey: generateKeyPair().privateKey },
    });
    const r = await forger.request({ method: 'POST', path: '/cpn/v1/clusters', body: BAD });
    expect(r.ok ? r.status : [r.status, r.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('self-keyed routes (the key travels in the body): invalid JSON is 400 MALFORMED_JSON whoever signed', () => {
  it.each(['/cpn/v1/providers', '/cpn/v1/applications'])('POST %s', async (path) => {
    const stranger = createClient({
      baseUrl: n.url,
      signer: { keyid: '91510100MA6CZZZZ3X', privateKey: generateKeyPair().privateKey },
    });
    const r = await stranger.request({ method: 'POST', path, body: BAD });
    expect(r.ok ? r.status : [r.status, r.error.code]).toEqual([400, 'MALFORMED_JSON']);
  });
});
