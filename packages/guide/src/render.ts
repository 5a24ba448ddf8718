import type { Dossier } from '@cpnet/protocol';
import type { Guide } from './schema.ts';
import { readableTime } from './time.ts';

/** A block of the rendered 申报书: a heading and its lines (or a table). */
interface Section {
  readonly title: string;
  readonly lines?: readonly string[];
  readonly table?: { readonly head: readonly string[]; readonly rows: readonly (readonly string[])[] };
}

const ROLE = { regional: '区域节点', industry: '行业节点' } as const;

function sections(guide: Guide, d: Dossier): Section[] {
  const decl = d.declaration;
  const b = decl.builder;
  const o = decl.operator;
  const focus = guide.applicants.industry.focus.find((f) => f.code === decl.industry);
  const titles = new Map(guide.plan.sections.map((s) => [s.key, s.title]));
  const t = (key: string) => titles.get(key) ?? key;
  return [
    {
      title: '一、申报书',
      lines: [
        `节点名称：${decl.name}`,
        `节点类型：${ROLE[decl.role]}${decl.industry ? `（${decl.industry}${focus ? ` ${focus.name}` : ''}）` : ''}`,
        `省级行政区：${decl.region}`,
        `申报方式：${decl.authority.kind === 'declared' ? '共同申报' : '推荐申报'}（${decl.authority.agencies.join('、')}）`,
        ...(decl.authority.city ? [`初审推荐市（州）：${decl.authority.city}`] : []),
        `申报概述：${decl.summary}`,
        `联系人：${decl.contact.name}，${decl.contact.phone}，${decl.contact.email}`,
      ],
    },
    {
      title: '二、建设主体',
      lines: [
        `名称：${b.name}`,
        `统一社会信用代码：${b.creditCode}`,
        `注册资金：实缴 ${b.capital.paidInWanYuan} 万元，认缴 ${b.capital.subscribedWanYuan} 万元`,
        `持续资金保障能力：${b.fundingCapacity}`,
      ],
    },
    {
      title: '三、运营主体',
      lines: [
        `名称：${o.name}`,
        `统一社会信用代码：${o.creditCode}`,
        o.licence
          ? `电信业务经营许可证：${o.licence.number}（${o.licence.scope.join('；')}），${o.licence.issuer}，` +
            `有效期 ${o.licence.validFrom} 至 ${o.licence.validUntil}`
          : '电信业务经营许可证：无（事业单位）',
        `场地：${o.site.city}${o.site.address}，${o.site.areaM2} 平方米`,
        `人员：${o.staff.total} 人，其中技术人员 ${o.staff.technical} 人`,
      ],
      table: {
        head: ['设备', '型号', '数量'],
        rows: o.equipment.map((e) => [e.name, e.model ?? '', String(e.quantity)]),
      },
    },
    ...(decl.consortium
      ? [
          {
            title: '联合体',
            table: {
              head: ['成员', '统一社会信用代码', '分工'],
              rows: decl.consortium.members.map((m) => [m.name, m.creditCode, m.duty]),
            },
          },
        ]
      : []),
    {
      title: '四、信用记录',
      lines:
        decl.credit.records.length === 0
          ? [`近${guide.requirements.creditYears}年无重大失信记录`]
          : decl.credit.records.map((r) => `${r.date}：${r.description}${r.major ? '（重大）' : ''}`),
    },
    { title: '五、节点建设方案' },
    { title: `（一）${t('goals')}`, lines: [d.plan.goals] },
    { title: `（二）${t('content')}`, lines: [d.plan.content] },
    { title: `（三）${t('technicalRoute')}`, lines: [d.plan.technicalRoute] },
    {
      title: `（四）${t('schedule')}`,
      lines: [d.plan.schedule.summary],
      table: { head: ['里程碑', '完成日期'], rows: d.plan.schedule.milestones.map((m) => [m.title, m.due]) },
    },
    {
      title: `（五）${t('funding')}`,
      lines: [d.plan.funding.summary, `总投资：${d.plan.funding.totalWanYuan} 万元`],
      table: {
        head: ['资金来源', '金额（万元）'],
        rows: d.plan.funding.sources.map((s) => [s.source, String(s.amountWanYuan)]),
      },
    },
    { title: `（六）${t('security')}`, lines: [d.plan.security] },
    {
      title: `（七）${t('coreSystems')}`,
      table: { head: ['系统', '建设细节'], rows: d.plan.coreSystems.map((c) => [c.system, c.detail]) },
    },
    {
      title: '六、附件清单',
      table: {
        head: ['附件', '文件', '类型', '字节', 'SHA-256'],
        rows: d.attachments.map((a) => [
          guide.materials.find((m) => m.kind === a.kind)?.title ?? a.kind,
          a.file,
          a.mediaType,
          String(a.bytes),
          a.sha256,
        ]),
      },
    },
  ];
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The 申报书 and 建设方案 as Markdown, the editable copy (四(二): 可编辑文档格式). */
export function renderDossierMarkdown(guide: Guide, d: Dossier, input: { at: number }): string {
  const out = [
    `# ${d.declaration.name} 申报材料`,
    '',
    `依据：${guide.title}`,
    `生成时间：${readableTime(input.at, guide.timezone)}`,
    '',
  ];
  for (const s of sections(guide, d)) {
    out.push(`## ${s.title}`, '');
    for (const l of s.lines ?? []) out.push(l, '');
    if (s.table && s.table.rows.length > 0) {
      out.push(`| ${s.table.head.join(' | ')} |`, `|${s.table.head.map(() => ' --- ').join('|')}|`);
      for (const r of s.table.rows) out.push(`| ${r.map(mdCell).join(' | ')} |`);
      out.push('');
    }
  }
  return out.join('\n');
}

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/\r?\n/g, '<br>');

/** The 申报书 as one self-contained HTML page (inline style, CJK font), for printing to PDF. */
export function renderDossierHtml(guide: Guide, d: Dossier, input: { at: number }): string {
  const body: string[] = [
    `<h1>${html(d.declaration.name)} 申报材料</h1>`,
    `<p class="meta">依据：${html(guide.title)}<br>生成时间：${html(readableTime(input.at, guide.timezone))}</p>`,
  ];
  for (const s of sections(guide, d)) {
    body.push(`<h2>${html(s.title)}</h2>`);
    for (const l of s.lines ?? []) body.push(`<p>${html(l)}</p>`);
    if (s.table && s.table.rows.length > 0)
      body.push(
        '<table>',
        `<tr>${s.table.head.map((h) => `<th>${html(h)}</th>`).join('')}</tr>`,
        ...s.table.rows.map((r) => `<tr>${r.map((c) => `<td>${html(c)}</td>`).join('')}</tr>`),
        '</table>',
      );
  }
  const style =
    "body{font-family:'WenQuanYi Zen Hei',sans-serif;font-size:11pt;line-height:1.6}" +
    'h1{font-size:18pt;text-align:center}h2{font-size:13pt;margin-top:1.2em}.meta{color:#444}' +
    'table{border-collapse:collapse;width:100%;font-size:9pt}td,th{border:1px solid #888;padding:3px;word-break:break-all}';
  const head = `<meta charset="utf-8"><title>${html(d.declaration.name)}</title><style>${style}</style>`;
  return `<!doctype html><html lang="zh-CN"><head>${head}</head><body>${body.join('')}</body></html>`;
}

/** The section titles every rendering carries (a test looks for them in the PDF). */
export function sectionTitles(guide: Guide, d: Dossier): string[] {
  return sections(guide, d).map((s) => s.title);
}
