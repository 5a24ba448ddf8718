import { provinceStats } from '../../state/aggregate.ts';
import { recentEvents } from '../../state/filters.ts';
import { TILES } from '../../state/tile-layout.ts';
import type { ViewState } from '../../state/types.ts';
import { provinceLabel, t, te, tv, type Key } from '../i18n.ts';
import { el, formatT, type Store } from '../store.ts';
import { createServiceCentre } from './service-centre.ts';
import { createTrends } from './trends.ts';
import { createPipeline } from './pipeline.ts';
import { pageTime } from '../page-clock.ts';

type Tab = 'overview' | 'nodes' | 'service' | 'trends' | 'pipeline';

function bars(rows: Array<{ label: string; value: number; text: string; colour?: string }>, max: number): HTMLElement {
  const box = el('div', { class: 'bars' });
  for (const r of rows) {
    const bar = el('div', { class: `bar ${r.colour ?? ''}` });
    bar.style.width = `${Math.max(1, (100 * r.value) / Math.max(1e-9, max))}%`;
    const track = el('div');
    track.append(bar);
    box.append(el('span', {}, r.label), track, el('span', { class: 'num' }, r.text));
  }
  return box;
}

function section(titleKey: Key, id: string): HTMLElement {
  const s = el('section', { class: 'side-section', 'aria-labelledby': `${id}-title`, id });
  s.append(el('h2', { id: `${id}-title` }, t(titleKey)));
  return s;
}

/** The side column: overview panels, the node list (codes and names as text) and the service centre. */
export function createSide(root: HTMLElement, store: Store) {
  let tab: Tab = 'overview';
  const tabs = el('div', { class: 'tabs', role: 'tablist' });
  const body = el('div', { role: 'tabpanel' });
  root.append(tabs, body);
  const service = createServiceCentre(store);
  const trends = createTrends(store, () => store.series);
  const pipeline = createPipeline(() => store.mode === 'live');

  function renderTabs(): void {
    tabs.innerHTML = '';
    for (const [id, key] of [
      ['overview', 'overview'],
      ['trends', 'trends'],
      ['nodes', 'nodes'],
      ['service', 'serviceTab'],
      ['pipeline', 'pipelineTab'],
    ] as const) {
      const b = el('button', { role: 'tab', 'aria-selected': String(tab === id), id: `tab-${id}` }, t(key));
      if (id === 'service') b.title = t('service');
      b.addEventListener('click', () => {
        tab = id;
        renderTabs();
        update(store.state, true);
      });
      tabs.append(b);
    }
  }

  function overview(state: ViewState): HTMLElement[] {
    const out: HTMLElement[] = [];
    const jobs = section('jobsByState', 'panel-jobs');
    const entries = Object.entries(state.counters.jobsByState)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]);
    const max = Math.max(1, ...entries.map(([, n]) => n));
    jobs.append(
      entries.length
        ? bars(
            entries.map(([k, n]) => ({
              label: tv(k),
              value: n,
              text: String(n),
              colour: k === 'failed' ? 'red' : k === 'finished' ? 'green' : '',
            })),
            max,
          )
        : el('div', { class: 'muted' }, t('nothing')),
    );
    jobs.append(el('div', { class: 'muted' }, `${t('inFlight')}: ${state.jobs.size}`));
    const sched = section('scheduling', 'panel-scheduling');
    const f = (v: number | null) => (v === null ? '–' : String(Math.round(v)));
    sched.append(
      el(
        'div',
        { class: 'metric' },
        `${t('p50')} ${f(state.counters.schedulingP50Ms)} · ${t('p99')} ${f(state.counters.schedulingP99Ms)}`,
      ),
    );
    sched.lastElementChild!.append(el('small', {}, t('ms')));
    const ids = section('identifiers', 'panel-identifiers');
    ids.append(
      el(
        'div',
        { class: 'metric' },
        `${state.counters.identifiersRegistered.toLocaleString()} ${t('registered')} · ` +
          `${state.counters.identifiersResolved.toLocaleString()} ${t('resolved')}`,
      ),
    );
    const alerts = section('alerts', 'panel-alerts');
    alerts.append(
      el(
        'div',
        { class: `metric ${state.counters.securityAlerts ? 'sev-warning' : ''}` },
        String(state.counters.securityAlerts),
      ),
    );
    const recent = recentEvents(store.events, {
      end: store.mode === 'replay' ? state.cursor : store.events.length,
      filter: { families: ['security'] },
      limit: 4,
    });
    const list = el('ul', { class: 'list' });
    for (const r of recent) {
      const li = el(
        'li',
        { tabindex: '0' },
        `${formatT(r.t)} ${r.event.node} ${te(r.event.type)}` +
          (typeof r.event.data.kind === 'string' ? ` · ${tv(r.event.data.kind)}` : ''),
      );
      li.addEventListener('click', () => store.select({ kind: 'node', id: r.event.node }));
      list.append(li);
    }
    alerts.append(list);
    const prov = section('byProvince', 'panel-provinces');
    const stats = [...provinceStats(state)]
      .filter(([, s]) => s.clusters > 0)
      .sort((a, b) => b[1].clusters - a[1].clusters)
      .slice(0, 12);
    const table = el('table');
    table.append(el('thead'));
    table.tHead!.innerHTML = '';
    const hr = el('tr');
    for (const [h, cls] of [
      [t('province'), ''],
      [t('clusters'), 'num'],
      [t('utilisation'), 'num'],
      [t('price'), 'num'],
    ] as const)
      hr.append(el('th', cls ? { class: cls } : {}, h));
    table.tHead!.append(hr);
    const tb = el('tbody');
    for (const [code, s] of stats) {
      const tile = TILES.find((x) => x.code === code)!;
      const tr = el('tr', { tabindex: '0' });
      tr.style.cursor = 'pointer';
      tr.addEventListener('click', () => store.select({ kind: 'province', id: code }));
      tr.append(
        el('td', {}, `${code} ${provinceLabel(tile)}`),
        el('td', { class: 'num' }, String(s.clusters)),
        el('td', { class: 'num' }, `${Math.round(s.meanUtilisation * 100)}%`),
        el('td', { class: 'num' }, s.meanPrice.toFixed(3)),
      );
      tb.append(tr);
    }
    table.append(tb);
    prov.append(table);
    out.push(jobs, sched, ids, alerts, prov);
    return out;
  }

  function nodeList(state: ViewState): HTMLElement[] {
    const s = section('nodes', 'panel-nodes');
    const list = el('ul', { class: 'list', id: 'node-list', 'aria-label': t('nodes') });
    const nodes = [...state.nodes.values()].sort((a, b) => a.code.localeCompare(b.code));
    for (const n of nodes) {
      const li = el('li', { 'data-code': n.code, tabindex: '0' });
      li.append(
        el('span', { class: `dot ${n.health}`, title: `${t('health')}: ${n.health}` }),
        el('span', { class: 'code' }, n.code),
        el('span', {}, n.name),
        el('span', { class: 'muted' }, tv(n.lifecycle)),
      );
      li.addEventListener('click', () => store.select({ kind: 'node', id: n.code }));
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') store.select({ kind: 'node', id: n.code });
      });
      list.append(li);
    }
    s.append(list);
    return [s];
  }

  let lastKey = '';
  function update(state: ViewState, force = false): void {
    // The node list is rebuilt only when something it shows changed (it keeps focus and scroll otherwise).
    const key =
      tab === 'nodes'
        ? [...state.nodes.values()].map((n) => `${n.code}${n.health}${n.lifecycle}`).join()
        : tab === 'service'
          ? `service${state.clusters.size}`
          : String(state.version);
    if (tab === 'trends') {
      if (!body.contains(trends.root)) body.replaceChildren(trends.root);
      trends.update(pageTime(), force);
      return;
    }
    if (tab === 'pipeline') {
      const fresh = !body.contains(pipeline.root);
      if (fresh) body.replaceChildren(pipeline.root);
      pipeline.update(force || fresh);
      return;
    }
    if (!force && key === lastKey) return;
    lastKey = key;
    if (tab === 'service') {
      if (!body.contains(service.root) || force) {
        body.replaceChildren(service.root);
        service.update(state, true);
      } else service.update(state, false);
      return;
    }
    body.replaceChildren(...(tab === 'overview' ? overview(state) : nodeList(state)));
  }

  renderTabs();
  return {
    update,
    relabel(): void {
      renderTabs();
      service.relabel();
      update(store.state, true);
    },
    show(next: Tab): void {
      tab = next;
      renderTabs();
      update(store.state, true);
    },
  };
}
