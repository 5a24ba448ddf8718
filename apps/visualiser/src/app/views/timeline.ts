import { scaleLinear, select } from 'd3';
import { EVENT_FAMILIES, eventHistogram, recentEvents } from '../../state/filters.ts';
import type { ViewState } from '../../state/types.ts';
import { t, te, tf, tv } from '../i18n.ts';
import { el, formatT, selectionFor, type Store } from '../store.ts';

const BUCKETS = 240;

/** The event timeline: filters, a density strip with failover episodes marked, episode and recent-event lists. */
export function createTimeline(root: HTMLElement, store: Store) {
  root.append(el('h2', { id: 'timeline-title' }, t('timeline')));
  const stage = el('div', { class: 'stage' });
  const filters = el('div', { class: 'filters', role: 'group', 'aria-label': t('filters') });
  const strip = el('div', { class: 'strip' });
  const episodesBox = el('div', { class: 'episodes' });
  const recent = el('div', { class: 'recent' });
  stage.append(filters, strip, recent, episodesBox);
  root.append(stage);
  const svg = select(strip).append('svg').attr('aria-label', t('timeline'));
  // Node and cluster failures as bands across the whole strip, from failure to recovery (hatched: not colour alone).
  const gBands = svg.append('g').attr('class', 'episode-bands');
  const gHist = svg.append('g');
  const gEpisodes = svg.append('g').attr('class', 'episode-marks');
  const cursor = svg.append('line').attr('stroke', '#ffd43b').attr('stroke-width', 2).attr('y1', 0);
  let histKey = '';
  let recentKey = '';

  function x(): d3Scale {
    return scaleLinear()
      .domain([0, Math.max(1, store.duration)])
      .range([0, strip.clientWidth]);
  }
  type d3Scale = ReturnType<typeof scaleLinear<number, number>>;

  let dragging = false;
  const seekAt = (e: PointerEvent) => store.seek(Math.max(0, x().invert(e.offsetX)));
  svg
    .on('pointerdown', (e: PointerEvent) => {
      dragging = true;
      seekAt(e);
    })
    .on('pointermove', (e: PointerEvent) => {
      if (dragging) seekAt(e);
    })
    .on('pointerup pointerleave', () => {
      dragging = false;
    });

  function renderFilters(): void {
    filters.replaceChildren(el('span', { class: 'muted' }, `${t('filters')}:`));
    const chosen = new Set(store.filter.families ?? []);
    for (const family of EVENT_FAMILIES) {
      const label = el('label');
      const box = el('input', { type: 'checkbox', value: family, 'data-family': family });
      box.checked = chosen.size === 0 || chosen.has(family);
      box.addEventListener('change', () => {
        const on = [...filters.querySelectorAll<HTMLInputElement>('input[data-family]')]
          .filter((b) => b.checked)
          .map((b) => b.value);
        store.setFilter({ ...store.filter, families: on.length === EVENT_FAMILIES.length ? [] : on });
      });
      label.append(box, tf(family));
      filters.append(label);
    }
    const sev = el('select', { 'aria-label': t('minSeverity') });
    for (const s of ['info', 'warning', 'critical'] as const)
      sev.append(el('option', { value: s }, `${t('minSeverity')}: ${t(s)}`));
    sev.value = store.filter.minSeverity ?? 'info';
    sev.addEventListener('change', () => store.setFilter({ ...store.filter, minSeverity: sev.value as 'info' }));
    const text = el('input', { type: 'search', placeholder: t('search'), 'aria-label': t('search') });
    text.value = store.filter.text ?? '';
    text.addEventListener('input', () => store.setFilter({ ...store.filter, text: text.value }));
    filters.append(sev, text);
  }

  function renderStrip(force: boolean): void {
    const w = strip.clientWidth;
    const h = strip.clientHeight;
    const key = `${w}x${h}|${store.events.length}|${JSON.stringify(store.filter)}|${store.episodes.length}|${store.duration}`;
    if (!force && key === histKey) return;
    histKey = key;
    const counts = eventHistogram(store.events, { duration: store.duration, buckets: BUCKETS, filter: store.filter });
    const max = Math.max(1, ...counts);
    const bw = w / BUCKETS;
    gHist
      .selectAll('rect')
      .data(counts)
      .join('rect')
      .attr('x', (_d, i) => i * bw)
      .attr('width', Math.max(1, bw - 0.5))
      .attr('y', (d) => h - 4 - (h - 24) * (d / max))
      .attr('height', (d) => (h - 24) * (d / max))
      .attr('fill', '#3b5b7a');
    const sx = x();
    const eps = store.episodes;
    const row = { node: 0, cluster: 1, job: 2 } as const;
    gEpisodes
      .selectAll('rect')
      .data(eps)
      .join((enter) => {
        const r = enter.append('rect');
        r.append('title');
        return r;
      })
      .attr('class', (e) => `episode ${e.kind}`)
      .attr('data-subject', (e) => e.subject)
      .attr('x', (e) => sx(e.start))
      .attr('width', (e) => Math.max(3, sx(e.end ?? store.duration) - sx(e.start)))
      .attr('y', (e) => 2 + row[e.kind] * 10)
      .attr('height', 9)
      .style('cursor', 'pointer')
      .on('click', (ev: MouseEvent, e) => {
        ev.stopPropagation();
        store.seek(e.start);
        store.select(selectionFor(e.subject, store.state));
      })
      .select('title')
      .text(
        (e) =>
          `${t('episodes')}: ${tv(e.kind)} ${e.subject} ${formatT(e.start)} → ${e.end === null ? t('open') : formatT(e.end)}`,
      );
    gBands
      .selectAll('rect')
      .data(eps.filter((e) => e.kind !== 'job'))
      .join('rect')
      .attr('class', 'episode-band')
      .attr('data-subject', (e) => e.subject)
      .attr('x', (e) => sx(e.start))
      .attr('width', (e) => Math.max(3, sx(e.end ?? store.duration) - sx(e.start)))
      .attr('y', 0)
      .attr('height', h);
    cursor.attr('y2', h);
    episodesBox.replaceChildren(el('h3', { class: 'muted' }, `${t('episodes')} (${eps.length})`));
    const ul = el('ul', { class: 'list', id: 'episode-list' });
    // Node and cluster episodes first: they are what a reviewer looks for; job failures follow.
    const ordered = [...eps].sort(
      (a, b) => (a.kind === 'job' ? 1 : 0) - (b.kind === 'job' ? 1 : 0) || a.start - b.start,
    );
    for (const e of ordered.slice(0, 200)) {
      const li = el('li', { 'data-subject': e.subject, class: e.end === null ? 'sev-critical' : '', tabindex: '0' });
      li.append(
        el('span', { class: 'time' }, `${formatT(e.start)}–${e.end === null ? t('open') : formatT(e.end)}`),
        el('span', { class: 'muted' }, tv(e.kind)),
        el('span', { class: 'code' }, e.subject),
      );
      li.addEventListener('click', () => {
        store.seek(e.start);
        store.select(selectionFor(e.subject, store.state));
      });
      ul.append(li);
    }
    episodesBox.append(ul);
  }

  function renderRecent(state: ViewState, force: boolean): void {
    const end = store.mode === 'replay' ? state.cursor : store.events.length;
    const key = `${end}|${JSON.stringify(store.filter)}`;
    if (!force && key === recentKey) return;
    recentKey = key;
    const items = recentEvents(store.events, { end, filter: store.filter, limit: 40 });
    const ul = el('ul', { class: 'list', id: 'recent-events', 'aria-label': t('recent') });
    for (const r of items) {
      const li = el('li', { class: `sev-${r.event.severity}`, tabindex: '0' });
      li.append(
        el('span', { class: 'time' }, formatT(r.t)),
        el('span', { title: r.event.type }, te(r.event.type)),
        el('span', { class: 'code' }, r.event.subject ?? r.event.node),
      );
      li.addEventListener('click', () => store.select(selectionFor(r.event.subject ?? r.event.node, store.state)));
      ul.append(li);
    }
    recent.replaceChildren(el('h3', { class: 'muted' }, t('recent')), ul);
  }

  renderFilters();
  return {
    update(state: ViewState, force = false): void {
      renderStrip(force);
      const sx = x();
      cursor.attr('x1', sx(state.t)).attr('x2', sx(state.t));
      renderRecent(state, force);
    },
    relabel(): void {
      renderFilters();
      histKey = '';
      recentKey = '';
    },
  };
}
