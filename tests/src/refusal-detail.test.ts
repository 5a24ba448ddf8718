import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureBaseOf } from '@cpnet/cli';
import { createFakeClock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@cpnet/protocol';
import { generateKeyPair, seededRandomBytes, signRequest, type PrivateKeyHandle } from '@cpnet/security';
import { cleanup, startTestNode, type TestNode } from './nodes.ts';

// Issue 18: a 401 for a bad signature shows the signature base the node verified and its own clock, so a team
// whose signer differs can compare bases line by line; a refusal about time shows the server time.
let national: TestNode;

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN' });
}, 60_000);

afterAll(async () => {
  await national?.stop();
  cleanup();
});

async function send(o: { privateKey: PrivateKeyHandle; at?: number }) {
  const url = `${national.url}/cpn/v1/applications`;
  const headers: Record<string, string> = { [PROTOCOL_HEADER]: PROTOCOL_VERSION };
  const sig = signRequest(
    { method: 'GET', url, headers },
    { keyid: 'CPN', privateKey: o.privateKey, clock: o.at === undefined ? systemClock : createFakeClock(o.at) },
  );
  const res = await fetch(url, { headers: { ...headers, ...sig } });
  const body = (await res.json()) as { error: { code: string; message: string; detail?: Record<string, string> } };
  return {
    status: res.status,
    body,
    base: signatureBaseOf({ method: 'GET', url, headers: { ...headers, ...sig } }, sig['signature-input']),
  };
}

describe('a refused signature says what the node verified', () => {
  it('a signature that does not verify: 401 with the signature base the node rebuilt and its clock', async () => {
    const stranger = generateKeyPair({ profile: 'ed25519', randomBytes: seededRandomBytes(99) });
    const before = Date.now();
    const r = await send({ privateKey: stranger.privateKey });
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('the signature does not verify');
    expect(r.body.error.detail?.signatureBase).toBe(r.base);
    const serverTime = Date.parse(r.body.error.detail?.serverTime ?? '');
    expect(serverTime).toBeGreaterThanOrEqual(before - 1000);
    expect(serverTime).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('an expired signature: 401 with the server time and no base (the bytes were never checked)', async () => {
    const r = await send({ privateKey: national.node.context.identity.keys.privateKey, at: Date.now() - 600_000 });
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/expired/);
    expect(Math.abs(Date.parse(r.body.error.detail?.serverTime ?? '') - Date.now())).toBeLessThan(5000);
    expect(r.body.error.detail?.signatureBase).toBeUndefined();
  });
});
