import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type NodeClient } from '@cpnet/client';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

let national: TestNode;
let regional: TestNode;
const started: TestNode[] = [];

async function reviewer(n: TestNode, id: string): Promise<NodeClient> {
  const created = await n.self.createAccount({
    id,
    name: `评审专家 ${id}`,
    role: 'reviewer',
    password: 'review-pass-1',
  });
  if (!created.ok) throw new Error(created.error.message);
  const t = await n.anon.token({ account: id, password: 'review-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return createClient({ baseUrl: n.url, token: t.value.token });
}

async function applicationOf(n: TestNode, applicant: string) {
  const apps = await n.self.applications();
  return apps.ok ? apps.value.items.find((a) => (a.ext as { applicant?: string }).applicant === applicant) : undefined;
}

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN' });
  const dir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: dir,
    applicationFile: applicationFile(dir),
  });
  started.push(national, regional);
}, 30_000);
afterAll(async () => {
  for (const n of started.reverse()) await n.stop();
  cleanup();
});

describe('review by people (no auto-review)', () => {
  it('the national reviewer approves a regional node; then it joint-debugs and goes online', async () => {
    const app = await eventually(() => applicationOf(national, 'CPN.51'));
    // The national node's listing and its answer to the regional node's application are both held until the same
    // commit is durable (durable-answers.ts), so the regional node may not have read its answer yet (wall time).
    await eventually(async () => (await lifecycleOf(regional)) === 'reviewing', 10_000);
    const nr = await reviewer(national, 'expert-n');
    const wrong = await nr.review(app.id, { decision: 'recommend', opinion: '同意' });
    expect(wrong.ok ? null : wrong.error.field).toBe('decision');
    const ok = await nr.review(app.id, { decision: 'approve', opinion: '材料齐全，符合条件' });
    expect(ok.ok && ok.value.status).toBe('approved');
    await eventually(async () => (await lifecycleOf(regional)) === 'online', 15_000);
  });

  it('an industry node: regional initial review and opinion, national final decision; a not-recommended one is rejected', async () => {
    const rr = await reviewer(regional, 'expert-r');
    const nr = createClient({
      baseUrl: national.url,
      token: (
        (await national.anon.token({ account: 'expert-n', password: 'review-pass-1' })) as {
          ok: true;
          value: { token: string };
        }
      ).value.token,
    });
    const dirA = tempDir();
    const a = await startTestNode({
      role: 'industry',
      code: 'CPN.51.C151',
      parentUrl: regional.url,
      dataDir: dirA,
      applicationFile: applicationFile(dirA, { role: 'industry', industry: 'C151' }),
    });
    started.push(a);
    const appA = await eventually(() => applicationOf(regional, 'CPN.51.C151'));
    const rec = await rr.review(appA.id, { decision: 'recommend', opinion: '初审推荐' });
    expect(rec.ok && rec.value.status).toBe('forwarded');
    const atNational = await eventually(() => applicationOf(national, 'CPN.51.C151'));
    expect(atNational.reviews[0]?.review.decision).toBe('recommend');
    const fin = await nr.review(atNational.id, { decision: 'approve', opinion: '联合复审通过' });
    expect(fin.ok && fin.value.status).toBe('approved');
    await eventually(async () => (await lifecycleOf(a)) === 'online', 15_000);

    // A second applicant that the regional reviewer does not recommend is rejected, and the applicant learns it.
    const dirB = tempDir();
    const b = await startTestNode({
      role: 'industry',
      code: 'CPN.51.C397',
      parentUrl: regional.url,
      dataDir: dirB,
      applicationFile: applicationFile(dirB, { role: 'industry', industry: 'C397' }),
    });
    started.push(b);
    const appB = await eventually(() => applicationOf(regional, 'CPN.51.C397'));
    const other = await rr.review(appB.id, { decision: 'not-recommend', opinion: '不推荐：材料不足' });
    expect(other.ok && other.value.status).toBe('rejected');
    await eventually(async () => (await lifecycleOf(b)) === 'rejected');
  });

  it('only listed reviewers review: a viewer token gets 403', async () => {
    await national.self.createAccount({ id: 'viewer-n', name: '观察员', role: 'viewer', password: 'viewer-pass-1' });
    const t = await national.anon.token({ account: 'viewer-n', password: 'viewer-pass-1' });
    if (!t.ok) throw new Error(t.error.message);
    const viewer = createClient({ baseUrl: national.url, token: t.value.token });
    const app = await applicationOf(national, 'CPN.51');
    const r = await viewer.review(app!.id, { decision: 'reject', opinion: 'x' });
    expect(r.ok ? 0 : r.status).toBe(403);
  });
});
