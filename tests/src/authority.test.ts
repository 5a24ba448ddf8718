import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@cpnet/protocol';
import { signRequest } from '@cpnet/security';
import { systemClock } from '@cpnet/kernel/system';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

// Issue 17 item 4: `@target-uri` was rebuilt from the Host header and never compared with the node's own authority,
// so a request the national node signed for CPN.44 was accepted by its sibling CPN.51.
const ALIAS = 'http://cpn44-standby.example:8044';
let national: TestNode;
let r44: TestNode;
let r51: TestNode;

async function regional(code: string, region: string, extra: { aliases?: string[] } = {}): Promise<TestNode> {
  const dir = tempDir();
  const n = await startTestNode({
    role: 'regional',
    code,
    parentUrl: national.url,
    dataDir: dir,
    applicationFile: applicationFile(dir, { region, name: `${region} 区域节点` }),
    ...extra,
  });
  await eventually(async () => (await lifecycleOf(n)) === 'online', 20_000);
  return n;
}

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true });
  r44 = await regional('CPN.44', '44', { aliases: [ALIAS] });
  r51 = await regional('CPN.51', '51');
}, 60_000);

afterAll(async () => {
  for (const n of [r51, r44, national]) await n?.stop();
  cleanup();
});

/** Headers of a GET the national node signs for `target` (the URL the signer meant). */
function signedFor(target: string, nonce?: string): Record<string, string> {
  const headers: Record<string, string> = { [PROTOCOL_HEADER]: PROTOCOL_VERSION };
  const sig = signRequest(
    { method: 'GET', url: target, headers },
    {
      keyid: 'CPN',
      privateKey: national.node.context.identity.keys.privateKey,
      clock: systemClock,
      ...(nonce ? { nonce } : {}),
    },
  );
  return { ...headers, ...sig };
}

/** Sends a GET to `node` with the given headers, `Host` included (as a proxy that keeps it would). */
function send(node: TestNode, o: { path: string; host: string; headers: Record<string, string> }) {
  const u = new URL(node.url);
  return new Promise<{ status: number; body: { error?: { code: string; message: string } } }>((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: o.path, method: 'GET', headers: { ...o.headers, host: o.host } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const PATH = '/cpn/v1/applications';

describe('a signature is accepted only for the node it names', () => {
  it('a request signed for CPN.44 is accepted there and refused by its sibling CPN.51 (401 naming both)', async () => {
    const host44 = new URL(r44.url).host;
    const headers = signedFor(`${r44.url}${PATH}`);
    // Replayed first to the sibling, Host kept: the sibling must not take it for its own.
    const sibling = await send(r51, { path: PATH, host: host44, headers });
    expect(sibling.status).toBe(401);
    expect(sibling.body.error?.code).toBe('UNAUTHENTICATED');
    expect(sibling.body.error?.message).toContain(`the signature is for ${r44.url}`);
    expect(sibling.body.error?.message).toContain(`not for this node (${r51.url}`);
    // The node it was meant for still takes it: the sibling did not spend its nonce.
    expect((await send(r44, { path: PATH, host: host44, headers })).status).toBe(200);
  });

  it('a configured alias is the node’s own, and one replay memory covers the node’s URL and every alias', async () => {
    const aliasHost = new URL(ALIAS).host;
    const nonce = `alias-${Date.now()}`;
    expect(
      (await send(r44, { path: PATH, host: aliasHost, headers: signedFor(`${ALIAS}${PATH}`, nonce) })).status,
    ).toBe(200);
    // The same nonce again, now signed for the node's own URL: a replay across authorities.
    const again = await send(r44, {
      path: PATH,
      host: new URL(r44.url).host,
      headers: signedFor(`${r44.url}${PATH}`, nonce),
    });
    expect(again.status).toBe(401);
    expect(again.body.error?.code).toBe('REPLAYED');
    // The alias belongs to CPN.44 only.
    const elsewhere = await send(r51, { path: PATH, host: aliasHost, headers: signedFor(`${ALIAS}${PATH}`) });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error?.message).toContain(`the signature is for ${ALIAS}`);
  });
});
