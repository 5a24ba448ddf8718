import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type NodeClient } from '@cpnet/client';
import type { AcceptanceCase } from '@cpnet/protocol';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

// A national node that approves by the rules but accepts (验收) only by an officer's decision; a regional node that
// applies, is approved, joint-debugs and then waits (待验收). Real nodes on 127.0.0.1, real signatures, real SQLite.
let national: TestNode;
let regional: TestNode;
const started: TestNode[] = [];
const CASE = '/cpn/v1/acceptance/cases/CPN.51';

async function person(n: TestNode, id: string, role: string): Promise<NodeClient> {
  const created = await n.self.createAccount({ id, name: id, role: role as 'viewer', password: 'accept-pass-1' });
  if (!created.ok) throw new Error(created.error.message);
  const t = await n.anon.token({ account: id, password: 'accept-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return createClient({ baseUrl: n.url, token: t.value.token });
}

const iso = (ms: number) => new Date(ms).toISOString();
/** The same instant written with a +08:00 offset (what people in Sichuan type). */
const beijing = (ms: number) => `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 23)}+08:00`;

async function caseOf(c: NodeClient): Promise<AcceptanceCase> {
  const r = await c.request<AcceptanceCase>({ method: 'GET', path: CASE });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

beforeAll(async () => {
  national = await startTestNode({
    role: 'national',
    code: 'CPN',
    autoReview: true,
    acceptance: 'authority',
    acceptanceSweepMs: 1000,
  });
  const dir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: dir,
    applicationFile: applicationFile(dir),
    acceptancePollMs: 200,
  });
  started.push(national, regional);
}, 30_000);
afterAll(async () => {
  for (const n of started.reverse()) await n.stop();
  cleanup();
});

describe('after approval: construction, joint debugging on schedule, 验收 by the authority', () => {
  it('approval opens the case; joint debugging passes and the node waits for acceptance (not online)', async () => {
    const officer = await person(national, 'officer-li', 'acceptance-officer');
    const c = await eventually(async () => {
      const x = await caseOf(officer);
      return x.status === 'awaiting-acceptance' ? x : null;
    }, 20_000);
    expect(c.mode).toBe('authority');
    expect(c.jointDebug.runs.some((r) => r.passed && r.inWindow)).toBe(true);
    expect(await lifecycleOf(regional)).toBe('joint-debugging');
  });

  it('refuses a milestone dated before approval, a decision by the wrong role or before evidence; nothing changes', async () => {
    const officer = await person(national, 'officer-wang', 'acceptance-officer');
    const supervisor = await person(national, 'supervisor-zhao', 'supervisor');
    const before = await caseOf(officer);
    const approved = Date.parse(before.approvedAt);
    const early = await officer.request({
      method: 'PUT',
      path: `${CASE}/plan`,
      body: {
        milestones: [{ id: 'site-ready', title: '机房就绪', due: iso(approved - 86_400_000) }],
        jointDebugWindow: { from: iso(approved), to: iso(approved + 30 * 86_400_000) },
      },
    });
    expect(early.ok ? null : [early.status, early.error.field]).toEqual([422, 'milestones.0.due']);
    expect(early.ok ? '' : early.error.message).toMatch(/construction period begins at approval/);
    const byWrongRole = await supervisor.request({
      method: 'POST',
      path: `${CASE}/decisions`,
      body: { decision: 'pass', reasons: ['ok'] },
    });
    expect(byWrongRole.ok ? null : byWrongRole.status).toBe(403);
    const noEvidence = await officer.request({
      method: 'POST',
      path: `${CASE}/decisions`,
      body: { decision: 'pass', reasons: ['ok'] },
    });
    expect(noEvidence.ok ? null : noEvidence.status).toBe(422);
    expect(noEvidence.ok ? '' : noEvidence.error.message).toMatch(/evidence/);
    const after = await caseOf(officer);
    // The regional node keeps re-running joint debugging while it waits (every acceptancePollMs), so new runs may be
    // recorded between the reads: everything but the list of runs stays as it was.
    const settled = (c: AcceptanceCase) => ({ ...c, flags: [], jointDebug: { ...c.jointDebug, runs: [] } });
    expect(settled(after)).toEqual(settled(before));
  });

  it('an overdue milestone is flagged, then met; offsets on input become UTC on the wire', async () => {
    const officer = await person(national, 'officer-zhang', 'acceptance-officer');
    const c0 = await caseOf(officer);
    const approved = Date.parse(c0.approvedAt);
    const soon = Math.max(Date.now() + 800, approved + 1000);
    const planned = await officer.request<AcceptanceCase>({
      method: 'PUT',
      path: `${CASE}/plan`,
      body: {
        milestones: [
          { id: 'site-ready', title: '机房与网络就绪', due: beijing(soon) },
          { id: 'platform', title: '平台部署', due: beijing(approved + 60 * 86_400_000) },
        ],
        jointDebugWindow: { from: beijing(approved), to: beijing(approved + 90 * 86_400_000) },
      },
    });
    expect(planned.ok && planned.value.milestones[0]?.due).toBe(iso(soon));
    // Wall time: the sweep (every 1 s here) raises the flag to the authority's event log without anyone reading.
    const raised = await eventually(async () => {
      const r = await fetch(`${national.url}/cpn/v1/events/export?type=acceptance.flag`);
      const lines = (await r.text()).split('\n').filter(Boolean);
      return lines
        .map((l) => JSON.parse(l) as { subject: string; data: { subject: string } })
        .find((e) => e.data.subject === 'site-ready');
    }, 10_000);
    expect(raised.subject).toBe('CPN.51');
    const flagged = await eventually(async () => {
      const x = await caseOf(officer);
      return x.flags.find((f) => f.kind === 'milestone-overdue' && !f.cleared) ? x : null;
    }, 10_000);
    expect(flagged.milestones[0]?.overdue).toBe(true);
    // The node's operator reports at its own node; the node signs it to its authority.
    const operator = await person(regional, 'ops-51', 'operator');
    const done = await operator.request<AcceptanceCase>({
      method: 'POST',
      path: '/cpn/v1/acceptance/own/milestones/site-ready',
      body: { status: 'done', note: '已完成' },
    });
    const again = await operator.request({
      method: 'POST',
      path: '/cpn/v1/acceptance/own/milestones/site-ready',
      body: { status: 'done' },
    });
    expect(again.ok ? null : again.status).toBe(409);
    expect(done.ok ? done.value.milestones[0]?.status : done.error).toBe('done');
    expect(done.ok && done.value.flags.every((f) => f.cleared)).toBe(true);
  });

  it('the officer gathers the evidence, decides with conditions, then pass: 已验收 and online', async () => {
    const officer = await person(national, 'officer-chen', 'acceptance-officer');
    const gathered = await officer.request<AcceptanceCase>({ method: 'POST', path: `${CASE}/evidence`, body: {} });
    if (!gathered.ok) throw new Error(gathered.error.message);
    const pack = gathered.value.evidence!;
    expect(pack.node).toBe('CPN.51');
    expect(pack.conformance.length).toBeGreaterThan(0);
    expect(pack.security.some((s) => s.standard.includes('39786'))).toBe(true);
    expect(pack.security.some((s) => s.standard.includes('22239'))).toBe(true);
    expect((pack.treeHead as { treeSize: number }).treeSize).toBeGreaterThan(0);
    expect(pack.runtime.availability).toBeGreaterThan(0.9);
    const conditional = await officer.request<AcceptanceCase>({
      method: 'POST',
      path: `${CASE}/decisions`,
      body: {
        decision: 'pass-with-conditions',
        reasons: ['联调通过，运行指标达标'],
        conditions: [{ text: '补充应急演练记录', due: beijing(Date.now() + 7 * 86_400_000) }],
      },
    });
    expect(conditional.ok && conditional.value.status).toBe('conditional');
    expect(await lifecycleOf(regional)).toBe('joint-debugging');
    const pass = await officer.request<AcceptanceCase>({
      method: 'POST',
      path: `${CASE}/decisions`,
      body: { decision: 'pass', reasons: ['条件已满足'] },
    });
    expect(pass.ok && pass.value.status).toBe('accepted');
    expect(pass.ok && pass.value.decisions.every((d) => d.signature.split('.').length === 3)).toBe(true);
    await eventually(async () => (await lifecycleOf(regional)) === 'online', 20_000);
  });

  it('supervision: suspend, require rectification, re-inspect, restore — in order, visible at the node', async () => {
    const supervisor = await person(national, 'supervisor-sun', 'supervisor');
    const order = (body: Record<string, unknown>) =>
      supervisor.request<AcceptanceCase>({ method: 'POST', path: `${CASE}/supervision`, body });
    const early = await order({ action: 'restore', reason: '恢复' });
    expect(early.ok ? null : [early.status, early.error.field]).toEqual([422, 'action']);
    expect((await order({ action: 'suspend', reason: '安全检查发现问题' })).ok).toBe(true);
    await eventually(async () => (await lifecycleOf(regional)) === 'suspended', 10_000);
    const rect = await order({
      action: 'require-rectification',
      reason: '限期整改',
      due: beijing(Date.now() + 86_400_000),
    });
    expect(rect.ok && rect.value.supervision.state).toBe('rectifying');
    expect((await order({ action: 'reinspect', reason: '复查', result: 'pass' })).ok).toBe(true);
    const restored = await order({ action: 'restore', reason: '整改完成' });
    expect(restored.ok && restored.value.supervision.orders.map((o) => o.action)).toEqual([
      'suspend',
      'require-rectification',
      'reinspect',
      'restore',
    ]);
    await eventually(async () => (await lifecycleOf(regional)) === 'online', 10_000);
    // The node's operator sees every order on the case, through the node.
    const operator = createClient({
      baseUrl: regional.url,
      token: (
        (await regional.anon.token({ account: 'ops-51', password: 'accept-pass-1' })) as {
          ok: true;
          value: { token: string };
        }
      ).value.token,
    });
    const own = await operator.request<AcceptanceCase>({ method: 'GET', path: '/cpn/v1/acceptance/own' });
    expect(own.ok && own.value.supervision.orders.map((o) => o.reason)).toEqual([
      '安全检查发现问题',
      '限期整改',
      '复查',
      '整改完成',
    ]);
  });
});
