import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@cpnet/client';
import { offsetClock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { Grant, ROUTES } from '@cpnet/protocol';
import { certificateValidity } from '@cpnet/security';
import { renewIfDue } from '@cpnet/node';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

// Issue 16: certificates follow the node's clock and are renewed by the parent before they expire (same key, a new
// validity period, the parent's current chain handed down). Here with 3-day certificates and real time; the 120-day
// simulation (sim-clock.test.ts) shows renewals happening on their own across calendar jumps.
const DAY = 86_400_000;
let national: TestNode;
let regional: TestNode;

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true, certificateLifetimeDays: 3 });
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

const renewAs = (signer: TestNode, code: string) =>
  createClient({
    baseUrl: national.url,
    signer: { keyid: code, privateKey: signer.node.context.identity.keys.privateKey },
  }).request({ method: 'POST', path: ROUTES.certificateRenewal, body: { reason: 'test' } });

describe('certificate renewal', () => {
  it('is not asked for before two thirds of the life have passed', async () => {
    expect(await renewIfDue(regional.node.context)).toBe('not-due');
  });

  it('renews a child with the same key once due: new validity, the parent chain, a delegation, kept by the child', async () => {
    const before = regional.node.context.identity.certificate!;
    const granted = certificateValidity(before);
    if (!granted.ok) throw new Error(granted.error);
    expect(granted.value.notAfter - granted.value.notBefore).toBe(4 * DAY); // a day back for skew, three ahead
    // The child's clock two and a half days on: due. Requests are still signed at the real time.
    // Certificates hold whole seconds: a renewal in the grant's own second would carry the same dates.
    await new Promise((r) => setTimeout(r, 1100)); // wall time
    const ctx = regional.node.context;
    const later = { ...ctx, deps: { ...ctx.deps, clock: offsetClock(systemClock, 2.5 * DAY) } };
    expect(await renewIfDue(later)).toBe('renewed');
    const after = ctx.identity.certificate!;
    expect(after).not.toBe(before);
    const renewed = certificateValidity(after);
    expect(renewed.ok && renewed.value.notAfter).toBeGreaterThan(granted.value.notAfter);
    // NodeInfo shows the new certificate; the parent's peer entry holds it too; it survives a restart (settings).
    const info = await regional.anon.node();
    expect(info.ok && info.value.certificate).toBe(after);
    expect((await national.node.context.db.peers.byPrefix('CPN.51'))?.certificate).toBe(after);
    expect(ctx.settings.get('certificate')).toBe(after);
  });

  it('answers a child with a grant the contract describes', async () => {
    const r = await renewAs(regional, 'CPN.51');
    expect(r.ok).toBe(true);
    expect(Grant.safeParse(r.ok ? r.value : null).success).toBe(true);
  });

  it('refuses a node that is not a child here, and a suspended child, naming why; nothing changes', async () => {
    const self = await renewAs(national, 'CPN');
    expect(self.ok).toBe(false);
    if (!self.ok)
      expect(self).toMatchObject({ status: 403, error: { message: expect.stringContaining('is not a child of CPN') } });
    const held = (await national.node.context.db.peers.byPrefix('CPN.51'))?.certificate;
    const suspend = await national.self.emergency({
      action: 'suspend',
      target: 'CPN.51',
      reason: '整改: 测试暂停续期',
    });
    expect(suspend.ok).toBe(true);
    const r = await renewAs(regional, 'CPN.51');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r).toMatchObject({ status: 403, error: { message: expect.stringContaining('is suspended') } });
    expect((await national.node.context.db.peers.byPrefix('CPN.51'))?.certificate).toBe(held);
  });
});
