import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@cpnet/client';
import { checkPeerIdentity } from '@cpnet/node';
import { ed25519Profile, generateKeyPair, issueCertificate, issueRootCertificate } from '@cpnet/security';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

type Seen = { encrypted: boolean; method: string; url: string; keyid: string | null };

let national: TestNode;
let regional: TestNode;
const seenAtNational: Seen[] = [];
const seenAtRegional: Seen[] = [];

function recordRequests(n: TestNode, into: Seen[]): void {
  n.node.server.on('request', (req: IncomingMessage) => {
    const input = String(req.headers['signature-input'] ?? '');
    into.push({
      encrypted: (req.socket as TLSSocket).encrypted === true,
      method: req.method ?? '',
      url: req.url ?? '',
      keyid: /keyid="([^"]+)"/.exec(input)?.[1] ?? null,
    });
  });
}

const tlsEndpointOf = async (n: TestNode): Promise<string | undefined> => {
  const r = await n.anon.node();
  return r.ok ? r.value.tlsEndpoint : undefined;
};

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true, tls: { enabled: true, port: 0 } });
  recordRequests(national, seenAtNational);
  const rdir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: rdir,
    applicationFile: applicationFile(rdir),
    autoReview: true,
    tls: { enabled: true, port: 0 },
  });
  recordRequests(regional, seenAtRegional);
  await eventually(async () => (await lifecycleOf(regional)) === 'online', 15_000);
}, 60_000);

afterAll(async () => {
  for (const n of [regional, national]) await n?.stop();
  cleanup();
});

describe('TLS node links with the PKI certificates', () => {
  it('the national node serves https from the start; the regional node once it holds its certificate', async () => {
    expect(await tlsEndpointOf(national)).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await tlsEndpointOf(regional)).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // The regional node's ND record at the national node advertises it too.
    const nd = await national.anon.list({ prefix: 'CPN' });
    // (The live ND record: auto-review can leave a duplicate 'approved' one behind, a known issue outside TLS.)
    const data = nd.ok
      ? nd.value.items
          .map((r) => r.values[0]?.data as { prefix?: string; lifecycle?: string; tlsEndpoint?: string })
          .find((d) => d.prefix === 'CPN.51' && d.lifecycle === 'online')
      : undefined;
    expect(data?.tlsEndpoint).toBe(await tlsEndpointOf(regional));
  });

  it('onboarding starts over plain HTTP, and the links after the grant go over TLS', () => {
    const fromRegional = seenAtNational.filter((s) => s.keyid === 'CPN.51');
    expect(fromRegional.some((s) => !s.encrypted && s.method === 'POST' && s.url === '/cpn/v1/applications')).toBe(
      true,
    );
    const jointDebug = fromRegional.filter((s) => s.method === 'POST' && s.url === '/cpn/v1/joint-debug');
    expect(jointDebug.length).toBeGreaterThan(0);
    expect(jointDebug.every((s) => s.encrypted)).toBe(true);
  });

  it('record copies travel upward over TLS', async () => {
    const r = await regional.self.register({
      kind: 'SV',
      values: [{ index: 1, type: 'CPN_SERVICE', data: { name: 'tls' }, ttl: 1 }],
    });
    expect(r.ok).toBe(true);
    await eventually(async () =>
      seenAtNational.some((s) => s.keyid === 'CPN.51' && s.url === '/cpn/v1/copies' && s.encrypted),
    );
    expect(
      seenAtNational.filter((s) => s.keyid === 'CPN.51' && s.url === '/cpn/v1/copies').every((s) => s.encrypted),
    ).toBe(true);
  });

  it('resolution goes up and down over TLS', async () => {
    const up = await national.self.register({
      kind: 'SV',
      values: [{ index: 1, type: 'CPN_SERVICE', data: { name: 'up' }, ttl: 1 }],
    });
    expect(up.ok).toBe(true);
    if (!up.ok) return;
    const a = await regional.anon.resolve(up.value.id);
    expect(a.ok && a.value).toMatchObject({ answeredBy: 'CPN', authoritative: true });
    const forwarded = seenAtNational.filter(
      (s) =>
        s.method === 'GET' &&
        s.url.startsWith('/cpn/v1/identifiers/') &&
        decodeURIComponent(s.url).includes(up.value.id),
    );
    expect(forwarded.length).toBeGreaterThan(0);
    expect(forwarded.every((s) => s.encrypted)).toBe(true);

    // Down: the national node learnt the regional https endpoint at joint debugging.
    const down = await regional.self.register({
      kind: 'SV',
      values: [{ index: 1, type: 'CPN_SERVICE', data: { name: 'down' }, ttl: 1 }],
    });
    expect(down.ok).toBe(true);
    if (!down.ok) return;
    const b = await national.anon.resolve(down.value.id);
    expect(b.ok && b.value).toMatchObject({ answeredBy: 'CPN.51', authoritative: true });
    const atRegional = seenAtRegional.filter(
      (s) => s.method === 'GET' && decodeURIComponent(s.url).includes(down.value.id),
    );
    expect(atRegional.length).toBeGreaterThan(0);
    expect(atRegional.every((s) => s.encrypted)).toBe(true);
  });

  it('a client bound to another prefix refuses the certificate; the right prefix is accepted', async () => {
    const root = national.node.context.identity.root!;
    const endpoint = (await tlsEndpointOf(national))!;
    const right = await createClient({
      baseUrl: endpoint,
      tls: { ca: root, checkServerIdentity: checkPeerIdentity('CPN') },
    }).node();
    expect(right.ok && right.value.code).toBe('CPN');
    const wrong = await createClient({
      baseUrl: endpoint,
      tls: { ca: root, checkServerIdentity: checkPeerIdentity('CPN.52') },
    }).node();
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.error.message).toContain('names cpn:CPN, expected cpn:CPN.52');
    const regionalTls = (await tlsEndpointOf(regional))!;
    const asNational = await createClient({
      baseUrl: regionalTls,
      tls: { ca: root, checkServerIdentity: checkPeerIdentity('CPN') },
    }).node();
    expect(!asNational.ok && asNational.error.message).toContain('names cpn:CPN.51, expected cpn:CPN');
  });

  it('a certificate not chaining to the national root is refused', async () => {
    const root = national.node.context.identity.root!;
    const now = Date.now();
    // A rogue PKI: its own "CPN" root and a "CPN.51" certificate, served over TLS 1.3.
    const rogueKeys = generateKeyPair();
    const rogueRoot = await issueRootCertificate({
      notBefore: now - 60_000,
      notAfter: now + 86_400_000,
      privateKey: rogueKeys.privateKey,
    });
    const leafKeys = generateKeyPair();
    const leaf = await issueCertificate(
      { subject: 'CPN.51', publicKey: leafKeys.publicKey, notBefore: now - 60_000, notAfter: now + 86_400_000 },
      { certificate: rogueRoot, privateKey: rogueKeys.privateKey },
    );
    const rogue = https.createServer(
      {
        key: ed25519Profile.exportPrivateKey(leafKeys.privateKey),
        cert: `${leaf}\n${rogueRoot}`,
        minVersion: 'TLSv1.3',
      },
      (_req, res) => res.end('{}'),
    );
    await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
    try {
      const port = (rogue.address() as { port: number }).port;
      const refused = await createClient({
        baseUrl: `https://127.0.0.1:${port}`,
        tls: { ca: root, checkServerIdentity: checkPeerIdentity('CPN.51') },
      }).node();
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.status).toBe(0);
      // The rogue root has the real root's DN (CN=cpn:CPN), so OpenSSL finds the real root and its signature fails.
      expect(!refused.ok && refused.error.message).toMatch(
        /certificate signature failure|unable to get local issuer certificate/,
      );
      // And the national node's real https endpoint is refused by a client trusting only the rogue root.
      const reversed = await createClient({
        baseUrl: (await tlsEndpointOf(national))!,
        tls: { ca: rogueRoot, checkServerIdentity: checkPeerIdentity('CPN') },
      }).node();
      expect(reversed.ok).toBe(false);
      expect(!reversed.ok && reversed.error.message).toMatch(/self-signed certificate|certificate signature failure/);
    } finally {
      rogue.closeAllConnections();
      await new Promise<void>((resolve) => rogue.close(() => resolve()));
    }
  });
});
