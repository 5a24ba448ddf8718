import type { AcceptanceCase } from '@cpnet/protocol';
import { escapeHtml as e } from '../print/pdf.ts';

/** Section titles of the printed report (a test finds them in the PDF with pdftotext). */
export const REPORT_SECTIONS = {
  title: '算力互联互通节点验收报告',
  plan: '一、建设实施计划',
  jointDebug: '二、对接联调',
  evidence: '三、验收证据',
  security: '四、安全保障（等保2.0 三级 / GB/T 39786）',
  decision: '五、验收结论',
  supervision: '六、监督指导',
} as const;

const VERDICT: Record<string, string> = { pass: '通过', 'pass-with-conditions': '有条件通过', fail: '不通过' };
const STATUS: Record<string, string> = {
  construction: '建设中',
  'joint-debugging': '对接联调',
  'awaiting-acceptance': '待验收',
  conditional: '有条件通过',
  accepted: '已验收',
  failed: '验收不通过',
};
const ORDER: Record<string, string> = {
  suspend: '暂停',
  'require-rectification': '责令整改',
  reinspect: '复查',
  restore: '恢复',
};

/** A UTC wire time as people in Sichuan read it: Asia/Shanghai (UTC+8, no daylight saving). */
export function shanghai(time: string | null | undefined): string {
  if (!time) return '—';
  const t = new Date(Date.parse(time) + 8 * 3_600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 16)}（北京时间）`;
}

const table = (head: readonly string[], rows: readonly (readonly string[])[]) =>
  `<table><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;

/** The report a reviewer keeps: the case and its evidence as a self-contained HTML page (no network). */
export function reportHtml(c: AcceptanceCase): string {
  const ev = c.evidence;
  const rt = ev?.runtime;
  const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
  const ms = (x: number | null) => (x === null ? '—' : `${x} ms`);
  const parts = [
    `<h1>${e(REPORT_SECTIONS.title)}</h1>`,
    `<p>节点：${e(c.node)}；验收机构节点：${e(c.authority)}；状态：${e(STATUS[c.status] ?? c.status)}；批复时间：${e(shanghai(c.approvedAt))}</p>`,
    `<h2>${e(REPORT_SECTIONS.plan)}</h2>`,
    table(
      ['里程碑', '名称', '计划完成', '状态', '完成时间'],
      c.milestones.map((m) => [
        m.id,
        m.title,
        shanghai(m.due),
        m.status === 'done' ? '已完成' : m.overdue ? '逾期' : m.status === 'in-progress' ? '进行中' : '计划',
        shanghai(m.doneAt),
      ]),
    ),
    `<h2>${e(REPORT_SECTIONS.jointDebug)}</h2>`,
    `<p>联调窗口：${e(shanghai(c.jointDebug.window?.from))} 至 ${e(shanghai(c.jointDebug.window?.to))}；` +
      `通过时间：${e(shanghai(c.jointDebug.passedAt))}${c.jointDebug.overdue ? '；逾期未通过' : ''}</p>`,
    table(
      ['时间', '检查方', '结果', '窗口内'],
      c.jointDebug.runs.map((r) => [shanghai(r.at), r.by, r.passed ? '通过' : '未通过', r.inWindow ? '是' : '否']),
    ),
    `<h2>${e(REPORT_SECTIONS.evidence)}</h2>`,
    ev && rt
      ? table(
          ['指标', '数值'],
          [
            ['统计期', `${shanghai(rt.period.from)} 至 ${shanghai(rt.period.to)}`],
            ['可用性', pct(rt.availability)],
            [
              '标识解析时延 p50 / p99',
              `${ms(rt.resolution.p50Ms)} / ${ms(rt.resolution.p99Ms)}（${rt.resolution.count} 次）`,
            ],
            [
              '调度时延 p50 / p99',
              `${ms(rt.scheduling.p50Ms)} / ${ms(rt.scheduling.p99Ms)}（${rt.scheduling.count} 次）`,
            ],
            [
              '汇聚资源',
              `提供方 ${rt.resources.providers}，集群 ${rt.resources.clusters}，下级汇总 ${rt.resources.childSummaries}`,
            ],
            ['服务作业数', String(rt.jobsServed)],
            ['一致性检查报告', `${ev.conformance.length} 份（最新一次完整联调结果）`],
            ['审计日志签名树头', JSON.stringify(ev.treeHead).slice(0, 160)],
            ['说明', rt.latencyScope],
          ],
        )
      : '<p>尚未收集验收证据。</p>',
    `<h2>${e(REPORT_SECTIONS.security)}</h2>`,
    ev
      ? table(
          ['标准', '条款', '要求', '实现方式', '证据'],
          ev.security.map((s) => [s.standard, s.clause, s.requirement, s.how, s.evidence]),
        )
      : '',
    `<h2>${e(REPORT_SECTIONS.decision)}</h2>`,
    c.decisions.length === 0
      ? '<p>尚无验收结论。</p>'
      : table(
          ['时间', '验收人员', '结论', '理由', '条件', '签名'],
          c.decisions.map((d) => [
            shanghai(d.at),
            d.by,
            VERDICT[d.decision] ?? d.decision,
            d.reasons.join('；'),
            d.conditions.map((k) => `${k.text}（${shanghai(k.due)}前）`).join('；') || '—',
            `${d.signature.slice(0, 24)}…`,
          ]),
        ),
    `<h2>${e(REPORT_SECTIONS.supervision)}</h2>`,
    c.supervision.orders.length === 0
      ? '<p>无监督指导记录。</p>'
      : table(
          ['时间', '监督人员', '措施', '理由', '期限 / 结果'],
          c.supervision.orders.map((o) => [
            shanghai(o.at),
            o.by,
            ORDER[o.action] ?? o.action,
            o.reason,
            o.due ? shanghai(o.due) : o.result === 'pass' ? '复查通过' : o.result === 'fail' ? '复查未通过' : '—',
          ]),
        ),
  ];
  const style =
    "body{font-family:'WenQuanYi Zen Hei',sans-serif;font-size:10pt}table{border-collapse:collapse;width:100%;margin:4pt 0}" +
    'th,td{border:1px solid #888;padding:2pt 4pt;vertical-align:top;text-align:left}h1{font-size:16pt}h2{font-size:12pt}';
  const head = `<meta charset="utf-8"><title>${e(REPORT_SECTIONS.title)}</title><style>${style}</style>`;
  return `<!doctype html><html lang="zh-CN">${head}<body>${parts.join('')}</body></html>`;
}
