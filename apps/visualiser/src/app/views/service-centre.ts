import { SelectionAnswer, SelectionRequest } from '@cpnet/protocol';
import { clusterTotal, marketRows } from '../../state/aggregate.ts';
import { TILES } from '../../state/tile-layout.ts';
import type { ViewState } from '../../state/types.ts';
import { provinceLabel, t, tv } from '../i18n.ts';
import { el, type Store } from '../store.ts';

/** Renders a selection answer: summary, ranked candidates, exclusions with reasons. */
function renderAnswer(answer: SelectionAnswer): HTMLElement {
  const box = el('div', { class: 'answer', id: 'selection-answer' });
  box.append(
    // The node's own summary, as it wrote it.
    el('p', { lang: 'en', title: t('asSent') }, answer.summary),
    el(
      'div',
      { class: 'muted' },
      `${t('answeredBy')}: ${answer.answeredBy}${answer.escalated ? `（${tv('escalated')}）` : ''}`,
    ),
  );
  const table = el('table');
  const head = el('tr');
  for (const h of [t('rank'), t('cluster'), t('province'), t('score')]) head.append(el('th', {}, h));
  table.append(head);
  for (const c of answer.candidates) {
    const tr = el('tr');
    tr.append(
      el('td', { class: 'num' }, String(c.rank)),
      el('td', { class: 'code' }, c.cluster),
      el('td', {}, c.province),
      el('td', { class: 'num' }, c.score.toFixed(3)),
    );
    table.append(tr);
  }
  box.append(el('h3', {}, t('candidates')), table);
  if (answer.excluded.length) {
    const ex = el('ul', { class: 'list' });
    for (const e of answer.excluded.slice(0, 50))
      // The node's own words (constraint and reason), marked as such.
      ex.append(el('li', { lang: 'en', title: t('asSent') }, `${e.cluster} — ${e.constraint}: ${e.reason}`));
    box.append(el('h3', {}, `${t('excluded')} (${answer.excluded.length})`), ex);
  }
  return box;
}

/** 算力互联网服务中心: browse the market from the snapshot; in live mode submit a task template for a selection. */
export function createServiceCentre(store: Store) {
  const root = el('div', { id: 'service-centre' });
  let province = '';
  let type: '' | 'cpu' | 'accelerator' = '';
  const market = el('section', { class: 'side-section' });
  const formBox = el('section', { class: 'side-section' });
  const result = el('div', { 'aria-live': 'polite' });
  root.append(market, formBox);

  function renderMarket(state: ViewState): void {
    market.replaceChildren(el('h2', {}, `${t('market')} · ${clusterTotal(state)} ${t('clustersCount')}`));
    const filters = el('div', { class: 'filters' });
    const ps = el('select', { 'aria-label': t('province') });
    ps.append(el('option', { value: '' }, `${t('province')}: ${t('all')}`));
    for (const tile of TILES) ps.append(el('option', { value: tile.code }, `${tile.code} ${provinceLabel(tile)}`));
    ps.value = province;
    ps.addEventListener('change', () => {
      province = ps.value;
      renderMarket(store.state);
    });
    const ts = el('select', { 'aria-label': t('type') });
    for (const [v, k] of [
      ['', 'all'],
      ['cpu', 'cpu'],
      ['accelerator', 'accelerator'],
    ] as const)
      ts.append(el('option', { value: v }, `${t('type')}: ${t(k)}`));
    ts.value = type;
    ts.addEventListener('change', () => {
      type = ts.value as typeof type;
      renderMarket(store.state);
    });
    filters.append(ps, ts);
    const rows = marketRows(state, { ...(province ? { province } : {}), ...(type ? { type } : {}), limit: 30 });
    const table = el('table', { id: 'market-table' });
    const head = el('tr');
    for (const [h, c] of [
      [t('cluster'), ''],
      [t('province'), ''],
      [t('coresFree'), 'num'],
      [t('accelerators'), 'num'],
      [t('priceShort'), 'num'],
    ])
      head.append(el('th', c ? { class: c } : {}, h));
    table.append(head);
    for (const c of rows) {
      const tr = el('tr');
      tr.style.cursor = 'pointer';
      tr.title = `${c.id} ${c.name} · ${t('green')} ${Math.round(c.greenShare * 100)}%`;
      tr.addEventListener('click', () => store.select({ kind: 'cluster', id: c.id }));
      tr.append(
        el('td', { class: 'code' }, c.name),
        el('td', {}, c.province),
        el('td', { class: 'num' }, String(c.cpuAvailable)),
        el('td', { class: 'num' }, String(c.acceleratorsAvailable)),
        el('td', { class: 'num' }, c.pricePerCoreHourYuan.toFixed(3)),
      );
      table.append(tr);
    }
    market.append(filters, table);
  }

  function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLLabelElement {
    const l = el('label', {}, label);
    l.append(input);
    return l;
  }

  function renderForm(): void {
    formBox.replaceChildren(el('h2', {}, t('template')));
    const form = el('form', { class: 'template', id: 'template-form' });
    const cores = el('input', { type: 'number', name: 'cpuCores', value: '64', min: '0' });
    const mem = el('input', { type: 'number', name: 'memoryGib', value: '256', min: '0' });
    const acc = el('input', { type: 'number', name: 'accelerators', value: '0', min: '0' });
    const hours = el('input', { type: 'number', name: 'durationHours', value: '4', min: '0.1', step: '0.1' });
    const user = el('select', { name: 'userProvince' });
    for (const tile of TILES) user.append(el('option', { value: tile.code }, `${tile.code} ${provinceLabel(tile)}`));
    user.value = '31';
    const objective = el('select', { name: 'objective' });
    for (const o of ['balanced', 'cost', 'latency', 'green'] as const)
      objective.append(el('option', { value: o }, t(`objective_${o}`)));
    const tolerant = el('input', { type: 'checkbox', name: 'latencyTolerant' });
    tolerant.checked = true;
    const tolerantLabel = el('label', {}, t('latencyTolerant'));
    tolerantLabel.style.flexDirection = 'row';
    tolerantLabel.prepend(tolerant);
    const submit = el('button', { type: 'submit', id: 'template-submit' }, t('submit'));
    form.append(
      field(t('cores'), cores),
      field(t('memory'), mem),
      field(t('accelerators'), acc),
      field(t('duration'), hours),
      field(t('from'), user),
      field(t('objective'), objective),
      tolerantLabel,
      submit,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const count = Number(acc.value);
      const request = SelectionRequest.safeParse({
        template: {
          name: 'visualiser',
          demand: {
            cpuCores: Number(cores.value),
            memoryGib: Number(mem.value),
            ...(count > 0 ? { accelerators: { count } } : {}),
          },
          durationHours: Number(hours.value),
          constraints: { userProvince: user.value },
          objective: objective.value,
          latencyTolerant: tolerant.checked,
        },
        topK: 5,
      });
      if (!request.success)
        return void result.replaceChildren(
          el(
            'div',
            { class: 'notice' },
            request.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          ),
        );
      if (store.mode !== 'live')
        return void result.replaceChildren(el('div', { class: 'notice', id: 'needs-live' }, t('needsLive')));
      void submitSelection(request.data);
    });
    formBox.append(modeLine, form, result);
    showMode();
  }

  // Which mode the centre is in, said plainly: selections go to the live node, or need one (replay).
  const modeLine = el('div', { class: 'mode-line', id: 'service-mode' });
  let shownMode = '';
  function showMode(): void {
    shownMode = store.mode;
    if (store.mode === 'live') {
      modeLine.className = 'mode-line live';
      modeLine.textContent = `${t('serviceLive')} ${store.liveUrl ?? ''}`;
      if (result.querySelector('#needs-live')) result.replaceChildren();
    } else {
      modeLine.className = 'mode-line';
      modeLine.textContent = store.mode === 'replay' ? t('serviceReplay') : t('none');
      result.replaceChildren(el('div', { class: 'notice', id: 'needs-live' }, t('needsLive')));
    }
  }

  async function submitSelection(body: unknown): Promise<void> {
    result.replaceChildren(el('div', { class: 'muted' }, t('loading')));
    try {
      // Same origin first (cpnet viz forwards it to the live node); the dev server has no forwarder, so go direct.
      const res = await fetch('cpn/v1/selections', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cpn-protocol': '1.0' },
        body: JSON.stringify(body),
      });
      const json: unknown = await res.json();
      const answer = SelectionAnswer.safeParse(json);
      if (res.ok && answer.success) return void result.replaceChildren(renderAnswer(answer.data));
      const err = (json as { error?: { code?: string; message?: string } }).error;
      result.replaceChildren(
        el(
          'div',
          { class: 'notice' },
          `${res.status} ${err?.code ?? ''} ${err?.message ?? (answer.success ? '' : (answer.error.issues[0]?.message ?? ''))}`,
        ),
      );
    } catch (e) {
      result.replaceChildren(el('div', { class: 'notice' }, e instanceof Error ? e.message : String(e)));
    }
  }

  renderForm();
  return {
    root,
    update(state: ViewState, force: boolean): void {
      if (store.mode !== shownMode) showMode();
      if (force) renderMarket(state);
    },
    relabel(): void {
      renderForm();
    },
  };
}
