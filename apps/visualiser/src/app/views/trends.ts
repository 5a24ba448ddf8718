import { axisBottom, axisLeft, line, max, scaleLinear, schemeTableau10, select } from 'd3';
import { seriesTables, toCsv, type Series } from '../../state/series.ts';
import { TILES } from '../../state/tile-layout.ts';
import { provinceLabel, t, tv, type Key } from '../i18n.ts';
import { el, type Store } from '../store.ts';

type TableName = 'jobs' | 'scheduling' | 'provinces' | 'alerts';
interface Line {
  name: string;
  points: [number, number | null][];
}

const WIDTH = 330;
const HEIGHT = 110;
const M = { top: 6, right: 8, bottom: 18, left: 36 };

/** Saves text as a file (the page's own download; nothing leaves the machine). */
function download(name: string, text: string): void {
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

function chart(lines: Line[], to: number, unit: string): SVGSVGElement {
  const svg = select(document.createElementNS('http://www.w3.org/2000/svg', 'svg'))
    .attr('viewBox', `0 0 ${WIDTH} ${HEIGHT}`)
    .attr('class', 'trend');
  const all = lines.flatMap((l) => l.points.map((p) => p[1] ?? 0));
  const x = scaleLinear()
    .domain([Math.min(0, ...lines.flatMap((l) => l.points.map((p) => p[0]))), Math.max(1, to)])
    .range([M.left, WIDTH - M.right]);
  const y = scaleLinear()
    .domain([0, Math.max(1e-9, max(all) ?? 1)])
    .nice()
    .range([HEIGHT - M.bottom, M.top]);
  svg
    .append('g')
    .attr('transform', `translate(0,${HEIGHT - M.bottom})`)
    .call(
      axisBottom(x)
        .ticks(5)
        .tickFormat((v) => `${Math.round(Number(v) / 60_000)}`),
    );
  svg
    .append('g')
    .attr('transform', `translate(${M.left},0)`)
    .call(
      axisLeft(y)
        .ticks(3)
        .tickFormat((v) => `${Number(v)}${unit}`),
    );
  const path = line<[number, number | null]>()
    .defined((p) => p[1] !== null)
    .x((p) => x(p[0]))
    .y((p) => y(p[1] ?? 0));
  lines.forEach((l, i) =>
    svg
      .append('path')
      .attr('d', path(l.points))
      .attr('fill', 'none')
      .attr('stroke', schemeTableau10[i % 10]!)
      .attr('stroke-width', 1.6)
      // Dashes as well as colours, so that lines stay apart on a projector or for colour-blind viewers.
      .attr('stroke-dasharray', ['', '5 3', '2 2', '8 3 2 3'][Math.floor(i / 10) + (i % 4)] ?? ''),
  );
  return svg.node()!;
}

/** The trends tab: jobs by state, scheduling p50/p99, utilisation and price by province, alerts by kind; CSV each. */
export function createTrends(store: Store, series: () => Series) {
  const root = el('div', { class: 'trends', id: 'trends' });
  let drawnAt = -1;

  function section(name: TableName, titleKey: Key, plot: { lines: Line[]; unit: string; to: number }): HTMLElement {
    const { lines, unit, to } = plot;
    const s = el('section', { class: 'side-section', id: `trend-${name}` });
    const head = el('div', { class: 'trend-head' });
    const csv = el('button', { class: 'csv', id: `csv-${name}`, 'aria-label': `${t(titleKey)} CSV` }, t('csv'));
    csv.addEventListener('click', () => {
      const table = seriesTables(series(), store.events, { to: store.duration, buckets: 60 })[name];
      download(`cpnet-${name}.csv`, toCsv(table.header, table.rows));
    });
    head.append(el('h2', {}, t(titleKey)), csv);
    s.append(head, chart(lines, to, unit));
    const legend = el('div', { class: 'trend-legend' });
    lines.slice(0, 10).forEach((l, i) => {
      const item = el('span', {}, l.name);
      item.style.borderColor = schemeTableau10[i % 10]!;
      legend.append(item);
    });
    s.append(legend);
    return s;
  }

  function render(): void {
    const { samples } = series();
    const to = store.duration;
    const tables = seriesTables(series(), store.events, { to, buckets: 60 });
    const jobs = tables.jobs.header.slice(1).map((k, i) => ({
      name: tv(k),
      points: tables.jobs.rows.map((r) => [r[0] as number, r[i + 1] as number] as [number, number]),
    }));
    const sched = [
      { name: 'p50', points: samples.map((s) => [s.t, s.p50] as [number, number | null]) },
      { name: 'p99', points: samples.map((s) => [s.t, s.p99] as [number, number | null]) },
    ];
    const codes = [...new Set(samples.flatMap((s) => Object.keys(s.provinces)))].sort();
    const name = (code: string) => {
      const tile = TILES.find((x) => x.code === code);
      return tile ? provinceLabel(tile) : code;
    };
    const util = codes.map((c) => ({
      name: name(c),
      points: samples.map(
        (s) => [s.t, s.provinces[c] ? s.provinces[c].utilisation * 100 : null] as [number, number | null],
      ),
    }));
    const price = codes.map((c) => ({
      name: name(c),
      points: samples.map((s) => [s.t, s.provinces[c]?.price ?? null] as [number, number | null]),
    }));
    const alerts = tables.alerts.header.slice(1).map((k, i) => ({
      name: tv(k),
      points: tables.alerts.rows.map((r) => [r[0] as number, r[i + 1] as number] as [number, number]),
    }));
    root.replaceChildren(
      el('div', { class: 'muted' }, `${t('trendsNote')} · ${samples.length} ${t('samples')}`),
      section('jobs', 'jobsByState', { lines: jobs, unit: '', to }),
      section('scheduling', 'scheduling', { lines: sched, unit: '', to }),
      section('provinces', 'utilisationTrend', { lines: util, unit: '%', to }),
      section('provinces', 'priceTrend', { lines: price, unit: '', to }),
      section('alerts', 'alertsByKind', { lines: alerts, unit: '', to }),
    );
    // Two sections share the provinces table: the second CSV button keeps its own id.
    const second = root.querySelectorAll('#trend-provinces');
    if (second[1]) {
      second[1].id = 'trend-prices';
      second[1].querySelector('button.csv')!.id = 'csv-prices';
    }
  }

  return {
    root,
    /** Redraws at most every 2 s (wall) of page time: the series grow slowly. */
    update(now: number, force: boolean): void {
      if (!force && now - drawnAt < 2000) return;
      drawnAt = now;
      render();
    },
  };
}
