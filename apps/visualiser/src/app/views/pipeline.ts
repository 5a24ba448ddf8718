import { AcceptanceCaseList, ApplicationState, type AcceptanceCase } from '@cpnet/protocol';
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
};
const L = (k: string) => LABELS[k]?.[lang()] ?? k;

const Answer = z.object({
  applications: z.object({ ok: z.boolean(), body: z.unknown().optional(), error: z.string().optional() }),
  cases: z.object({ ok: z.boolean(), body: z.unknown().optional(), error: z.string().optional() }),
});
const ApplicationList = z.object({ items: z.array(ApplicationState) });

interface Board {
  applications: ApplicationState[] | string;
  cases: AcceptanceCase[] | string;
}

function applicationBoard(apps: ApplicationState[]): HTMLElement {
  const board = el('div', { class: 'board', id: 'application-board' });
  for (const stage of APP_STAGES) {
    const col = el('div', { class: 'board-col', 'data-stage': stage });
    const mine = apps.filter((a) => a.status === stage);
    col.append(el('h3', {}, `${L(stage)} · ${mine.length}`));
    for (const a of mine) {
      const code = a.ext?.applicant ?? a.id;
      col.append(
        el(
          'div',
          { class: 'board-card', 'data-node': code, title: a.application.name },
          `${code} ${a.application.name}`,
        ),
      );
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
        board = { applications: `HTTP ${res.status}`, cases: `HTTP ${res.status}` };
        return;
      }
      const apps = ApplicationList.safeParse(answer.data.applications.body);
      const cases = AcceptanceCaseList.safeParse(answer.data.cases.body);
      board = {
        applications: apps.success ? apps.data.items : (answer.data.applications.error ?? 'invalid'),
        cases: cases.success ? cases.data.items : (answer.data.cases.error ?? 'invalid'),
      };
    } catch (e) {
      board = { applications: String(e), cases: String(e) };
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
          : applicationBoard(board.applications),
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
