import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { creditCode, T0 } from '../testing/fixtures.ts';
import { checkApplicationRules, type ApplicationContext } from './application-rules.ts';
import type { NodeApplication } from './application.ts';

const COMPANY = creditCode('91510100MA6CGUE4X');
const OPERATOR = creditCode('91510100MA6CGUE5X');
const INSTITUTION = creditCode('12510000MB1528764');

const base: NodeApplication = {
  role: 'industry',
  region: '51',
  industry: 'C151',
  builder: { name: '宜宾酒业', creditCode: COMPANY, registeredCapitalWanYuan: 8000, fundingCapacityDeclared: true },
  operator: { name: '川云运营', creditCode: OPERATOR, telecomLicence: 'B1-20260001' },
  credit: { majorDishonestyRecords: [] },
  site: '宜宾',
  endpoint: 'https://c151.example',
  publicKey: 'pem',
};
const ctx: ApplicationContext = {
  clock: createFakeClock(T0),
  existing: [{ prefix: 'CPN.51', role: 'regional', region: '51', status: 'online' }],
};
const rules = (app: Partial<NodeApplication>, c: Partial<ApplicationContext> = {}) =>
  checkApplicationRules({ ...base, ...app }, { ...ctx, ...c }).map((v) => v.rule);

describe('onboarding rules of the guide', () => {
  it('passes a complete application', () => expect(checkApplicationRules(base, ctx)).toEqual([]));
  it('requires 5000万元 of capital and declared funding capacity', () => {
    expect(rules({ builder: { ...base.builder, registeredCapitalWanYuan: 4999 } })).toEqual(['capital']);
    expect(rules({ builder: { ...base.builder, registeredCapitalWanYuan: 5000 } })).toEqual([]);
    expect(rules({ builder: { ...base.builder, fundingCapacityDeclared: false } })).toEqual(['funding-capacity']);
  });
  it('requires a telecom licence unless the operator is a public institution', () => {
    expect(rules({ operator: { name: 'x', creditCode: OPERATOR } })).toEqual(['telecom-licence']);
    // "无" (none) or any other text is not a licence number.
    expect(rules({ operator: { name: 'x', creditCode: OPERATOR, telecomLicence: '无' } })).toEqual(['telecom-licence']);
    expect(rules({ operator: { name: 'x', creditCode: OPERATOR, telecomLicence: '川B2-20230001' } })).toEqual([]);
    expect(rules({ operator: { name: '省大数据中心', creditCode: INSTITUTION } })).toEqual([]);
  });
  it('refuses major dishonesty records of the last 3 years relative to the injected clock', () => {
    const recent = { majorDishonestyRecords: [{ date: '2024-06-01', description: '失信被执行人' }] };
    const old = { majorDishonestyRecords: [{ date: '2022-06-01', description: '失信被执行人' }] };
    expect(rules({ credit: recent })).toEqual(['credit-record']);
    expect(rules({ credit: old })).toEqual([]);
    expect(rules({ credit: recent }, { clock: createFakeClock(Date.UTC(2028, 0, 1)) })).toEqual([]);
  });
  it('allows one regional node per province', () => {
    const regional = { ...base, role: 'regional' as const, industry: undefined };
    expect(rules(regional)).toEqual(['one-regional-per-province']);
    expect(rules({ ...regional, region: '44' })).toEqual([]);
    expect(
      rules(regional, { existing: [{ prefix: 'CPN.51', role: 'regional', region: '51', status: 'rejected' }] }),
    ).toEqual([]);
  });
  it('allows one industry node per industry unless a reviewer overrides with a reason', () => {
    const existing = [
      ...ctx.existing,
      { prefix: 'CPN.52.C151', role: 'industry' as const, region: '52', industry: 'C151', status: 'online' },
    ];
    expect(rules({}, { existing })).toEqual(['one-industry-per-industry']);
    expect(rules({}, { existing, industryOverride: { reviewer: 'r1', reason: '' } })).toEqual([
      'one-industry-per-industry',
    ]);
    expect(rules({}, { existing, industryOverride: { reviewer: 'r1', reason: '产业集群规模需要第二节点' } })).toEqual(
      [],
    );
  });
  it('validates credit codes, the industry code, consortium agreements and the deadline', () => {
    expect(rules({ builder: { ...base.builder, creditCode: '91510100MA6CGUE4X0' } })).toContain('credit-code');
    expect(rules({ industry: 'C999' })).toContain('role-fields');
    expect(rules({ industry: 'A151' })).toContain('role-fields');
    expect(rules({ consortium: { members: [{ name: 'y', creditCode: COMPANY }], agreementAttached: false } })).toEqual([
      'consortium-agreement',
    ]);
    expect(rules({}, { deadline: T0 - 1 })).toEqual(['deadline']);
    const v = checkApplicationRules({ ...base, builder: { ...base.builder, registeredCapitalWanYuan: 100 } }, ctx)[0]!;
    expect(v).toMatchObject({ field: 'builder.registeredCapitalWanYuan', reason: expect.stringContaining('5000万元') });
  });
});
