import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Dossier, type ChainStepInput } from '@cpnet/protocol';
import { chainView, loadGuide, refuseStep, sampleDossier, validateDossier, checkNetworkRules } from './index.ts';
import type { Actor, RecordedStep } from './index.ts';

const loaded = loadGuide(parse(readFileSync(new URL('../../../guides/sichuan-2026.yaml', import.meta.url), 'utf8')));
if (!loaded.ok) throw new Error(loaded.error);
const guide = loaded.value;
const t = (s: string) => Date.parse(s);
const DURING = t('2026-03-20T10:00:00+08:00');

describe('the Sichuan 2026 guide as data', () => {
  it('loads with its deadline in UTC and its stages in order', () => {
    expect(guide.deadline).toBe('2026-03-25T15:59:59.000Z');
    expect(guide.stages.map((s) => s.key)).toEqual([
      'city-review',
      'joint-review',
      'report',
      'expert-review',
      'publicity',
      'list',
    ]);
  });
  it('refuses a guide file naming an agency it does not list, naming the field', () => {
    const bad = structuredClone(
      parse(readFileSync(new URL('../../../guides/sichuan-2026.yaml', import.meta.url), 'utf8')),
    );
    bad.stages[1].agencies = ['省财政厅'];
    const r = loadGuide(bad);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^stages\.1\.agencies\.0: unknown agency "省财政厅"/);
  });
});

describe('offline validation', () => {
  it('a sample dossier of each role meets every offline rule', () => {
    expect(Dossier.safeParse(sampleDossier(guide, { role: 'industry' })).success).toBe(true);
    expect(validateDossier(sampleDossier(guide, { role: 'regional' }), { guide, now: DURING })).toEqual([]);
    for (const f of guide.applicants.industry.focus)
      expect(
        validateDossier(sampleDossier(guide, { role: 'industry', industry: f.code }), { guide, now: DURING }),
      ).toEqual([]);
  });
  it('gives every reason, in Chinese by default and English on request', () => {
    const d = sampleDossier(guide, { role: 'industry', industry: 'C151' });
    d.declaration.builder.capital = { paidInWanYuan: 1000, subscribedWanYuan: 3000 };
    d.declaration.operator.licence!.number = '无';
    d.plan.security = ' ';
    d.attachments = d.attachments.filter((a) => a.kind !== 'credit-pledge');
    d.attachments[0]!.bytes = 20 * 1024 * 1024;
    d.attachments[1]!.mediaType = 'application/zip';
    const zh = validateDossier(d, { guide, now: DURING });
    expect(zh.map((r) => r.field)).toEqual([
      'declaration.builder.capital',
      'declaration.operator.licence.number',
      'plan.security',
      'attachments.credit-pledge',
      'attachments.0.bytes',
      'attachments.1.mediaType',
    ]);
    expect(zh[0]!.message).toBe('建设主体实缴/认缴注册资金 3000 万元，低于 5000 万元');
    expect(zh[2]!.message).toBe('节点建设方案缺少"安全措施"');
    const en = validateDossier(d, { guide, now: DURING, lang: 'en' });
    expect(en[1]!.message).toMatch(/"无" is not a telecom licence number/);
  });
  it('counts paid-in or subscribed capital as the guide says, and refuses paid-in above subscribed', () => {
    const d = sampleDossier(guide, { role: 'regional' });
    d.declaration.builder.capital = { paidInWanYuan: 100, subscribedWanYuan: 5000 };
    expect(validateDossier(d, { guide, now: DURING })).toEqual([]);
    const paidIn = { ...guide, requirements: { ...guide.requirements, capitalBasis: 'paid-in' as const } };
    expect(validateDossier(d, { guide: paidIn, now: DURING }).map((r) => r.rule)).toEqual(['capital']);
    d.declaration.builder.capital = { paidInWanYuan: 6000, subscribedWanYuan: 5000 };
    expect(validateDossier(d, { guide, now: DURING }).map((r) => r.field)).toEqual([
      'declaration.builder.capital.paidInWanYuan',
    ]);
  });
  it('a public institution needs no licence; the licence must be in force; late dossiers are refused', () => {
    const d = sampleDossier(guide, { role: 'regional' });
    d.declaration.operator.licence!.validUntil = '2026-03-01';
    expect(validateDossier(d, { guide, now: DURING }).map((r) => r.field)).toEqual([
      'declaration.operator.licence.validUntil',
    ]);
    const late = t('2026-03-26T00:00:00+08:00');
    expect(validateDossier(sampleDossier(guide, { role: 'regional' }), { guide, now: late })[0]!.message).toBe(
      '申报已于 2026-03-25 23:59:59 (Asia/Shanghai) 截止，逾期不再受理',
    );
    expect(
      validateDossier(sampleDossier(guide, { role: 'regional' }), { guide, now: late }).map((r) => r.rule),
    ).toEqual(['deadline']);
  });
  it('network rules: one regional node per province, one industry node per 中类, disqualified credit codes', () => {
    const d = sampleDossier(guide, { role: 'industry', industry: 'C151' });
    const known = [{ prefix: 'CPN.51.C151', role: 'industry' as const, region: '51', industry: 'C151' }];
    const reasons = checkNetworkRules(d, { guide, known, disqualified: [d.declaration.builder.creditCode] });
    expect(reasons.map((r) => r.rule)).toEqual(['one-industry-per-industry', 'disqualified']);
    expect(reasons[1]!.message).toMatch(/取消申报资格，不得再次申报/);
  });
});

describe('the review chain', () => {
  const person = (id: string, role: string, agency: string): Actor => ({ id, kind: 'person', role, agency });
  const city = person('cd', 'city-reviewer', '成都市');
  const jxt = person('jxt', 'provincial-reviewer', '省经济和信息化厅');
  const txj = person('txj', 'provincial-reviewer', '省通信管理局');
  const aspects = (verdict: 'pass' | 'fail') =>
    (['qualification', 'feasibility', 'funding'] as const).map((aspect) => ({ aspect, verdict, comment: '符合' }));
  const steps: RecordedStep[] = [];
  const take = (actor: Actor, step: ChainStepInput, at: string) => {
    const input = { guide, role: 'industry' as const, city: '成都市', steps, step, actor, now: t(at) };
    const refused = refuseStep(input);
    if (!refused) steps.push({ by: actor.id, role: actor.role, agency: actor.agency, at: t(at), step });
    return refused;
  };
  it('runs 初审推荐 → 联合复审 → 上报 → 专家评审 → 公示 → 名单, refusing what the guide does not allow', () => {
    const opinion = { stage: 'city-review', action: 'opinion', verdict: 'pass', comment: '推荐' } as const;
    expect(take(city, opinion, '2026-03-20T10:00:00+08:00')?.rule).toBe('window');
    expect(take(person('my', 'city-reviewer', '绵阳市'), opinion, '2026-03-22T10:00:00+08:00')?.code).toBe('FORBIDDEN');
    expect(take(city, opinion, '2026-03-22T10:00:00+08:00')).toBeNull();
    const joint = {
      stage: 'joint-review',
      action: 'opinion',
      verdict: 'pass',
      comment: '同意',
      aspects: aspects('pass'),
    } as const;
    expect(take(jxt, { ...joint, aspects: aspects('pass').slice(0, 2) }, '2026-03-26T10:00:00+08:00')?.field).toBe(
      'aspects',
    );
    expect(take(jxt, joint, '2026-03-26T10:00:00+08:00')).toBeNull();
    expect(take(jxt, joint, '2026-03-26T11:00:00+08:00')?.rule).toBe('one-opinion-per-agency');
    expect(take(txj, joint, '2026-03-26T12:00:00+08:00')).toBeNull();
    const report = { stage: 'report', action: 'opinion', verdict: 'pass', comment: '上报' } as const;
    expect(take(jxt, report, '2026-04-01T00:00:01+08:00')?.code).toBe('DEADLINE_PASSED');
    expect(take(jxt, report, '2026-03-31T10:00:00+08:00')).toBeNull();
    expect(take(txj, report, '2026-03-31T11:00:00+08:00')).toBeNull();
    expect(chainView({ guide, role: 'industry', city: '成都市', steps })).toMatchObject({
      stage: 'expert-review',
      passed: 'report',
    });
    for (const [i, score] of [80, 70, 75].entries())
      expect(
        take(
          person(`e${i}`, 'expert', '工业和信息化部'),
          { stage: 'expert-review', action: 'score', score, comment: '评分' },
          '2026-04-10T10:00:00+08:00',
        ),
      ).toBeNull();
    const mof = person('mof', 'reviewer', '工业和信息化部');
    expect(
      take(mof, { stage: 'publicity', action: 'open-publicity', comment: '公示' }, '2026-04-20T09:00:00+08:00'),
    ).toBeNull();
    const anyone: Actor = { id: 'someone', kind: 'other', role: null, agency: null };
    expect(
      take(anyone, { stage: 'publicity', action: 'object', comment: '异议' }, '2026-04-21T09:00:00+08:00'),
    ).toBeNull();
    const publish = { stage: 'list', action: 'publish', verdict: 'pass', comment: '入选' } as const;
    expect(take(mof, publish, '2026-04-26T09:00:00+08:00')?.message).toMatch(/objections 1 are not answered/);
    const applicant: Actor = { id: 'CPN.51.C151', kind: 'applicant', role: null, agency: null };
    expect(
      take(
        applicant,
        { stage: 'publicity', action: 'answer', objection: 1, comment: '答复' },
        '2026-04-22T09:00:00+08:00',
      ),
    ).toBeNull();
    expect(
      take(anyone, { stage: 'publicity', action: 'object', comment: '异议' }, '2026-04-26T09:00:00+08:00')?.code,
    ).toBe('DEADLINE_PASSED');
    expect(take(mof, publish, '2026-04-24T09:00:00+08:00')?.message).toMatch(
      /公示 runs until 2026-04-25 09:00:00 \(Asia\/Shanghai\)/,
    );
    expect(take(mof, publish, '2026-04-26T09:00:00+08:00')).toBeNull();
    expect(chainView({ guide, role: 'industry', city: '成都市', steps })).toMatchObject({
      stage: 'listed',
      ended: true,
      passed: 'list',
    });
  });
  it('a regional application skips the 市州 and goes straight to 上报 by both agencies; false materials end it', () => {
    const s: RecordedStep[] = [];
    const input = (step: ChainStepInput, actor: Actor) => ({
      guide,
      role: 'regional' as const,
      city: null,
      steps: s,
      step,
      actor,
      now: t('2026-03-28T10:00:00+08:00'),
    });
    expect(
      refuseStep(input({ stage: 'city-review', action: 'opinion', verdict: 'pass', comment: 'x' }, city))?.rule,
    ).toBe('stage');
    const f = { stage: 'report', action: 'false-materials', comment: '资金实力证明系伪造' } as const;
    expect(refuseStep(input(f, jxt))).toBeNull();
    s.push({ by: 'jxt', role: 'provincial-reviewer', agency: '省经济和信息化厅', at: 0, step: f });
    expect(chainView({ guide, role: 'regional', city: null, steps: s }).stage).toBe('disqualified');
  });
});
