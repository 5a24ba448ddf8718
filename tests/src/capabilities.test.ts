import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPABILITIES, capabilitiesOf, commonCapabilities } from '@cpnet/protocol';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

// Issue 18, version skew: capabilities beyond 1.0 travel in `ext`, which every 1.x schema accepts, in NodeInfo and in
// the joint-debugging handshake; each side keeps what both can use.
let national: TestNode;
let regional: TestNode;

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true });
  const dir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: dir,
    applicationFile: applicationFile(dir, { region: '51', name: '四川区域节点' }),
  });
  await eventually(async () => (await lifecycleOf(regional)) === 'online', 30_000);
}, 60_000);

afterAll(async () => {
  for (const n of [regional, national]) await n?.stop();
  cleanup();
});

describe('capabilities', () => {
  it('NodeInfo advertises them in ext.capabilities', async () => {
    const r = await national.anon.node();
    expect(r.ok && capabilitiesOf(r.value)).toEqual([...CAPABILITIES]);
  });

  it('the joint-debugging handshake leaves both sides with what both can use', () => {
    const atParent = national.node.context.settings.getJson<string[]>('peer.capabilities.CPN.51');
    const atChild = regional.node.context.settings.getJson<string[]>('peer.capabilities.CPN');
    expect(atParent).toEqual([...CAPABILITIES]);
    expect(atChild).toEqual([...CAPABILITIES]);
  });

  it('reads a peer that advertises nothing, or something malformed, as having none', () => {
    expect(capabilitiesOf({})).toEqual([]);
    expect(capabilitiesOf({ ext: { capabilities: 'audit-proofs' } })).toEqual([]);
    expect(capabilitiesOf({ ext: { capabilities: ['audit-proofs', 7, ''] } })).toEqual(['audit-proofs']);
    expect(commonCapabilities(CAPABILITIES, ['audit-proofs', 'from-the-future'])).toEqual(['audit-proofs']);
  });
});
