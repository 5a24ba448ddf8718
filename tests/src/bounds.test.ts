import { createClient, type NodeClient } from '@cpnet/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

let national: TestNode;

/** A client of `target` that signs as the regional node. */
function asRegional(target: TestNode): NodeClient {
  const privateKey = regional.node.context.identity.keys.privateKey;
  return createClient({ baseUrl: target.url, signer: { keyid: 'CPN.51', privateKey } });
}

let regional: TestNode;

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true });
  const rdir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: rdir,
    applicationFile: applicationFile(rdir),
    autoReview: true,
  });
  await eventually(async () => (await lifecycleOf(regional)) === 'online', 15_000);
}, 60_000);

afterAll(async () => {
  for (const n of [regional, national]) await n?.stop();
  cleanup();
});

describe('a record copied upward cannot claim a false owner', () => {
  it('refuses a copy owned by the parent or outside the sender, and the parent cannot edit it', async () => {
    const made = await regional.self.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] });
    if (!made.ok) throw new Error(made.error.message);
    const rec = made.value;
    for (const owner of ['CPN', 'CPN.44']) {
      const pushed = await asRegional(national).pushCopies({ records: [{ ...rec, owner, version: rec.version + 10 }] });
      expect(pushed.ok ? 200 : pushed.status).toBe(403);
      expect(pushed.ok ? undefined : pushed.error.field).toBe('records');
    }
    const edit = await national.self.update(rec.id, {
      version: rec.version + 10,
      values: [{ index: 1, type: 'T', data: 2 }],
    });
    expect(edit.ok).toBe(false);
    const held = await eventually(async () => {
      const r = await national.anon.list({ prefix: 'CPN.51' });
      return r.ok ? r.value.items.find((i) => i.id === rec.id) : null;
    });
    expect(held.owner).toBe('CPN.51');
  });
});
