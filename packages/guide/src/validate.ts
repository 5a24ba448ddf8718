import type { Dossier } from '@cpnet/protocol';
import type { Guide } from './schema.ts';
import { Reasons, type Lang, type Reason } from './reasons.ts';
import { dateInZone, readableTime } from './time.ts';

/** What the offline validation needs besides the dossier: the guide, the time of the check, the language. */
export interface ValidateOptions {
  readonly guide: Guide;
  /** The time of the check, ms since the epoch (a parameter: this package reads no clock). */
  readonly now: number;
  readonly lang?: Lang;
}

/** Rules that need the network: what other applications and nodes exist. */
export const NETWORK_RULES = ['one-regional-per-province', 'one-industry-per-industry', 'disqualified'] as const;

const blank = (s: string) => s.trim() === '';

function checkApplicant(d: Dossier, guide: Guide, r: Reasons): void {
  const decl = d.declaration;
  if (d.guide !== guide.id)
    r.add('guide', 'guide', {
      zh: `申报材料对应的指南为"${d.guide}"，不是"${guide.id}"`,
      en: `the dossier answers guide "${d.guide}", not "${guide.id}"`,
    });
  if (decl.region !== guide.province)
    r.add('province', 'declaration.region', {
      zh: `本指南只受理省级行政区 ${guide.province} 的申报，申报书为 ${decl.region}`,
      en: `this guide takes applications for province ${guide.province}, not ${decl.region}`,
    });
  if (decl.role === 'industry' && decl.industry === null)
    r.add('industry', 'declaration.industry', {
      zh: '行业节点须注明所属行业（国民经济行业分类中类）',
      en: 'an industry node names its industry (a GB/T 4754 中类)',
    });
  if (decl.role === 'regional' && decl.industry !== null)
    r.add('industry', 'declaration.industry', { zh: '区域节点不注明行业', en: 'a regional node names no industry' });
  if (blank(decl.name)) r.add('section', 'declaration.name', { zh: '缺少节点名称', en: 'the node has no name' });
  if (blank(decl.summary))
    r.add('section', 'declaration.summary', { zh: '申报书缺少申报概述', en: 'the 申报书 has no summary' });
  if (blank(decl.contact.name) || blank(decl.contact.phone) || blank(decl.contact.email))
    r.add('section', 'declaration.contact', {
      zh: '申报书缺少联系人、电话或电子邮箱',
      en: 'the 申报书 lacks a contact name, phone or e-mail',
    });
}

function checkAuthority(d: Dossier, guide: Guide, r: Reasons): void {
  const a = d.declaration.authority;
  const { regional, industry } = guide.applicants;
  const lacking = (missing: string[]) => ({
    zh: missing.length ? `，缺少${missing.join('、')}` : '',
    en: missing.length ? `; missing ${missing.join(', ')}` : '',
  });
  if (d.declaration.role === 'regional') {
    const missing = regional.declaredBy.filter((x) => !a.agencies.includes(x));
    if (a.kind !== 'declared' || missing.length > 0)
      r.add('authority', 'declaration.authority', {
        zh: `区域节点由${regional.declaredBy.join('、')}共同申报${lacking(missing).zh}`,
        en: `a regional node is declared jointly by ${regional.declaredBy.join(' and ')}${lacking(missing).en}`,
      });
    return;
  }
  const missing = industry.recommendedBy.filter((x) => !a.agencies.includes(x));
  if (a.kind !== 'recommended' || missing.length > 0)
    r.add('authority', 'declaration.authority', {
      zh: `行业节点由${industry.recommendedBy.join('会同')}推荐${lacking(missing).zh}`,
      en: `an industry node is recommended by ${industry.recommendedBy.join(' with ')}${lacking(missing).en}`,
    });
  const cities = guide.agencies.filter((x) => x.level === 'city').map((x) => x.name);
  if (a.city === null || !cities.includes(a.city))
    r.add('authority', 'declaration.authority.city', {
      zh: `行业节点须注明负责初审推荐的市（州）：${a.city ?? '未填写'}不在本指南的市（州）中`,
      en: `an industry node names the 市州 of its initial review; ${a.city ?? 'none'} is not one of the guide's`,
    });
  if (d.declaration.consortium && !industry.consortium)
    r.add('consortium', 'declaration.consortium', {
      zh: '本指南不受理联合体申报',
      en: 'this guide takes no consortia',
    });
}

function checkBuilder(d: Dossier, guide: Guide, r: Reasons): void {
  const { capital, fundingCapacity } = d.declaration.builder;
  const min = guide.requirements.builderCapitalWanYuan;
  if (capital.paidInWanYuan > capital.subscribedWanYuan)
    r.add('capital', 'declaration.builder.capital.paidInWanYuan', {
      zh: `实缴资本 ${capital.paidInWanYuan} 万元大于认缴资本 ${capital.subscribedWanYuan} 万元`,
      en: `paid-in capital ${capital.paidInWanYuan} 万元 exceeds the subscribed ${capital.subscribedWanYuan} 万元`,
    });
  const basis = guide.requirements.capitalBasis;
  const counted =
    basis === 'paid-in'
      ? capital.paidInWanYuan
      : basis === 'subscribed'
        ? capital.subscribedWanYuan
        : Math.max(capital.paidInWanYuan, capital.subscribedWanYuan);
  const label = { 'paid-in': '实缴', subscribed: '认缴', 'paid-in-or-subscribed': '实缴/认缴' }[basis];
  if (counted < min)
    r.add('capital', 'declaration.builder.capital', {
      zh: `建设主体${label}注册资金 ${counted} 万元，低于 ${min} 万元`,
      en: `the builder's registered capital (${basis}) is ${counted} 万元, below ${min} 万元`,
    });
  if (blank(fundingCapacity))
    r.add('funding-capacity', 'declaration.builder.fundingCapacity', {
      zh: '建设主体须说明承担项目建设的持续资金保障能力',
      en: 'the builder states its continuing capacity to fund the construction',
    });
}

function checkOperator(d: Dossier, opts: ValidateOptions, r: Reasons): void {
  const { guide, now } = opts;
  const op = d.declaration.operator;
  const req = guide.requirements;
  const exempt = op.creditCode.startsWith(req.licenceExemptCreditPrefix);
  const l = op.licence;
  const today = dateInZone(now, guide.timezone);
  if (!l) {
    if (!exempt)
      r.add('licence', 'declaration.operator.licence', {
        zh: '运营主体须持有相关电信业务经营许可（事业单位除外）',
        en: 'the operator holds a telecom business licence (public institutions excepted)',
      });
  } else {
    if (!new RegExp(req.licenceNumberPattern, 'u').test(l.number.trim()))
      r.add('licence', 'declaration.operator.licence.number', {
        zh: `许可证编号"${l.number}"不是电信业务经营许可证编号（如 B1-20230001、川B2-20230001）`,
        en: `"${l.number}" is not a telecom licence number (e.g. B1-20230001, 川B2-20230001)`,
      });
    if (!l.scope.some((s) => req.licenceCategories.some((c) => s.trim().startsWith(c))))
      r.add('licence', 'declaration.operator.licence.scope', {
        zh: `许可业务种类须含 ${req.licenceCategories.join('、')} 之一`,
        en: `the licence's scope includes one of ${req.licenceCategories.join(', ')}`,
      });
    if (l.validUntil < today || l.validFrom > today)
      r.add('licence', 'declaration.operator.licence.validUntil', {
        zh: `许可证有效期 ${l.validFrom} 至 ${l.validUntil}，不含 ${today}`,
        en: `the licence is valid ${l.validFrom} to ${l.validUntil}, not on ${today}`,
      });
    if (blank(l.issuer))
      r.add('licence', 'declaration.operator.licence.issuer', { zh: '缺少发证机关', en: 'the licence has no issuer' });
  }
  if (blank(op.site.city) || blank(op.site.address) || op.site.areaM2 <= 0)
    r.add('site', 'declaration.operator.site', {
      zh: '运营主体须具有运营必要的场地（所在市州、地址、面积）',
      en: 'the operator has a site (city, address, area)',
    });
  const units = op.equipment.reduce((n, e) => n + e.quantity, 0);
  if (units < req.minEquipment)
    r.add('equipment', 'declaration.operator.equipment', {
      zh: '运营主体须具有运营必要的设备',
      en: 'the operator lists the equipment it runs the node with',
    });
  if (op.staff.total < req.minStaff || op.staff.technical > op.staff.total)
    r.add('staff', 'declaration.operator.staff', {
      zh: `运营主体须具有运营必要的人员（至少 ${req.minStaff} 人，技术人员不多于总数）`,
      en: `the operator has the staff to run the node (at least ${req.minStaff}, technical ≤ total)`,
    });
}

function checkCredit(d: Dossier, opts: ValidateOptions, r: Reasons): void {
  const years = opts.guide.requirements.creditYears;
  const today = dateInZone(opts.now, opts.guide.timezone);
  const since = `${Number(today.slice(0, 4)) - years}${today.slice(4)}`;
  d.declaration.credit.records.forEach((rec, i) => {
    if (rec.major && rec.date >= since)
      r.add('credit', `declaration.credit.records.${i}`, {
        zh: `近${years}年有重大失信记录（${rec.date}：${rec.description}）`,
        en: `a major dishonesty record within ${years} years (${rec.date}: ${rec.description})`,
      });
  });
}

function checkPlan(d: Dossier, guide: Guide, r: Reasons): void {
  const p = d.plan;
  const texts: Record<string, string> = {
    goals: p.goals,
    content: p.content,
    technicalRoute: p.technicalRoute,
    schedule: p.schedule.summary,
    funding: p.funding.summary,
    security: p.security,
  };
  for (const s of guide.plan.sections) {
    if (s.key in texts && blank(texts[s.key]!))
      r.add('section', `plan.${s.key}`, {
        zh: `节点建设方案缺少"${s.title}"`,
        en: `the construction plan has no "${s.title}" (${s.key})`,
      });
  }
  if (p.schedule.milestones.length < guide.plan.minMilestones)
    r.add('section', 'plan.schedule.milestones', {
      zh: '实施计划须列明里程碑及完成日期',
      en: 'the schedule lists its milestones with dates',
    });
  const sorted = p.schedule.milestones.every((m, i, all) => i === 0 || all[i - 1]!.due <= m.due);
  if (!sorted)
    r.add('schedule', 'plan.schedule.milestones', {
      zh: '里程碑须按完成日期先后排列',
      en: 'milestones are listed in order of their dates',
    });
  const raised = p.funding.sources.reduce((n, s) => n + s.amountWanYuan, 0);
  if (p.funding.totalWanYuan <= 0 || raised < p.funding.totalWanYuan)
    r.add('funding', 'plan.funding', {
      zh: `资金保障：资金来源合计 ${raised} 万元，未覆盖总投资 ${p.funding.totalWanYuan} 万元`,
      en: `funding: the sources add up to ${raised} 万元, short of the total ${p.funding.totalWanYuan} 万元`,
    });
  const needed = guide.plan.coreSystems[d.declaration.role];
  const given = new Map(p.coreSystems.map((c) => [c.system.trim(), c.detail]));
  const missing = needed.filter((s) => blank(given.get(s) ?? ''));
  if (missing.length > 0)
    r.add('section', 'plan.coreSystems', {
      zh: `核心系统建设细节缺少：${missing.join('、')}`,
      en: `core-system details missing for: ${missing.join(', ')}`,
    });
}

function checkAttachments(d: Dossier, guide: Guide, r: Reasons): void {
  const op = d.declaration.operator;
  const licensed = op.licence !== null;
  const consortium = d.declaration.consortium !== null;
  for (const m of guide.materials) {
    const need = m.required === 'always' || (m.required === 'consortium' ? consortium : licensed);
    if (need && !d.attachments.some((a) => a.kind === m.kind))
      r.add('attachment', `attachments.${m.kind}`, {
        zh: `缺少附件：${m.title}`,
        en: `attachment missing: ${m.title} (${m.kind})`,
      });
  }
  d.attachments.forEach((a, i) => {
    const m = guide.materials.find((x) => x.kind === a.kind);
    if (!m) return;
    if (!m.mediaTypes.includes(a.mediaType))
      r.add('attachment-type', `attachments.${i}.mediaType`, {
        zh: `附件"${a.file}"类型为 ${a.mediaType}，${m.title}只收 ${m.mediaTypes.join('、')}`,
        en: `attachment "${a.file}" is ${a.mediaType}; ${m.kind} takes ${m.mediaTypes.join(', ')}`,
      });
    if (a.bytes > m.maxBytes)
      r.add('attachment-size', `attachments.${i}.bytes`, {
        zh: `附件"${a.file}"大小 ${a.bytes} 字节，超过上限 ${m.maxBytes} 字节`,
        en: `attachment "${a.file}" is ${a.bytes} bytes, over the limit of ${m.maxBytes}`,
      });
  });
  const consortiumMembers = d.declaration.consortium?.members.length ?? 0;
  if (consortium && consortiumMembers < 2)
    r.add('consortium', 'declaration.consortium.members', {
      zh: '联合体须至少有两名成员',
      en: 'a consortium has at least two members',
    });
}

function checkDeadline(opts: ValidateOptions, r: Reasons): void {
  const closes = Date.parse(opts.guide.deadline);
  const when = readableTime(closes, opts.guide.timezone);
  if (opts.now > closes)
    r.add('deadline', 'guide.deadline', {
      zh: `申报已于 ${when} 截止，逾期不再受理`,
      en: `applications closed at ${when} (逾期不再受理)`,
    });
}

/**
 * Every rule of the guide a dossier breaks that needs nothing but the dossier and the time (the network rules are
 * `checkNetworkRules`'), each with its field and a reason in the language asked for.
 */
export function validateDossier(dossier: Dossier, opts: ValidateOptions): Reason[] {
  const r = new Reasons(opts.lang ?? 'zh');
  checkApplicant(dossier, opts.guide, r);
  checkAuthority(dossier, opts.guide, r);
  checkBuilder(dossier, opts.guide, r);
  checkOperator(dossier, opts, r);
  checkCredit(dossier, opts, r);
  checkPlan(dossier, opts.guide, r);
  checkAttachments(dossier, opts.guide, r);
  checkDeadline(opts, r);
  return r.items;
}

/** Another application or node a network rule compares with. */
export interface KnownNode {
  readonly prefix: string;
  readonly role: 'regional' | 'industry';
  readonly region: string;
  readonly industry?: string | null;
}

/** The rules that need what the node knows: one regional node per province, one industry node per 中类, bans. */
export function checkNetworkRules(
  dossier: Dossier,
  input: { guide: Guide; known: readonly KnownNode[]; disqualified: readonly string[]; lang?: Lang },
): Reason[] {
  const r = new Reasons(input.lang ?? 'zh');
  const d = dossier.declaration;
  const { regional, industry } = input.guide.applicants;
  if (d.role === 'regional') {
    const same = input.known.filter((k) => k.role === 'regional' && k.region === d.region);
    if (same.length >= regional.perProvince)
      r.add('one-regional-per-province', 'declaration.region', {
        zh: `每个省级行政区可申报${regional.perProvince}个区域节点，已有 ${same.map((k) => k.prefix).join('、')}`,
        en: `${regional.perProvince} regional node per province; ${same.map((k) => k.prefix).join(', ')} exists`,
      });
  } else {
    const same = input.known.filter((k) => k.role === 'industry' && k.industry === d.industry);
    if (same.length >= industry.perIndustry)
      r.add('one-industry-per-industry', 'declaration.industry', {
        zh: `每个行业原则上可申报${industry.perIndustry}个行业节点，${d.industry} 已有 ${same.map((k) => k.prefix).join('、')}`,
        en: `in principle ${industry.perIndustry} industry node per industry; ${d.industry} has ${same.map((k) => k.prefix).join(', ')}`,
      });
  }
  const codes = [
    d.builder.creditCode,
    d.operator.creditCode,
    ...(d.consortium?.members.map((m) => m.creditCode) ?? []),
  ];
  for (const c of codes.filter((c) => input.disqualified.includes(c)))
    r.add('disqualified', 'declaration', {
      zh: `${c} 因提供虚假材料已被取消申报资格，不得再次申报`,
      en: `${c} was disqualified for false materials and may not apply again`,
    });
  return r.items;
}
