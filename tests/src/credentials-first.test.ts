import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@cpnet/protocol';
import { generateKeyPair, signRequest } from '@cpnet/security';
import { systemClock } from '@cpnet/kernel/system';
import { cleanup, startTestNode, type TestNode } from './nodes.ts';

// Issue 17 item 8: a bogus bearer token made the node read the whole body before refusing it; 150 slow 1 MiB bodies
// held memory and answers for 30 s. Credentials are checked on the headers, before a byte of the body is read.
let n: TestNode;
beforeAll(async () => {
  n = await startTestNode({ role: 'national', code: 'CPN' });
});
afterAll(async () => {
  await n.stop();
  cleanup();
});

const MiB = 1024 * 1024;

/**
 * Starts a POST declaring a 1 MiB body, sends 16 KiB of it and then nothing: resolves with the status if the node
 * answers before the body is complete, or 'waiting' after 3 s.
 */
function slowPost(path: string, headers: Record<string, string>): Promise<number | 'waiting'> {
  const u = new URL(n.url);
  return new Promise((resolve) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(MiB), ...headers },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('waiting');
    }, 3000);
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(16 * 1024, 0x20));
  });
}

/** Headers of a request signed by a key the node does not know, its digest covering the 1 MiB body never sent. */
function signedByStranger(path: string): Record<string, string> {
  const headers: Record<string, string> = { [PROTOCOL_HEADER]: PROTOCOL_VERSION, 'content-type': 'application/json' };
  const sig = signRequest(
    { method: 'POST', url: `${n.url}${path}`, headers, body: new Uint8Array(MiB) },
    { keyid: '91510100MA6CZZZZ3X', privateKey: generateKeyPair().privateKey, clock: systemClock },
  );
  return { ...headers, ...sig };
}

describe('credentials are checked before the body is read', () => {
  it.each(['/cpn/v1/identifiers', '/cpn/v1/jobs', '/cpn/v1/emergency', '/cpn/v1/accounts'])(
    'a bogus bearer token with a large slow body: 401 on %s before the body completes',
    async (path) => {
      expect(await slowPost(path, { authorization: 'Bearer not-a-token', [PROTOCOL_HEADER]: PROTOCOL_VERSION })).toBe(
        401,
      );
    },
  );

  it('an unknown signer with a large slow body: 401 before the body completes (the signature covers the digest)', async () => {
    expect(await slowPost('/cpn/v1/identifiers', signedByStranger('/cpn/v1/identifiers'))).toBe(401);
  });

  it('a signature without Content-Digest over a body: 401 before the body completes', async () => {
    const headers = signedByStranger('/cpn/v1/identifiers');
    delete headers['content-digest'];
    expect(await slowPost('/cpn/v1/identifiers', headers)).toBe(401);
  });

  it('self-keyed routes (the key travels in the body) refuse a large body by its Content-Length: 413', async () => {
    for (const path of ['/cpn/v1/providers', '/cpn/v1/applications'])
      expect(await slowPost(path, signedByStranger(path))).toBe(413);
  });

  it('a valid signature whose digest does not match the body it covers: 401 once the body is read', async () => {
    const body = JSON.stringify({ kind: 'SV', values: [] });
    const headers: Record<string, string> = { [PROTOCOL_HEADER]: PROTOCOL_VERSION, 'content-type': 'application/json' };
    const sig = signRequest(
      { method: 'POST', url: `${n.url}/cpn/v1/identifiers`, headers, body: '{"other":1}' },
      { keyid: 'CPN', privateKey: n.node.context.identity.keys.privateKey, clock: systemClock },
    );
    const res = await fetch(`${n.url}/cpn/v1/identifiers`, { method: 'POST', headers: { ...headers, ...sig }, body });
    const out = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, out.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(out.error.message).toMatch(/Content-Digest does not match the body/);
  });
});
