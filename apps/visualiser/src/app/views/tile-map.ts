import { interpolateBlues, select } from 'd3';
import { provinceStats } from '../../state/aggregate.ts';
import { dotCount, flowRates, type Flow } from '../../state/flows.ts';
import { TILE_COLUMNS, TILE_ROWS, TILES, type Tile } from '../../state/tile-layout.ts';
import type { ViewState } from '../../state/types.ts';
import { provinceLabel, t } from '../i18n.ts';
import { el, type Store } from '../store.ts';

const FLOW_WINDOW_MS = 60_000;
const MAX_FLOWS = 60;

/** The schematic province tile map with animated job flows (canvas dots over SVG tiles). */
export function createTileMap(root: HTMLElement, store: Store) {
  root.append(el('h2', { id: 'tilemap-title' }, t('tilemap')));
  const stage = el('div', { class: 'stage' });
  const svg = select(stage).append('svg').attr('role', 'img').attr('aria-labelledby', 'tilemap-title');
  const hatch = svg
    .append('defs')
    .append('pattern')
    .attr('id', 'fault-hatch')
    .attr('width', 8)
    .attr('height', 8)
    .attr('patternUnits', 'userSpaceOnUse')
    .attr('patternTransform', 'rotate(45)');
  hatch.append('rect').attr('width', 3).attr('height', 8).attr('fill', 'rgba(250,82,82,0.55)');
  const canvas = el('canvas');
  canvas.style.pointerEvents = 'none';
  // Flows under the tiles (drawn semi-transparent) so that the province names stay readable over busy flows.
  stage.prepend(canvas);
  const legend = el('div', { class: 'legend' });
  stage.append(legend);
  root.append(stage);
  let width = 0;
  let height = 0;
  let cell = 0;
  let ox = 0;
  let oy = 0;
  let flows: Flow[] = [];
  let flowsAt = -1;
  let flowsComputedAt = 0;
  let statsVersion = -1;
  let tilesAt = -1e9;

  const centre = (code: string): [number, number] | null => {
    const tile = TILES.find((x) => x.code === code);
    return tile ? [ox + (tile.col + 0.5) * cell, oy + (tile.row + 0.5) * cell] : null;
  };

  function resize(): boolean {
    const w = stage.clientWidth;
    const h = stage.clientHeight;
    if (w === width && h === height) return false;
    width = w;
    height = h;
    cell = Math.floor(Math.min(w / TILE_COLUMNS, h / TILE_ROWS));
    ox = (w - cell * TILE_COLUMNS) / 2;
    oy = (h - cell * TILE_ROWS) / 2;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    return true;
  }

  function drawTiles(state: ViewState): void {
    const stats = provinceStats(state);
    const maxClusters = Math.max(1, ...[...stats.values()].map((s) => s.clusters));
    const downNodes = new Set(
      [...state.nodes.values()].filter((n) => n.health === 'down' && n.province).map((n) => n.province!),
    );
    const g = svg
      .selectAll<SVGGElement, Tile>('g.tile')
      .data(TILES, (d) => d.code)
      .join((enter) => {
        const e = enter.append('g').attr('class', 'tile').attr('tabindex', '0').attr('role', 'button');
        e.append('rect');
        // A tile with a failure is hatched as well as bordered red (not by colour alone).
        e.append('rect').attr('class', 'hatch');
        e.append('text').attr('class', 'name');
        e.append('text').attr('class', 'sub');
        e.append('title');
        return e;
      });
    const pad = Math.max(1.5, cell * 0.04);
    g.attr('transform', (d) => `translate(${ox + d.col * cell + pad},${oy + d.row * cell + pad})`)
      .attr('data-province', (d) => d.code)
      .classed('down', (d) => downNodes.has(d.code) || (stats.get(d.code)?.clustersDown ?? 0) > 0)
      .classed('selected', (d) => store.selection?.kind === 'province' && store.selection.id === d.code)
      .on('click', (_e, d) => store.select({ kind: 'province', id: d.code }))
      .on('keydown', (e: KeyboardEvent, d) => {
        if (e.key === 'Enter') store.select({ kind: 'province', id: d.code });
      });
    g.select('rect.hatch')
      .attr('width', cell - 2 * pad)
      .attr('height', cell - 2 * pad)
      .attr('fill', 'url(#fault-hatch)');
    g.select('rect:not(.hatch)')
      .attr('width', cell - 2 * pad)
      .attr('height', cell - 2 * pad)
      .attr('fill', (d) => {
        const s = stats.get(d.code);
        return s && s.clusters > 0 ? interpolateBlues(0.25 + 0.6 * (s.clusters / maxClusters)) : '#1f2d3b';
      });
    const small = cell < 58;
    // Each name is sized to fit its tile (English names are long: "Inner Mongolia 15").
    const label = (d: Tile) => `${provinceLabel(d)}${small ? '' : ` ${d.code}`}`;
    const fit = (text: string) =>
      Math.max(
        7,
        Math.min(
          14,
          cell * 0.2,
          ((cell - 2 * pad) * 0.92) / [...text].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 1 : 0.56), 0),
        ),
      );
    // One size for every name: the largest that fits the longest one.
    const nameSize = Math.min(...TILES.map((d) => fit(label(d))));
    g.select('text.name')
      .attr('x', (cell - 2 * pad) / 2)
      .attr('y', cell * 0.38)
      .style('font-size', `${nameSize}px`)
      .text(label);
    g.select('text.sub')
      .attr('x', (cell - 2 * pad) / 2)
      .attr('y', cell * 0.66)
      .style('font-size', `${Math.max(8, Math.min(11, cell * 0.15))}px`)
      .text((d) => {
        const s = stats.get(d.code);
        return s ? `${s.nodes}·${s.clusters}` : '';
      });
    g.select('title').text((d) => {
      const s = stats.get(d.code);
      return (
        `${d.code} ${d.name} (${d.nameEn}) · ${s?.nodes ?? 0} ${t('nodesCount')} · ${s?.clusters ?? 0} ` +
        `${t('clustersCount')}${s ? ` · ${t('utilisation')} ${Math.round(s.meanUtilisation * 100)}%` : ''}`
      );
    });
  }

  function drawFlows(now: number): void {
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const phaseBase = (now / 2400) % 1;
    for (const f of flows) {
      const a = centre(f.from);
      const b = centre(f.to);
      if (!a || !b || f.from === f.to) continue;
      // A curved path bending to the left of its direction, so A→B and B→A do not overlap.
      const mx = (a[0] + b[0]) / 2 - (b[1] - a[1]) * 0.18;
      const my = (a[1] + b[1]) / 2 + (b[0] - a[0]) * 0.18;
      // The path's width follows the rate too (dots for motion, width for a still screenshot or a projector).
      ctx.strokeStyle = f.failedPerMinute > f.perMinute ? 'rgba(255,77,79,0.55)' : 'rgba(77,171,247,0.45)';
      ctx.lineWidth = Math.min(9, 1 + 1.2 * Math.sqrt(f.perMinute + f.failedPerMinute));
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.quadraticCurveTo(mx, my, b[0], b[1]);
      ctx.stroke();
      const draw = (n: number, colour: string, style: { offset: number; r: number }) => {
        ctx.fillStyle = colour;
        for (let i = 0; i < n; i++) {
          const u = (phaseBase + style.offset + i / n) % 1;
          const x = (1 - u) ** 2 * a[0] + 2 * (1 - u) * u * mx + u ** 2 * b[0];
          const y = (1 - u) ** 2 * a[1] + 2 * (1 - u) * u * my + u ** 2 * b[1];
          ctx.beginPath();
          ctx.arc(x, y, style.r, 0, 2 * Math.PI);
          ctx.fill();
        }
      };
      draw(dotCount(f.perMinute), '#74c0fc', { offset: 0, r: 2.2 });
      draw(dotCount(f.failedPerMinute, 6), '#ff4d4f', { offset: 0.37, r: 3 });
    }
  }

  return {
    update(state: ViewState, now: number, force = false): void {
      const resized = resize();
      if (force || resized || (state.version !== statsVersion && now - tilesAt > 200)) {
        statsVersion = state.version;
        tilesAt = now;
        drawTiles(state);
      }
      const between = flows.filter((f) => f.from !== f.to);
      const busiest = between[0];
      const name = (code: string) => {
        const tile = TILES.find((x) => x.code === code);
        return tile ? provinceLabel(tile) : code;
      };
      const legendText =
        `${t('flows')}: ${t('flowLegend')} · ${t('nodesCount')}·${t('clustersCount')}` +
        (busiest
          ? `\n${t('busiest')}: ${name(busiest.from)} → ${name(busiest.to)} ` +
            `${busiest.perMinute.toFixed(1)} ${t('perMinute')}（${between.length} ${t('pairs')}）`
          : '');
      if (legend.textContent !== legendText) legend.textContent = legendText;
      stage.dataset.flows = between
        .map((f) => `${f.from}>${f.to}:${f.perMinute.toFixed(2)}:${f.failedPerMinute.toFixed(2)}`)
        .join(' ');
      if (state.t !== flowsAt && now - flowsComputedAt > 100) {
        // The busiest pairs only, so that a national picture stays readable.
        flows = flowRates(store.events, { t: state.t, windowMs: FLOW_WINDOW_MS })
          .sort((a, b) => b.perMinute + 3 * b.failedPerMinute - (a.perMinute + 3 * a.failedPerMinute))
          .slice(0, MAX_FLOWS);
        flowsAt = state.t;
        flowsComputedAt = now;
      }
      drawFlows(now);
    },
    flows: () => flows,
  };
}
