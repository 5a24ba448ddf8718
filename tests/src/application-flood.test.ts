import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@cpnet/client';
import { cryptoRandomBytes, ed25519Profile, generateKeyPair } from '@cpnet/security';
import { application, cleanup, startTestNode, type TestNode } from './nodes.ts';

// Issue 17, item 11: anyone can make a key and apply; refused applications from fresh keys must not pile up.
let national: TestNode;

function applicant(keyid: string) {
  const keys = generateKeyPair({ randomBytes: cryptoRandomBytes });
  const client = createClient({ baseUrl: national.url, signer: { keyid, privateKey: keys.privateKey } });
  return { client, publicKey: ed25519Profile.exportPublicKey(keys.publicKey) };
}

const broke = (publicKey: string) =>
  ({
    ...application({
      region: '52',
      site: { province: '52', city: '贵阳', address: 'x' },
      builder: {
        name: '资本不足公司',
        creditCode: '91510100MA6CXXXX1D',
        registeredCapitalWanYuan: 10,
        fundingCapacityDeclared: true,
      },
    }),
    endpoint: 'http://127.0.0.1:9',
    publicKey,
  }) as never;

beforeAll(async () => {
  national = await startTestNode({
    role: 'national',
    code: 'CPN',
    limits: { applications: { refusalsPerAddress: 10, refusalLog: 5, perKey: 3 } },
  });
}, 30_000);
afterAll(async () => {
  await national.stop();
  cleanup();
});

describe('a flood of applications', () => {
  it('one key is throttled (429 RATE_LIMITED after its limit)', async () => {
    const a = applicant('CPN.52');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await a.client.apply(broke(a.publicKey));
      statuses.push(r.ok ? 200 : r.status);
    }
    expect(statuses).toEqual([422, 422, 422, 429]);
  });

  it('refusals from fresh keys are throttled per address (429), kept in a bounded log, and raise no public event', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 27; i++) {
      const a = applicant('CPN.52');
      const r = await a.client.apply(broke(a.publicKey));
      statuses.push(r.ok ? 200 : r.status);
    }
    // 3 refusals above and 7 here reach this node's limit of 10 per address.
    expect(statuses.slice(0, 7)).toEqual(Array(7).fill(422));
    expect(statuses.slice(7)).toEqual(Array(20).fill(429));
    const apps = await national.self.applications();
    expect(apps.ok && apps.value.items.filter((x) => x.status === 'rejected').length).toBe(5);
    const ev = await national.anon.request<{ items: unknown[] }>({
      method: 'GET',
      path: '/cpn/v1/events?type=application.*',
    });
    expect(ev.ok && ev.value.items).toEqual([]);
  });
});
