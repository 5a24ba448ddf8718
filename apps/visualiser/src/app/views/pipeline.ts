import { AcceptanceCaseList, ApplicationState, ChainState, type AcceptanceCase } from '@cpnet/protocol';
import { z } from 'zod';
import { lang } from '../i18n.ts';
import { pageTime } from '../page-clock.ts';
import { el } from '../store.ts';

/** Wall ms between two reads of the board's data (through the visualiser's server). */
const EVERY_MS = 5_000;

const APP_STAGES = ['submitted', 'reviewing', 'forwarded', 'approved', 'rejected'] as const;

const LABELS: Record<string, { zh: string; en: string }> = {
  title: { zh: '申报', en: 'Applications' },
  acceptance: { zh: '建设、联调与验收', en: 'Construction, joint debugging and acceptance' },
  none: { zh: '无', en: 'none' },
  unavailable: { zh: '无法读取', en: 'cannot read' },
  replay: { zh: '申报与验收看板需要实时节点', en: 'The board needs a live node' },
  submitted: { zh: '已提交', en: 'Submitted' },
  reviewing: { zh: '评审中', en: 'Reviewing' },
  forwarded: { zh: '已上报', en: 'Forwarded' },
  approved: { zh: '已批准', en: 'Approved' },
  rejected: { zh: '未通过', en: 'Rejected' },
  construction: { zh: '建设中', en: 'Construction' },
  'joint-debugging': { zh: '联调中', en: 'Joint debugging' },
  'awaiting-acceptance': { zh: '待验收', en: 'Awaiting acceptance' },
  conditional: { zh: '有条件通过', en: 'Passed with conditions' },
  accepted: { zh: '已验收', en: 'Accepted' },
  failed: { zh: '验收未通过', en: 'Failed' },
  milestones: { zh: '建设里程碑', en: 'Milestones' },
  runs: { zh: '联调', en: 'Joint-debug runs' },
  passed: { zh: '通过', en: 'passed' },
  failedRuns: { zh: '失败', en: 'failed' },
  overdue: { zh: '逾期', en: 'overdue' },
  decision: { zh: '验收决定', en: 'Decision' },
  supervision: { zh: '监督', en: 'Supervision' },
  normal: { zh: '正常', en: 'normal' },
  suspended: { zh: '暂停', en: 'suspended' },
  rectifying: { zh: '整改中', en: 'rectifying' },
  reinspected: { zh: '已复查', en: 'reinspected' },
  pass: { zh: '通过', en: 'pass' },
  'pass-with-conditions': { zh: '有条件通过', en: 'pass with conditions' },
  fail: { zh: '不通过', en: 'fail' },
  heldAt: { zh: '受理节点', en: 'held at' },
  chain: { zh: '评审环节', en: 'stage' },
  steps: { zh: '已办步骤', en: 'steps' },
};

/** The guide's review-chain stages and actions, as the guide names them (guides/*.yaml `stages`). */
const CHAIN: Record<string, { zh: string; en: string }> = {
  'city-review': { zh: '初审推荐', en: 'city review' },
  'joint-review': { zh: '联合复审', en: 'joint review' },
  report: { zh: '上报', en: 'report' },
  'expert-review': { zh: '专家评审', en: 'expert review' },
  publicity: { zh: '公示', en: 'publicity' },
  list: { zh: '名单', en: 'list' },
  done: { zh: '已入选', en: 'listed' },
  listed: { zh: '已入选', en: 'listed' },
  refused: { zh: '未获推荐', en: 'refused' },
  disqualified: { zh: '取消申报资格', en: 'disqualified' },
  opinion: { zh: '意见', en: 'opinion' },
  score: { zh: '评分', en: 'score' },
  'open-publicity': { zh: '开始公示', en: 'publicity opened' },
  object: { zh: '异议', en: 'objection' },
  answer: { zh: '答复', en: 'answer' },
  publish: { zh: '公布', en: 'published' },
  'false-materials': { zh: '材料造假', en: 'false materials' },
};
const C = (k: string) => {
  // A chain 上报'd to a node waits there: `forwarded:CPN`.
  const [stage, to] = k.split(':');
  return to && stage === 'forwarded'
    ? `${lang() === 'zh' ? '已上报' : 'forwarded to'} ${to}`
    : (CHAIN[k]?.[lang()] ?? k);
};
const L = (k: string) => LABELS[k]?.[lang()] ?? k;

const Answer = z.object({
  applications: z.object({ ok: z.boolean(), body: z.unknown().optional(), error: z.string().optional() }),
  cases: z.object({ ok: z.boolean(), body: z.unknown().optional(), error: z.string().optional() }),
  held: z
    .array(z.object({ applicant: z.string(), heldAt: z.array(z.string()), chain: z.unknown().optional() }))
    .optional(),
});

/** Where an application is held and, when that node runs a guide, its review chain. */
interface Held {
  heldAt: string[];
  chain?: ChainState;
}
const ApplicationList = z.object({ items: z.array(ApplicationState) });

interface Board {
  applications: ApplicationState[] | string;
  held: Map<string, Held>;
  cases: AcceptanceCase[] | string;
}

function chainLine(h: Held | undefined): HTMLElement[] {
  if (!h) return [];
  const out = [
    el('div', { class: 'card-held', 'data-held': h.heldAt.join(' ') }, `${L('heldAt')} ${h.heldAt.join('、')}`),
  ];
  if (h.chain) {
    const steps = h.chain.steps.map(
      (s) => `${C(s.step.stage)}·${C(s.step.action)}${s.step.verdict ? `(${L(s.step.verdict)})` : ''}`,
    );
    out.push(
      el('div', { class: 'card-chain', 'data-chain-stage': h.chain.stage }, `${L('chain')} ${C(h.chain.stage)}`),
      el('div', { class: 'card-steps muted' }, `${L('steps')} ${steps.length ? steps.join(' → ') : L('none')}`),
    );
  }
  return out;
}

function applicationBoard(apps: ApplicationState[], held: Map<string, Held>): HTMLElement {
  const board = el('div', { class: 'board', id: 'application-board' });
  for (const stage of APP_STAGES) {
    const col = el('div', { class: 'board-col', 'data-stage': stage });
    const mine = apps.filter((a) => a.status === stage);
    col.append(el('h3', {}, `${L(stage)} · ${mine.length}`));
    for (const a of mine) {
      const code = a.ext?.applicant ?? a.id;
      const card = el('div', { class: 'board-card', 'data-node': code, title: a.application.name });
      card.append(el('div', {}, `${code} ${a.application.name}`), ...chainLine(held.get(code)));
      col.append(card);
    }
    board.append(col);
  }
  return board;
}

function caseRows(cases: AcceptanceCase[]): HTMLElement {
  const list = el('div', { class: 'cases', id: 'acceptance-cases' });
  for (const c of cases) {
    const done = c.milestones.filter((m) => m.status === 'done').length;
    const overdue = c.milestones.filter((m) => m.overdue).length;
    const passed = c.jointDebug.runs.filter((r) => r.passed).length;
    const failed = c.jointDebug.runs.length - passed;
    const last = c.decisions.at(-1);
    const row = el('div', { class: 'case', 'data-node': c.node, 'data-stage': c.status });
    const head = el('div', { class: 'case-head' });
    head.append(el('span', {}, c.node), el('span', { class: 'case-stage' }, L(c.status)));
    row.append(
      head,
      el(
        'div',
        { class: 'case-detail' },
        [
          `${L('milestones')} ${done}/${c.milestones.length}${overdue ? ` (${L('overdue')} ${overdue})` : ''}`,
          `${L('runs')} ${L('passed')} ${passed} · ${L('failedRuns')} ${failed}${c.jointDebug.overdue ? ` · ${L('overdue')}` : ''}`,
          `${L('decision')} ${last ? L(last.decision) : L('none')}`,
          `${L('supervision')} ${L(c.supervision.state)}`,
        ].join(' · '),
      ),
    );
    list.append(row);
  }
  return list;
}

/**
 * The 申报与验收 tab: every application the live node holds, by stage (a board), and each node's construction,
 * joint-debugging and acceptance progress — read through the visualiser's server (`GET /pipeline`, with the reviewing
 * account it was given), validated with the protocol's schemas.
 */
export function createPipeline(live: () => boolean) {
  const root = el('div', { id: 'pipeline' });
  let board: Board | null = null;
  let askedAt = Number.NEGATIVE_INFINITY;
  let asking = false;

  async function fetchBoard(): Promise<void> {
    asking = true;
    try {
      const res = await fetch('pipeline');
      const body: unknown = await res.json();
      const answer = Answer.safeParse(body);
      if (!res.ok || !answer.success) {
        board = { applications: `HTTP ${res.status}`, held: new Map(), cases: `HTTP ${res.status}` };
        return;
      }
      const apps = ApplicationList.safeParse(answer.data.applications.body);
      const cases = AcceptanceCaseList.safeParse(answer.data.cases.body);
      const held = new Map<string, Held>();
      for (const h of answer.data.held ?? []) {
        const chain = ChainState.safeParse(h.chain);
        held.set(h.applicant, { heldAt: h.heldAt, ...(chain.success ? { chain: chain.data } : {}) });
      }
      board = {
        held,
        applications: apps.success ? apps.data.items : (answer.data.applications.error ?? 'invalid'),
        cases: cases.success ? cases.data.items : (answer.data.cases.error ?? 'invalid'),
      };
    } catch (e) {
      board = { applications: String(e), held: new Map(), cases: String(e) };
    } finally {
      asking = false;
      render();
    }
  }

  function render(): void {
    if (!live()) {
      root.replaceChildren(el('p', { class: 'muted', id: 'pipeline-replay' }, L('replay')));
      return;
    }
    const apps = el('section', { class: 'side-section' });
    apps.append(el('h2', {}, L('title')));
    const acc = el('section', { class: 'side-section' });
    acc.append(el('h2', {}, L('acceptance')));
    if (board) {
      apps.append(
        typeof board.applications === 'string'
          ? el('p', { class: 'muted' }, `${L('unavailable')}: ${board.applications}`)
          : applicationBoard(board.applications, board.held),
      );
      acc.append(
        typeof board.cases === 'string'
          ? el('p', { class: 'muted' }, `${L('unavailable')}: ${board.cases}`)
          : board.cases.length
            ? caseRows(board.cases)
            : el('p', { class: 'muted' }, L('none')),
      );
    }
    root.replaceChildren(apps, acc);
  }

  return {
    root,
    update(force: boolean): void {
      const now = pageTime();
      if (live() && !asking && (force || now - askedAt > EVERY_MS)) {
        askedAt = now;
        void fetchBoard();
      }
      if (force) render();
    },
  };
}
