import {
  AcceptanceCaseList,
  ApplicationState,
  ChainState,
  PublicityList,
  type AcceptanceCase,
  type ChainStep,
} from '@cpnet/protocol';
import { z } from 'zod';
import { lang } from '../i18n.ts';
import { pageClock, pageTime } from '../page-clock.ts';
import { el } from '../store.ts';

/** Wall ms between two reads of the board's data (through the visualiser's server). */
const EVERY_MS = 5_000;
/** Wall ms the page waits for its server's answer (each node read there has 10 s) before it asks again. */
const ANSWER_TIMEOUT_MS = 60_000;

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
  authority: { zh: '验收机关', en: 'held by' },
  phaseConstruction: { zh: '建设', en: 'Construction' },
  phaseJoint: { zh: '对接联调', en: 'Joint debugging' },
  phaseAcceptance: { zh: '验收', en: 'Acceptance' },
  window: { zh: '窗口', en: 'window' },
  noWindow: { zh: '未排期', en: 'not planned' },
  noRuns: { zh: '未联调', en: 'no runs' },
  noPlan: { zh: '无建设里程碑', en: 'no milestones' },
  autoAccepted: { zh: '联调通过即自动验收', en: 'accepted automatically once joint debugging passed' },
  latest: { zh: '最近', en: 'latest' },
  stepCount: { zh: '步', en: 'steps' },
  publicityTitle: { zh: '公示与入选名单', en: 'Publicity and the published list' },
  publicityOf: { zh: '公示', en: 'publicity' },
  inPublicity: { zh: '公示中', en: 'in publicity' },
  listedStatus: { zh: '已入选', en: 'listed' },
  publicityWindow: { zh: '公示期', en: 'publicity' },
  until: { zh: '至', en: 'to' },
  objections: { zh: '异议', en: 'objections' },
  unanswered: { zh: '未答复', en: 'unanswered' },
  listedAt: { zh: '公布于', en: 'published' },
  beijing: { zh: '北京时间', en: 'Beijing time' },
  applicant: { zh: '申报单位', en: 'applicant' },
  'city-reviewer': { zh: '市州评审人', en: 'city reviewer' },
  'provincial-reviewer': { zh: '省级评审人', en: 'provincial reviewer' },
  reviewer: { zh: '评审人', en: 'reviewer' },
  expert: { zh: '评审专家', en: 'expert' },
  viewer: { zh: '公众', en: 'the public' },
  'acceptance-officer': { zh: '验收官员', en: 'acceptance officer' },
  supervisor: { zh: '监督人员', en: 'supervisor' },
  operator: { zh: '运维人员', en: 'operator' },
  tenant: { zh: '租户', en: 'tenant' },
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
  caseHeld: z.array(z.object({ node: z.string(), heldAt: z.array(z.string()) })).optional(),
  caseNodes: z.array(z.object({ node: z.string(), ok: z.boolean(), error: z.string().optional() })).optional(),
  publicity: z
    .array(
      z.object({
        node: z.string(),
        ok: z.boolean(),
        body: z.unknown().optional(),
        none: z.literal(true).optional(),
        error: z.string().optional(),
        opened: z.record(z.string(), z.string()).optional(),
      }),
    )
    .optional(),
});

/** Where an application is held and, when that node runs a guide, its review chain. */
interface Held {
  heldAt: string[];
  chain?: ChainState;
}
const ApplicationList = z.object({ items: z.array(ApplicationState) });

/** A node's 公示 list: its entries with when each window opened, or why it could not be read. */
interface Publicity {
  node: string;
  list: PublicityList | string;
  opened: Record<string, string>;
}

interface Board {
  applications: ApplicationState[] | string;
  held: Map<string, Held>;
  cases: AcceptanceCase[] | string;
  /** The nodes holding each case (its approving authority), by node. */
  caseHeld: Map<string, string[]>;
  /** Nodes whose cases could not be read, with why. */
  caseErrors: { node: string; error: string }[];
  publicity: Publicity[];
}

const emptyBoard = (why: string): Board => ({
  applications: why,
  held: new Map(),
  cases: why,
  caseHeld: new Map(),
  caseErrors: [],
  publicity: [],
});

/** A label followed by the node's own (English) wording, marked as such. */
function withRaw(e: HTMLElement, raw: string): HTMLElement {
  e.append(el('span', { lang: 'en' }, raw));
  return e;
}

/** A node time as Asia/Shanghai wall-clock time (the guide's calendar): `2026-03-21 09:00`. */
function shanghai(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Shanghai',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(t)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** Who took a step: the agency and role of a person, or the applicant (a node prefix). */
function author(s: ChainStep): string {
  if (s.role === null) return /^CPN(\.|$)/.test(s.by) ? `${L('applicant')} ${s.by}` : s.by;
  return [s.agency, L(s.role)].filter(Boolean).join(' ');
}

/** One step of a chain: what (stage·action, verdict), who (agency and role), when (Beijing time). */
const stepText = (s: ChainStep) =>
  `${C(s.step.stage)}·${C(s.step.action)}${s.step.verdict ? `(${L(s.step.verdict)})` : ''} — ${author(s)} · ${shanghai(s.at)}`;

/** Cards whose steps the viewer opened (kept across the board's redraws every 5 s). */
const openSteps = new Set<string>();

function chainLine(code: string, h: Held | undefined): HTMLElement[] {
  if (!h) return [];
  const out: HTMLElement[] = [
    el('div', { class: 'card-held', 'data-held': h.heldAt.join(' ') }, `${L('heldAt')} ${h.heldAt.join('、')}`),
  ];
  if (h.chain) {
    out.push(
      el('div', { class: 'card-chain', 'data-chain-stage': h.chain.stage }, `${L('chain')} ${C(h.chain.stage)}`),
    );
    const last = h.chain.steps.at(-1);
    if (!last) {
      out.push(el('div', { class: 'card-steps muted' }, `${L('steps')} ${L('none')}`));
      return out;
    }
    // Every step on its own line, folded under the latest one (a card stays short; Enter or a click opens it).
    const details = el('details', { class: 'card-steps muted' });
    if (openSteps.has(code)) details.open = true;
    details.addEventListener('toggle', () => {
      if (details.open) openSteps.add(code);
      else openSteps.delete(code);
    });
    details.append(
      el('summary', {}, `${L('steps')} ${h.chain.steps.length} ${L('stepCount')} · ${L('latest')}：${stepText(last)}`),
    );
    const steps = el('ol', {});
    for (const s of h.chain.steps)
      steps.append(el('li', { class: 'card-step', 'data-by': s.by, 'data-at': s.at }, stepText(s)));
    details.append(steps);
    out.push(details);
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
      card.append(el('div', {}, `${code} ${a.application.name}`), ...chainLine(code, held.get(code)));
      col.append(card);
    }
    board.append(col);
  }
  return board;
}

/** Where a case stands in each of its three phases: done, current (with the stage), failed, or still to come. */
type PhaseState = 'done' | 'current' | 'failed' | 'todo';
const PHASE_MARK: Record<PhaseState, string> = { done: '✓', current: '●', failed: '✗', todo: '○' };

function phases(c: AcceptanceCase): [PhaseState, PhaseState, PhaseState] {
  switch (c.status) {
    case 'construction':
      return ['current', 'todo', 'todo'];
    case 'joint-debugging':
      return ['done', 'current', 'todo'];
    case 'awaiting-acceptance':
    case 'conditional':
      return ['done', 'done', 'current'];
    case 'accepted':
      return ['done', 'done', 'done'];
    case 'failed':
      return ['done', 'done', 'failed'];
    default:
      return ['todo', 'todo', 'todo'];
  }
}

function caseRows(cases: AcceptanceCase[], heldAt: Map<string, string[]>): HTMLElement {
  const list = el('div', { class: 'cases', id: 'acceptance-cases' });
  for (const c of [...cases].sort((a, b) => a.node.localeCompare(b.node))) {
    const done = c.milestones.filter((m) => m.status === 'done').length;
    const overdue = c.milestones.filter((m) => m.overdue).length;
    const passed = c.jointDebug.runs.filter((r) => r.passed).length;
    const failed = c.jointDebug.runs.length - passed;
    const last = c.decisions.at(-1);
    const held = heldAt.get(c.node) ?? [c.authority];
    const w = c.jointDebug.window;
    const row = el('div', {
      class: 'case',
      'data-node': c.node,
      'data-stage': c.status,
      'data-held': held.join(' '),
    });
    const head = el('div', { class: 'case-head' });
    head.append(
      el('span', {}, c.node),
      el('span', { class: 'case-stage' }, L(c.status)),
      el('span', { class: 'case-held muted' }, `${L('authority')} ${held.join('、')}`),
    );
    const [construction, joint, acceptance] = phases(c);
    const phase = (key: string, state: PhaseState, detail: string) =>
      el(
        'div',
        { class: `case-phase phase-${state}`, 'data-phase': key, 'data-state': state },
        `${PHASE_MARK[state]} ${L(key)}：${detail}`,
      );
    row.append(
      head,
      phase(
        'phaseConstruction',
        construction,
        c.milestones.length
          ? `${L('milestones')} ${done}/${c.milestones.length}${overdue ? ` (${L('overdue')} ${overdue})` : ''}`
          : L('noPlan'),
      ),
      phase(
        'phaseJoint',
        joint,
        [
          c.jointDebug.runs.length ? `${L('passed')} ${passed} · ${L('failedRuns')} ${failed}` : L('noRuns'),
          w ? `${L('window')} ${shanghai(w.from)} ${L('until')} ${shanghai(w.to)}` : `${L('window')} ${L('noWindow')}`,
          ...(c.jointDebug.overdue ? [L('overdue')] : []),
        ].join(' · '),
      ),
      phase(
        'phaseAcceptance',
        acceptance,
        [
          last
            ? `${L('decision')} ${L(last.decision)} · ${shanghai(last.at)}`
            : c.mode === 'automatic' && c.status === 'accepted'
              ? L('autoAccepted')
              : `${L('decision')} ${L('none')}`,
          `${L('supervision')} ${L(c.supervision.state)}`,
        ].join(' · '),
      ),
    );
    list.append(row);
  }
  return list;
}

/** Each node's 公示 list (the national node's and every regional node's): who, window, objections, or listed. */
function publicityRows(lists: Publicity[]): HTMLElement {
  const box = el('div', { id: 'publicity' });
  for (const p of lists) {
    const node = el('div', { class: 'publicity-node', 'data-node': p.node });
    node.append(el('h3', {}, `${p.node} ${L('publicityOf')}`));
    if (typeof p.list === 'string') node.append(withRaw(el('p', { class: 'muted' }, `${L('unavailable')}: `), p.list));
    else if (p.list.items.length === 0) node.append(el('p', { class: 'muted' }, L('none')));
    else
      for (const i of p.list.items) {
        const opened = p.opened[i.application];
        const span =
          i.publicityEnds === null
            ? ''
            : `${L('publicityWindow')} ${opened ? `${shanghai(opened)} ` : ''}${L('until')} ${shanghai(i.publicityEnds)}（${L('beijing')}）`;
        node.append(
          el(
            'div',
            {
              class: 'publicity-item',
              'data-applicant': i.applicant,
              'data-status': i.status,
              ...(i.publicityEnds ? { 'data-ends': i.publicityEnds } : {}),
            },
            [
              `${i.applicant} ${i.name}`,
              i.status === 'listed' ? L('listedStatus') : L('inPublicity'),
              span,
              `${L('objections')} ${i.objections}${i.unanswered ? `（${L('unanswered')} ${i.unanswered}）` : ''}`,
              ...(i.listedAt ? [`${L('listedAt')} ${shanghai(i.listedAt)}`] : []),
            ]
              .filter(Boolean)
              .join(' · '),
          ),
        );
      }
    box.append(node);
  }
  if (lists.length === 0) box.append(el('p', { class: 'muted' }, L('none')));
  return box;
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
      // Never waits for ever: the next read starts only when this one is done. (Wall time, as the fetch API takes it.)
      // eslint-disable-next-line no-restricted-properties -- AbortSignal.timeout is the fetch API's wall-clock timeout
      const res = await fetch('pipeline', { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
      const body: unknown = await res.json();
      const answer = Answer.safeParse(body);
      if (!res.ok || !answer.success) {
        board = emptyBoard(`HTTP ${res.status}`);
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
        caseHeld: new Map((answer.data.caseHeld ?? []).map((c) => [c.node, c.heldAt])),
        caseErrors: (answer.data.caseNodes ?? []).flatMap((n) =>
          n.ok ? [] : [{ node: n.node, error: n.error ?? 'invalid' }],
        ),
        // A node without a guide has no 公示 list; it is left out.
        publicity: (answer.data.publicity ?? []).flatMap((p) => {
          if (p.none) return [];
          if (!p.ok) return [{ node: p.node, list: p.error ?? 'invalid', opened: {} }];
          const list = PublicityList.safeParse(p.body);
          return [{ node: p.node, list: list.success ? list.data : 'invalid', opened: p.opened ?? {} }];
        }),
      };
    } catch (e) {
      board = emptyBoard(String(e));
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
    const pub = el('section', { class: 'side-section' });
    pub.append(el('h2', {}, L('publicityTitle')));
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
            ? caseRows(board.cases, board.caseHeld)
            : el('p', { class: 'muted' }, L('none')),
        ...(typeof board.cases === 'string'
          ? []
          : board.caseErrors.map((e) =>
              withRaw(
                el('p', { class: 'muted case-error', 'data-node': e.node }, `${L('unavailable')} ${e.node}: `),
                e.error,
              ),
            )),
      );
      pub.append(publicityRows(board.publicity));
    }
    root.replaceChildren(apps, acc, pub);
  }

  function ask(force: boolean): void {
    const now = pageTime();
    if (live() && !asking && (force || now - askedAt > EVERY_MS)) {
      askedAt = now;
      void fetchBoard();
    }
  }
  // Its own timer while the tab is shown: the board is read every 5 s even when nothing else on the page redraws
  // (a run that only moves its calendar sends few events).
  pageClock.setInterval(() => {
    if (root.isConnected) ask(false);
  }, 1_000);

  return {
    root,
    update(force: boolean): void {
      ask(force);
      if (force) render();
    },
  };
}
