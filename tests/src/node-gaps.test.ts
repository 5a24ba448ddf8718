import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type NodeClient } from '@cpnet/client';
import { cryptoRandomBytes, ed25519Profile, generateKeyPair } from '@cpnet/security';
import {
  application,
  applicationFile,
  cleanup,
  eventually,
  lifecycleOf,
  startTestNode,
  tempDir,
  type TestNode,
} from './nodes.ts';

const started: TestNode[] = [];
let national: TestNode;

async function account(
  n: TestNode,
  input: { id: string; role: 'reviewer' | 'viewer' | 'operator' },
): Promise<NodeClient> {
  const created = await n.self.createAccount({
    id: input.id,
    name: input.id,
    role: input.role,
    password: 'account-pass-1',
  });
  if (!created.ok) throw new Error(created.error.message);
  const t = await n.anon.token({ account: input.id, password: 'account-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return createClient({ baseUrl: n.url, token: t.value.token });
}

/** An applicant that is only a key: signs its application as the prefix it applies for. */
function applicant(input: { url: string; keyid: string }) {
  const keys = generateKeyPair({ randomBytes: cryptoRandomBytes });
  const client = createClient({ baseUrl: input.url, signer: { keyid: input.keyid, privateKey: keys.privateKey } });
  return { client, publicKey: ed25519Profile.exportPublicKey(keys.publicKey) };
}

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true });
  started.push(national);
}, 30_000);
afterAll(async () => {
  for (const n of started.reverse()) await n.stop();
  cleanup();
});

describe('GET /cpn/v1/applications does not show applicants to just anyone', () => {
  it('401 unauthenticated, 403 for a viewer, 200 for a reviewer, an operator and a signed node', async () => {
    const anon = await national.anon.applications();
    expect(anon.ok ? 200 : anon.status).toBe(401);
    const viewer = await account(national, { id: 'viewer-1', role: 'viewer' });
    const v = await viewer.applications();
    expect(v.ok ? 200 : v.status).toBe(403);
    const reviewer = await account(national, { id: 'reviewer-1', role: 'reviewer' });
    expect((await reviewer.applications()).ok).toBe(true);
    const operator = await account(national, { id: 'operator-1', role: 'operator' });
    expect((await operator.applications()).ok).toBe(true);
    expect((await national.self.applications()).ok).toBe(true);
  });
});

describe('the application deadline (逾期不再受理)', () => {
  it('refuses an application after the deadline with 422 DEADLINE_PASSED', async () => {
    const closed = await startTestNode({
      role: 'national',
      code: 'CPN',
      applicationDeadline: '2020-01-01T00:00:00.000Z',
    });
    started.push(closed);
    const a = applicant({ url: closed.url, keyid: 'CPN.51' });
    const r = await a.client.apply({
      ...application(),
      endpoint: 'http://127.0.0.1:9',
      publicKey: a.publicKey,
    } as never);
    expect(r.ok ? 200 : r.status).toBe(422);
    expect(r.ok ? null : r.error.code).toBe('DEADLINE_PASSED');
  });
});

describe('one industry node per industry, unless a reviewer overrides with a reason', () => {
  it('a second C151 node (in another province) waits for review; approve is refused without the override, accepted with it', async () => {
    const regional = async (region: string) => {
      const dir = tempDir();
      const n = await startTestNode({
        role: 'regional',
        code: `CPN.${region}`,
        parentUrl: national.url,
        autoReview: true,
        dataDir: dir,
        applicationFile: applicationFile(dir, { region, site: { province: region, city: 'c', address: 'a' } }),
      });
      started.push(n);
      await eventually(async () => (await lifecycleOf(n)) === 'online', 20_000);
      return n;
    };
    const r51 = await regional('51');
    const r44 = await regional('44');
    const dir = tempDir();
    const first = await startTestNode({
      role: 'industry',
      code: 'CPN.51.C151',
      parentUrl: r51.url,
      dataDir: dir,
      applicationFile: applicationFile(dir, { role: 'industry', industry: 'C151' }),
    });
    started.push(first);
    await eventually(
      async () =>
        (await national.self.applications()).ok &&
        (
          (await national.self.applications()) as {
            value: { items: { ext: { applicant?: string }; status: string }[] };
          }
        ).value.items.some((a) => a.ext.applicant === 'CPN.51.C151' && a.status === 'approved'),
      20_000,
    );

    const second = applicant({ url: r44.url, keyid: 'CPN.44.C151' });
    const applied = await second.client.apply({
      ...application({
        role: 'industry',
        region: '44',
        industry: 'C151',
        site: { province: '44', city: 'c', address: 'a' },
      }),
      endpoint: 'http://127.0.0.1:9',
      publicKey: second.publicKey,
    } as never);
    expect(applied.ok).toBe(true);
    const atNational = await eventually(async () => {
      const r = await national.self.applications();
      return r.ok
        ? r.value.items.find((a) => (a.ext as { applicant?: string }).applicant === 'CPN.44.C151')
        : undefined;
    });
    expect(atNational.status).toBe('reviewing');
    expect(atNational.reasons.map((x) => x.rule)).toContain('one-industry-per-industry');

    const reviewer = await account(national, { id: 'reviewer-2', role: 'reviewer' });
    const plain = await reviewer.review(atNational.id, { decision: 'approve', opinion: '同意' });
    expect(plain.ok ? 200 : plain.status).toBe(422);
    expect(plain.ok ? '' : plain.error.message).toContain('one-industry-per-industry');
    const overridden = await reviewer.review(atNational.id, {
      decision: 'approve',
      opinion: '同意',
      override: { rule: 'one-industry-per-industry', reason: '广东白酒产业规模大，需要单独的行业节点' },
    });
    expect(overridden.ok && overridden.value.status).toBe('approved');
  }, 60_000);
});

describe('idempotent writes', () => {
  it('a retried registration with the same Idempotency-Key is answered from the database, even after a restart', async () => {
    const dir = tempDir();
    let n = await startTestNode({ role: 'national', code: 'CPN', dataDir: dir });
    const body = { kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://example.cn', ttl: 60 }] };
    const register = (c: NodeClient, key: string, b: unknown = body) =>
      c.request<{ id: string }>({
        method: 'POST',
        path: '/cpn/v1/identifiers',
        body: b,
        headers: { 'idempotency-key': key },
      });
    const first = await register(n.self, 'retry-0001');
    const again = await register(n.self, 'retry-0001');
    expect(first.ok && again.ok && again.value.id).toBe(first.ok ? first.value.id : 'x');
    const [a, b] = await Promise.all([register(n.self, 'retry-0002'), register(n.self, 'retry-0002')]);
    expect(a.ok && b.ok && a.value.id === b.value.id).toBe(true);
    const other = await register(n.self, 'retry-0001', { ...body, kind: 'JB' });
    expect(other.ok ? 200 : other.status).toBe(409);
    const count = async () =>
      ((await n.anon.list({ limit: 100 })) as { value: { items: unknown[] } }).value.items.length;
    const before = await count();
    await n.stop();
    n = await startTestNode({ role: 'national', code: 'CPN', dataDir: dir });
    started.push(n);
    const afterRestart = await register(n.self, 'retry-0001');
    expect(afterRestart.ok && afterRestart.value.id).toBe(first.ok ? first.value.id : 'x');
    expect(await count()).toBe(before);
  });
});

describe('the private key at rest', () => {
  it(
    'is stored encrypted; a generated development passphrase sits beside the database, 0600; a wrong passphrase ' +
      'refuses the start',
    async () => {
      const dir = tempDir();
      const n = await startTestNode({ role: 'national', code: 'CPN', dataDir: dir });
      const stored = n.node.context.settings.get('key.private') ?? '';
      expect(stored).toContain('ENCRYPTED PRIVATE KEY');
      const pass = path.join(dir, 'key-passphrase');
      expect(statSync(pass).mode & 0o777).toBe(0o600);
      expect(readFileSync(pass, 'utf8').trim().length).toBeGreaterThanOrEqual(12);
      const publicKey = n.node.context.identity.publicKeyPem;
      await n.stop();
      const again = await startTestNode({ role: 'national', code: 'CPN', dataDir: dir });
      expect(again.node.context.identity.publicKeyPem).toBe(publicKey);
      await again.stop();
      const wrong = path.join(tempDir(), 'pass');
      writeFileSync(wrong, 'not-the-right-passphrase\n');
      // Through the helper, so under CPNET_TEST_DATABASE=postgres the node finds its database (the folder's).
      await expect(
        startTestNode({ role: 'national', code: 'CPN', dataDir: dir, passphraseFile: wrong }),
      ).rejects.toThrow(/cannot be decrypted/);
    },
  );
});
