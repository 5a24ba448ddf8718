import type { TimeSource } from '@cpnet/kernel';
import { MIN_REGISTERED_CAPITAL_WAN_YUAN } from '@cpnet/protocol';
import { parseCreditCode, parsePrefix } from '@cpnet/identifier';
import type { ExistingNode, NodeApplication, Organisation, RuleViolation } from './application.ts';

/** How far back a major dishonesty record disqualifies (3 years). */
export const DISHONESTY_LOOKBACK_YEARS = 3;

/** What the rules need besides the application. */
export interface ApplicationContext {
  readonly clock: TimeSource;
  readonly existing: readonly ExistingNode[];
  /** A reviewer's explicit override of the one-industry-node rule; needs a reason. */
  readonly industryOverride?: { readonly reviewer: string; readonly reason: string };
  /** Unix ms after which applications are not accepted (逾期不再受理). */
  readonly deadline?: number;
}

const INACTIVE = new Set(['rejected', 'revoked']);

function creditCodes(app: NodeApplication): RuleViolation[] {
  const orgs: [string, Organisation][] = [
    ['builder.creditCode', app.builder],
    ['operator.creditCode', app.operator],
  ];
  app.consortium?.members.forEach((m, i) => orgs.push([`consortium.members[${i}].creditCode`, m]));
  return orgs.flatMap(([field, org]) => {
    const r = parseCreditCode(org.creditCode);
    return r.ok
      ? []
      : [
          {
            rule: 'credit-code' as const,
            field,
            reason: `${org.name}: invalid 统一社会信用代码 ${JSON.stringify(org.creditCode)}`,
          },
        ];
  });
}

function capital(app: NodeApplication): RuleViolation[] {
  const out: RuleViolation[] = [];
  const c = app.builder.registeredCapitalWanYuan;
  if (!(c >= MIN_REGISTERED_CAPITAL_WAN_YUAN)) {
    out.push({
      rule: 'capital',
      field: 'builder.registeredCapitalWanYuan',
      reason: `the builder's registered capital is ${c}万元; at least ${MIN_REGISTERED_CAPITAL_WAN_YUAN}万元 is required`,
    });
  }
  if (app.builder.fundingCapacityDeclared !== true) {
    out.push({
      rule: 'funding-capacity',
      field: 'builder.fundingCapacityDeclared',
      reason: 'the builder must declare its funding capacity (资金保障能力)',
    });
  }
  return out;
}

/**
 * A telecom business licence number (电信业务经营许可证编号): an optional province abbreviation, the categories
 * (A…, B1, B2, several joined by '.') and 8 digits — B1-20230001, 川B2-20230001. Text such as "无" is no licence.
 */
const LICENCE_NUMBER =
  /^[京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新]?[AB][0-9]{1,2}(\.[AB][0-9]{1,2})*-[0-9]{8}$/u;

function licence(app: NodeApplication): RuleViolation[] {
  const publicInstitution = app.operator.creditCode.trim().startsWith('12');
  const given = (app.operator.telecomLicence ?? '').trim();
  if (publicInstitution) return [];
  if (given !== '' && !LICENCE_NUMBER.test(given))
    return [
      {
        rule: 'telecom-licence',
        field: 'operator.telecomLicence',
        reason: `"${given}" is not a telecom business licence number (e.g. B1-20230001, 川B2-20230001)`,
      },
    ];
  if (given !== '') return [];
  return [
    {
      rule: 'telecom-licence',
      field: 'operator.telecomLicence',
      reason:
        `the operator ${app.operator.name} needs a telecom business licence (增值电信业务经营许可证) unless it is a public ` +
        `institution (credit code starting 12)`,
    },
  ];
}

function creditRecord(app: NodeApplication, now: number): RuleViolation[] {
  const since = new Date(now);
  since.setUTCFullYear(since.getUTCFullYear() - DISHONESTY_LOOKBACK_YEARS);
  return app.credit.majorDishonestyRecords.flatMap((rec, i) => {
    const t = Date.parse(rec.date);
    if (Number.isNaN(t))
      return [
        {
          rule: 'credit-record' as const,
          field: `credit.majorDishonestyRecords[${i}].date`,
          reason: `record date ${JSON.stringify(rec.date)} is not a date; it cannot be ruled out`,
        },
      ];
    return t >= since.getTime()
      ? [
          {
            rule: 'credit-record' as const,
            field: `credit.majorDishonestyRecords[${i}]`,
            reason: `major dishonesty record of ${rec.date} (${rec.description}) is within the last ${DISHONESTY_LOOKBACK_YEARS} years`,
          },
        ]
      : [];
  });
}

function roleFields(app: NodeApplication): RuleViolation[] {
  const prefix = app.role === 'regional' ? `CPN.${app.region}` : `CPN.${app.region}.${app.industry ?? ''}`;
  if (app.role === 'regional' && app.industry !== undefined)
    return [{ rule: 'role-fields', field: 'industry', reason: 'a regional node application names no industry' }];
  const p = parsePrefix(prefix);
  return p.ok
    ? []
    : [{ rule: 'role-fields', field: p.error.segment === 'industry' ? 'industry' : 'region', reason: p.error.message }];
}

function uniqueness(app: NodeApplication, ctx: ApplicationContext): RuleViolation[] {
  const live = ctx.existing.filter((n) => !INACTIVE.has(n.status));
  if (app.role === 'regional') {
    const clash = live.find((n) => n.role === 'regional' && n.region === app.region);
    return clash
      ? [
          {
            rule: 'one-regional-per-province',
            field: 'region',
            reason: `province ${app.region} already has a regional node (${clash.prefix})`,
          },
        ]
      : [];
  }
  const clash = live.find((n) => n.role === 'industry' && n.industry === app.industry);
  if (!clash) return [];
  const o = ctx.industryOverride;
  if (o && o.reviewer.trim() !== '' && o.reason.trim() !== '') return [];
  return [
    {
      rule: 'one-industry-per-industry',
      field: 'industry',
      reason:
        `industry ${app.industry ?? ''} already has an industry node (${clash.prefix}); a second needs a ` +
        `reviewer override with a reason`,
    },
  ];
}

/** Checks an application against the guide's onboarding rules; an empty list means none is broken. */
export function checkApplicationRules(application: NodeApplication, context: ApplicationContext): RuleViolation[] {
  const now = context.clock.now();
  const late: RuleViolation[] =
    context.deadline !== undefined && now > context.deadline
      ? [
          {
            rule: 'deadline',
            field: '',
            reason: `applications closed at ${new Date(context.deadline).toISOString()} (逾期不再受理)`,
          },
        ]
      : [];
  const consortium: RuleViolation[] =
    application.consortium && !application.consortium.agreementAttached
      ? [
          {
            rule: 'consortium-agreement',
            field: 'consortium.agreementAttached',
            reason: 'a consortium (联合体) application must attach its agreement',
          },
        ]
      : [];
  return [
    ...late,
    ...roleFields(application),
    ...creditCodes(application),
    ...capital(application),
    ...licence(application),
    ...creditRecord(application, now),
    ...consortium,
    ...uniqueness(application, context),
  ];
}
