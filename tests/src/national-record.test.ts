import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, startTestNode, tempDir, type TestNode } from './nodes.ts';

const started: TestNode[] = [];

afterAll(async () => {
  for (const n of started) await n.stop();
  cleanup();
});

async function national(dataDir: string, publicUrl?: string): Promise<TestNode> {
  const n = await startTestNode({ role: 'national', code: 'CPN', dataDir, ...(publicUrl ? { publicUrl } : {}) });
  started.push(n);
  return n;
}

/** The national node's own ND record as any client reads it, by the URL the vectors give. */
async function ownRecord(n: TestNode) {
  // The listening address, not `n.url`, which is the public URL when one is configured.
  const address = n.node.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const res = await fetch(`http://127.0.0.1:${port}/cpn/v1/identifiers/CPN%2FND-16Q`, {
    headers: { 'cpn-protocol': '1.0' },
  });
  const body = (await res.json()) as {
    record: { id: string; owner: string; version: number; values: { data: { endpoint: string; prefix: string } }[] };
  };
  return { status: res.status, record: body.record };
}

describe("the national node's own ND record (CPN/ND-16Q)", () => {
  it('is registered at first start with the endpoint, kept once across a restart, and its serial never reissued', async () => {
    const dir = tempDir();
    const first = await national(dir);
    const a = await ownRecord(first);
    expect(a.status).toBe(200);
    expect(a.record).toMatchObject({ id: 'CPN/ND-16Q', owner: 'CPN', version: 1 });
    expect(a.record.values[0]!.data).toMatchObject({ prefix: 'CPN', endpoint: first.url });

    // The serial is taken: neither a chosen serial nor the allocator hands it out again, whatever the kind.
    const values = [{ index: 1, type: 'NOTE', data: 'x' }];
    const again = await first.self.register({ kind: 'PV', serial: '1', values });
    expect(again.ok ? again.status : again.error.code).toBe('CONFLICT');
    const allocated = await first.self.register({ kind: 'ND', values });
    expect(allocated.ok && allocated.value.id).not.toBe('CPN/ND-16Q');
    await first.stop();

    const second = await national(dir);
    expect(second.url).not.toBe(first.url);
    const b = await ownRecord(second);
    expect(b.status).toBe(200);
    // The new endpoint is a new version of the same record, not a second record.
    expect(b.record).toMatchObject({ id: 'CPN/ND-16Q', version: 2 });
    expect(b.record.values[0]!.data.endpoint).toBe(second.url);
    const list = await second.anon.list({ prefix: 'CPN' });
    if (!list.ok) throw new Error(JSON.stringify(list.error));
    const nd = list.value.items.filter(
      (r) => r.kind === 'ND' && (r.values[0]?.data as { prefix?: string }).prefix === 'CPN',
    );
    expect(nd.map((r) => r.id)).toEqual(['CPN/ND-16Q']);
    await second.stop();
  });

  it('is not rewritten by a restart that changes nothing (a fixed public URL)', async () => {
    const dir = tempDir();
    const publicUrl = 'http://cpn.example.cn:8080';
    await (await national(dir, publicUrl)).stop();
    const n = await national(dir, publicUrl);
    const r = await ownRecord(n);
    expect(r.status).toBe(200);
    expect(r.record.version).toBe(1);
    expect(r.record.values[0]!.data.endpoint).toBe(publicUrl);
  });
});
