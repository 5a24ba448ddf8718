import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bufferIo, run } from '@cpnet/cli';
import { createClient, type NodeClient } from '@cpnet/client';
import { creditCodeCheck } from '@cpnet/identifier';
import { offsetClock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { loadGuide, sampleDossier, type Guide } from '@cpnet/guide';
import type { ChainStepInput, Dossier, PersonRole } from '@cpnet/protocol';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

// The guide's calendar on node time: every node and client reads the same shifted clock, moved stage by stage.
const GUIDE_FILE = fileURLToPath(new URL('../../guides/sichuan-2026.yaml', import.meta.url));
const loaded = loadGuide(parse(readFileSync(GUIDE_FILE, 'utf8')));
if (!loaded.ok) throw new Error(loaded.error);
const guide: Guide = loaded.value;
let offset = 0;
const clock = offsetClock(systemClock, () => offset);
const setCalendar = (t: string) => void (offset = Date.parse(t) - systemClock.now());
setCalendar('2026-03-20T10:00:00+08:00');

const code = (body: string) => body + creditCodeCheck(body);
const started: TestNode[] = [];
let national: TestNode;
let regional: TestNode;

/** Creates an account; returns how to sign in as it (an API token lasts minutes of node time, the calendar jumps days). */
async function person(n: TestNode, input: { id: string; role: PersonRole; agency: string }) {
  const made = await own(n, n.url).createAccount({ ...input, name: input.id, password: 'review-pass-1' });
  if (!made.ok) throw new Error(made.error.message);
  return () => login(n, input.id);
}

async function login(n: TestNode, id: string): Promise<NodeClient> {
  const t = await n.anon.token({ account: id, password: 'review-pass-1' });
  if (!t.ok) throw new Error(t.error.message);
  return createClient({ baseUrl: n.url, token: t.value.token, clock });
}

async function appId(n: TestNode, applicant: string): Promise<string> {
  const a = await eventually(async () => {
    const r = await own(n, n.url).applications();
    return r.ok && r.value.items.find((x) => (x.ext as { applicant: string }).applicant === applicant);
  });
  return a.id;
}

/** A node's own client (its key, the calendar's clock). */
const own = (n: TestNode, at: string) =>
  createClient({
    baseUrl: at,
    signer: { keyid: n.node.context.config.code, privateKey: n.node.context.identity.keys.privateKey },
    clock,
  });

const PDF = Buffer.from('%PDF-1.4\n% 证明材料\n%%EOF\n');

/** Uploads the attachments the guide requires and submits the dossier. */
async function submitDossier(client: NodeClient, id: string, d: Dossier) {
  const attachments = [];
  for (const a of d.attachments) {
    const r = await client.uploadAttachment(id, {
      kind: a.kind,
      file: a.file,
      mediaType: 'application/pdf',
      contentBase64: Buffer.concat([PDF, Buffer.from(a.kind)]).toString('base64'),
    });
    if (!r.ok) throw new Error(r.error.message);
    attachments.push({ ...a, bytes: r.value.bytes, sha256: r.value.sha256 });
  }
  return client.putDossier(id, { ...d, attachments });
}

function dossierFor(role: 'regional' | 'industry', industry?: string): Dossier {
  const d = sampleDossier(guide, { role, ...(industry ? { industry } : {}) });
  // The application's credit codes (tests/src/nodes.ts).
  d.declaration.builder.creditCode = '91510100MA6CXXXX1D';
  d.declaration.operator.creditCode = '91510100MA6CYYYY26';
  return d;
}

const aspects = (verdict: 'pass' | 'fail') =>
  (['qualification', 'feasibility', 'funding'] as const).map((aspect) => ({ aspect, verdict, comment: '符合要求' }));

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', guideFile: GUIDE_FILE, clock });
  const dir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: dir,
    applicationFile: applicationFile(dir),
    guideFile: GUIDE_FILE,
    clock,
  });
  started.push(national, regional);
}, 30_000);
afterAll(async () => {
  for (const n of started.reverse()) await n.stop();
  cleanup();
});

describe('the Sichuan 2026 review chain on real nodes', () => {
  it('dossiers, 初审推荐, 联合复审, 上报, 专家评审, 公示 with an objection, the list; refusals change nothing', async () => {
    // --- 组织申报 (3-20): the regional node's dossier at the national node -------------------------------------
    const regionalApp = await appId(national, 'CPN.51');
    const reg = own(regional, national.url);
    const big = await reg.uploadAttachment(regionalApp, {
      kind: 'legal-person',
      file: 'big.pdf',
      mediaType: 'application/pdf',
      contentBase64: Buffer.concat([PDF, Buffer.alloc(guide.materials[0]!.maxBytes)]).toString('base64'),
    });
    expect(big.ok ? 0 : big.status).toBe(413);
    const zip = await reg.uploadAttachment(regionalApp, {
      kind: 'legal-person',
      file: 'a.zip',
      mediaType: 'application/zip',
      contentBase64: PDF.toString('base64'),
    });
    expect(zip.ok ? null : [zip.status, zip.error.field]).toEqual([422, 'mediaType']);
    const fake = await reg.uploadAttachment(regionalApp, {
      kind: 'legal-person',
      file: 'fake.pdf',
      mediaType: 'application/pdf',
      contentBase64: Buffer.from('not a pdf').toString('base64'),
    });
    expect(fake.ok ? null : fake.error.message).toMatch(/not a application\/pdf file/);
    const noSecurity = dossierFor('regional');
    noSecurity.plan.security = '';
    const refused = await submitDossier(reg, regionalApp, noSecurity);
    expect(refused.ok ? null : [refused.status, refused.error.field]).toEqual([422, 'plan.security']);
    expect(refused.ok ? '' : refused.error.message).toContain('节点建设方案缺少"安全措施"');
    const stranger = await own(national, national.url).dossier(regionalApp);
    expect(stranger.ok ? 0 : stranger.status).toBe(404); // nothing was stored
    const sub = await submitDossier(reg, regionalApp, dossierFor('regional'));
    expect(sub.ok && sub.value.attachments.length).toBeGreaterThanOrEqual(5);

    // An industry node (白酒 C151) applies to the regional node, with its dossier.
    const dirA = tempDir();
    const baijiu = await startTestNode({
      role: 'industry',
      code: 'CPN.51.C151',
      parentUrl: regional.url,
      dataDir: dirA,
      applicationFile: applicationFile(dirA, { role: 'industry', industry: 'C151' }),
      clock,
    });
    started.push(baijiu);
    const baijiuApp = await appId(regional, 'CPN.51.C151');
    const bj = own(baijiu, regional.url);
    expect((await submitDossier(bj, baijiuApp, dossierFor('industry', 'C151'))).ok).toBe(true);
    const viewer = await person(regional, { id: 'viewer-r', role: 'viewer', agency: '成都市' });
    expect(((await (await viewer()).dossier(baijiuApp)) as { status: number }).status).toBe(403);

    // --- 初审推荐 (3-21 – 3-25) by the 市州 -------------------------------------------------------------------
    const chengdu = await person(regional, { id: 'cd-jxj', role: 'city-reviewer', agency: '成都市' });
    const mianyang = await person(regional, { id: 'my-jxj', role: 'city-reviewer', agency: '绵阳市' });
    const recommend: ChainStepInput = { stage: 'city-review', action: 'opinion', verdict: 'pass', comment: '择优推荐' };
    const early = await (await chengdu()).chainStep(baijiuApp, recommend);
    expect(early.ok ? null : [early.status, early.error.message]).toEqual([
      422,
      expect.stringMatching(/^window: 初审推荐/),
    ]);
    setCalendar('2026-03-22T10:00:00+08:00');
    const wrongCity = await (await mianyang()).chainStep(baijiuApp, recommend);
    expect(wrongCity.ok ? 0 : wrongCity.status).toBe(403);
    expect((await (await chengdu()).chainStep(baijiuApp, recommend)).ok).toBe(true);

    // --- 联合复审 (3-25 – 3-31): both agencies, each aspect with a verdict and a comment -------------------------
    setCalendar('2026-03-26T10:00:00+08:00');
    const jxtR = await person(regional, { id: 'jxt-r', role: 'provincial-reviewer', agency: '省经济和信息化厅' });
    const txjR = await person(regional, { id: 'txj-r', role: 'provincial-reviewer', agency: '省通信管理局' });
    const joint = {
      stage: 'joint-review',
      action: 'opinion',
      verdict: 'pass',
      comment: '复审通过',
      aspects: aspects('pass'),
    } as const;
    expect((await (await jxtR()).chainStep(baijiuApp, joint)).ok).toBe(true);
    const twice = await (await jxtR()).chainStep(baijiuApp, joint);
    expect(twice.ok ? null : [twice.status, twice.error.field]).toEqual([409, 'agency']);
    expect((await (await txjR()).chainStep(baijiuApp, joint)).ok).toBe(true);

    // --- 上报 (before 4-1): the province reports both applications to the ministry (the national node) -------------
    setCalendar('2026-03-31T10:00:00+08:00');
    const report = { stage: 'report', action: 'opinion', verdict: 'pass', comment: '联合上报' } as const;
    expect((await (await jxtR()).chainStep(baijiuApp, report)).ok).toBe(true);
    const reported = await (await txjR()).chainStep(baijiuApp, report);
    expect(reported.ok && reported.value.stage).toBe('forwarded:CPN');
    const jxtN = await person(national, { id: 'jxt-n', role: 'provincial-reviewer', agency: '省经济和信息化厅' });
    const txjN = await person(national, { id: 'txj-n', role: 'provincial-reviewer', agency: '省通信管理局' });
    expect((await (await jxtN()).chainStep(regionalApp, report)).ok).toBe(true);
    expect((await (await txjN()).chainStep(regionalApp, report)).ok).toBe(true);
    const baijiuAtN = await appId(national, 'CPN.51.C151');
    // A forward whose steps were altered after signing is refused (and changes nothing at the national node).
    const atRegional = own(regional, regional.url);
    const [held, steps, dossier] = await Promise.all([
      atRegional.application(baijiuApp),
      atRegional.chain(baijiuApp),
      atRegional.dossier(baijiuApp),
    ]);
    if (!held.ok || !steps.ok || !dossier.ok) throw new Error('cannot read the regional copy');
    const tampered = structuredClone(steps.value.steps);
    tampered[0]!.step.comment = '不推荐';
    const forged = await own(regional, national.url).forward({
      originId: baijiuApp,
      applicant: 'CPN.51.C151',
      application: held.value.application,
      opinion: { decision: 'recommend', opinion: '联合上报' },
      ext: { dossier: dossier.value.dossier, chain: tampered },
    });
    expect(forged.ok ? null : [forged.status, forged.error.field]).toEqual([422, 'ext.chain']);
    const carried = await own(national, national.url).chain(baijiuAtN);
    expect(carried.ok && [carried.value.stage, carried.value.steps.length]).toEqual(['expert-review', 5]);

    // --- 专家评审 (April): three experts score; 公示 5 days with an objection answered; the list --------------------
    setCalendar('2026-04-10T10:00:00+08:00');
    const experts = await Promise.all(
      ['e1', 'e2', 'e3'].map((id) => person(national, { id, role: 'expert', agency: '工业和信息化部' })),
    );
    for (const app of [regionalApp, baijiuAtN])
      for (const [i, expert] of experts.entries()) {
        const e = await expert();
        expect(
          (await e.chainStep(app, { stage: 'expert-review', action: 'score', score: 70 + i * 5, comment: '评分' })).ok,
        ).toBe(true);
      }
    setCalendar('2026-04-20T09:00:00+08:00');
    const mof = await person(national, { id: 'miit-1', role: 'reviewer', agency: '工业和信息化部' });
    for (const app of [regionalApp, baijiuAtN])
      expect(
        (await (await mof()).chainStep(app, { stage: 'publicity', action: 'open-publicity', comment: '公示5天' })).ok,
      ).toBe(true);
    const citizen = await person(national, { id: 'citizen', role: 'viewer', agency: '成都市' });
    expect(
      (await (await citizen()).chainStep(baijiuAtN, { stage: 'publicity', action: 'object', comment: '运营场地存疑' }))
        .ok,
    ).toBe(true);
    setCalendar('2026-04-26T09:00:00+08:00');
    const shown = await national.anon.publicity();
    expect(shown.ok && shown.value.items.map((x) => [x.applicant, x.status, x.unanswered])).toEqual([
      ['CPN.51', 'publicity', 0],
      ['CPN.51.C151', 'publicity', 1],
    ]);
    const publish = { stage: 'list', action: 'publish', verdict: 'pass', comment: '入选' } as const;
    const blocked = await (await mof()).chainStep(baijiuAtN, publish);
    expect(blocked.ok ? '' : blocked.error.message).toMatch(/objections 1 are not answered/);
    const answer = await own(baijiu, national.url).chainStep(baijiuAtN, {
      stage: 'publicity',
      action: 'answer',
      objection: 1,
      comment: '场地租赁合同已补充',
    });
    expect(answer.ok).toBe(true);
    expect((await (await mof()).chainStep(regionalApp, publish)).ok).toBe(true);
    await eventually(async () => (await lifecycleOf(regional)) === 'online', 20_000);
    const listed = await (await mof()).chainStep(baijiuAtN, publish);
    expect(listed.ok && listed.value.stage).toBe('listed');
    await eventually(async () => (await lifecycleOf(baijiu)) === 'online', 20_000);

    const list = await national.anon.publicity();
    expect(list.ok && list.value.items.map((x) => [x.applicant, x.status])).toEqual([
      ['CPN.51', 'listed'],
      ['CPN.51.C151', 'listed'],
    ]);

    // Every step is signed by the node that recorded it and audited.
    const chain = await own(national, national.url).chain(baijiuAtN);
    expect(chain.ok && chain.value.steps.every((s) => s.signature.split('.').length === 3)).toBe(true);
  }, 90_000);

  it('a finding of false materials disqualifies the credit codes from applying again', async () => {
    setCalendar('2026-03-22T10:00:00+08:00');
    const builder = code('91510100MA6CBBBB1');
    const operator = code('91510100MA6CBBBB2');
    const codes = {
      builder: {
        name: '伪造材料公司',
        creditCode: builder,
        registeredCapitalWanYuan: 9000,
        fundingCapacityDeclared: true,
      },
    };
    const dir = tempDir();
    const bio = await startTestNode({
      role: 'industry',
      code: 'CPN.51.C276',
      parentUrl: regional.url,
      dataDir: dir,
      applicationFile: applicationFile(dir, {
        role: 'industry',
        industry: 'C276',
        ...codes,
        operator: { name: '伪造运营公司', creditCode: operator, telecomLicence: 'B1-20260002' },
      }),
      clock,
    });
    started.push(bio);
    const id = await appId(regional, 'CPN.51.C276');
    const d = dossierFor('industry', 'C276');
    d.declaration.builder.creditCode = builder;
    d.declaration.operator.creditCode = operator;
    expect((await submitDossier(own(bio, regional.url), id, d)).ok).toBe(true);
    const chengdu = () => login(regional, 'cd-jxj');
    const found = await (
      await chengdu()
    ).chainStep(id, {
      stage: 'city-review',
      action: 'false-materials',
      comment: '资金实力证明系伪造',
    });
    expect(found.ok && found.value.stage).toBe('disqualified');
    await eventually(async () => (await lifecycleOf(bio)) === 'rejected');
    const list = await regional.anon.disqualified();
    expect(list.ok && list.value.items.map((x) => x.creditCode).sort()).toEqual([builder, operator].sort());
    const checks = await regional.anon.applicationChecks({
      role: 'industry',
      region: '51',
      industry: 'C341',
      creditCodes: [builder],
    });
    expect(checks.ok && checks.value.reasons.map((r) => r.rule)).toEqual(['disqualified']);
    // `cpnet application validate --node` asks the node the rules only it can check.
    const dossierFile = path.join(dir, 'dossier.json');
    writeFileSync(dossierFile, JSON.stringify(d));
    const io = bufferIo();
    const exit = await run(
      [
        'node',
        'cpnet',
        'application',
        'validate',
        dossierFile,
        '--at',
        '2026-03-22T10:00:00+08:00',
        '--node',
        regional.url,
        '--json',
      ],
      io,
    );
    expect(exit).toBe(1);
    const verdict = JSON.parse(io.stdout.join('')) as { reasons: { rule: string }[]; unchecked: string[] };
    expect(verdict.unchecked).toEqual([]);
    expect(verdict.reasons.map((r) => r.rule)).toEqual([
      'attachment-file',
      'attachment-file',
      'attachment-file',
      'attachment-file',
      'attachment-file',
      'disqualified',
      'disqualified',
    ]);
    // The same builder under another 中类 is refused at once.
    const dir2 = tempDir();
    const again = await startTestNode({
      role: 'industry',
      code: 'CPN.51.C341',
      parentUrl: regional.url,
      dataDir: dir2,
      applicationFile: applicationFile(dir2, { role: 'industry', industry: 'C341', ...codes }),
      clock,
    });
    started.push(again);
    await eventually(async () => (await lifecycleOf(again)) === 'rejected');
  }, 60_000);
});
