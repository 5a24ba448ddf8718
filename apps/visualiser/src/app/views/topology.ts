import {
  hierarchy,
  interpolateYlGnBu,
  select,
  tree,
  zoom,
  zoomIdentity,
  type HierarchyPointNode,
  type ZoomTransform,
} from 'd3';
import type { SnapshotCluster, SnapshotNode } from '@cpnet/protocol';
import type { ViewState } from '../../state/types.ts';
import { t, tv } from '../i18n.ts';
import { el, type Store } from '../store.ts';
import { clusterTotal } from '../../state/aggregate.ts';

/** Fill = lifecycle. */
const LIFECYCLE_FILL: Record<string, string> = {
  online: '#1c7ed6',
  'joint-debugging': '#9c36b5',
  accepted: '#3bc9db',
  approved: '#66d9e8',
  reviewing: '#adb5bd',
  applied: '#ced4da',
  suspended: '#495057',
  revoked: '#000000',
  rejected: '#862e9c',
};
/** Height (px) at the bottom of the stage kept for the legend's three lines. */
const LEGEND_SPACE = 64;

/** Ring = health. */
const HEALTH_STROKE: Record<string, string> = { healthy: '#40c057', degraded: '#fab005', down: '#fa5252' };

interface Placed {
  node: SnapshotNode;
  x: number;
  y: number;
  angle: number;
}
interface Layout {
  key: string;
  placed: Map<string, Placed>;
  clusterXY: Float32Array;
  clusterIndex: Map<string, number>;
  clusterIds: string[];
  dotSpacing: number;
}

const UTIL_BINS = 10;
const utilColour = Array.from({ length: UTIL_BINS }, (_, i) => interpolateYlGnBu(0.25 + (0.75 * i) / (UTIL_BINS - 1)));

/** The radial topology: national at the centre, regional nodes, industry nodes; clusters as canvas dots around their node. */
export function createTopology(root: HTMLElement, store: Store) {
  root.append(el('h2', { id: 'topology-title' }, t('topology')));
  const stage = el('div', { class: 'stage' });
  const canvas = el('canvas');
  const svg = select(stage).append('svg').attr('role', 'img').attr('aria-labelledby', 'topology-title');
  stage.prepend(canvas);
  const legend = el('div', { class: 'legend' });
  stage.append(legend);
  root.append(stage);
  const gRoot = svg.append('g');
  const gLinks = gRoot.append('g').attr('class', 'links');
  const gNodes = gRoot.append('g').attr('class', 'nodes');
  let transform: ZoomTransform = zoomIdentity;
  let layout: Layout | null = null;
  let lastVersion = -1;
  let drawnAt = -1e9;
  let nodesSignature = '';
  let width = 0;
  let height = 0;

  const z = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.5, 12])
    .on('zoom', (e: { transform: ZoomTransform }) => {
      transform = e.transform;
      gRoot.attr('transform', transform.toString());
      drawClusters(store.state);
    });
  svg.call(z);
  svg.on('click', (e: MouseEvent) => {
    // A click on the canvas area picks the nearest cluster dot (the SVG circles handle node clicks themselves).
    if ((e.target as Element).tagName !== 'svg' || !layout) return;
    const [mx, my] = transform.invert([e.offsetX, e.offsetY]);
    let best = -1;
    let bestD = (layout.dotSpacing * 1.5) ** 2;
    for (let i = 0; i < layout.clusterIds.length; i++) {
      const d = (layout.clusterXY[2 * i]! - mx) ** 2 + (layout.clusterXY[2 * i + 1]! - my) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    if (best >= 0) store.select({ kind: 'cluster', id: layout.clusterIds[best]! });
  });

  function resize(): boolean {
    const w = stage.clientWidth;
    const h = stage.clientHeight;
    if (w === width && h === height) return false;
    width = w;
    height = h;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    layout = null;
    return true;
  }

  function computeLayout(state: ViewState): Layout {
    const nodes = [...state.nodes.values()];
    const byNode = new Map<string, SnapshotCluster[]>();
    for (const c of state.clusters.values()) {
      const list = byNode.get(c.node);
      if (list) list.push(c);
      else byNode.set(c.node, [c]);
    }
    const key = `${width}x${height}|${nodes.map((n) => n.code).join(',')}|${state.clusters.size}`;
    if (layout && layout.key === key) return layout;
    const codes = new Set(nodes.map((n) => n.code));
    const rootCode = nodes.find((n) => n.role === 'national')?.code ?? '__root';
    const rows = nodes.map((n) => ({
      id: n.code,
      parent: n.code === rootCode ? null : n.parent && codes.has(n.parent) ? n.parent : rootCode,
      node: n,
    }));
    if (!codes.has(rootCode))
      rows.push({
        id: rootCode,
        parent: null,
        node: {
          code: rootCode,
          role: 'national',
          name: '',
          parent: null,
          province: null,
          industry: null,
          lifecycle: 'online',
          health: 'healthy',
          url: null,
        },
      });
    const children = new Map<string | null, typeof rows>();
    for (const r of rows) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const rootRow = rows.find((r) => r.parent === null)!;
    const h = hierarchy(rootRow, (r) => (children.get(r.id) ?? []).sort((a, b) => a.id.localeCompare(b.id)));
    // The legend takes the bottom of the stage: the tree is laid out above it, so no label runs under it.
    const usable = Math.max(120, height - LEGEND_SPACE);
    const radius = Math.max(60, Math.min(width, usable) / 2 - 44);
    const laid = tree<typeof rootRow>()
      .size([2 * Math.PI, radius])
      .separation((a, b) => (a.parent === b.parent ? 1 : 1.4) / Math.max(1, a.depth))(h);
    const placed = new Map<string, Placed>();
    const maxDepth = Math.max(1, laid.height);
    laid.each((p: HierarchyPointNode<typeof rootRow>) => {
      const r = (p.depth / maxDepth) * radius * (p.depth === 1 && maxDepth === 2 ? 1.15 : 1);
      placed.set(p.data.id, {
        node: p.data.node,
        angle: p.x,
        x: width / 2 + r * Math.sin(p.x),
        y: usable / 2 - r * Math.cos(p.x),
      });
    });
    // Dots in a sunflower (phyllotaxis) around their node; the spacing shrinks so the busiest node's disc fits its slot.
    const maxCount = Math.max(1, ...[...byNode.values()].map((l) => l.length));
    const slot = (2 * Math.PI * radius) / Math.max(1, placed.size - 1);
    const dotSpacing = Math.max(0.9, Math.min(3, (slot * 0.55) / Math.sqrt(maxCount)));
    const clusterIds: string[] = [];
    const xy: number[] = [];
    for (const [code, list] of byNode) {
      const at = placed.get(code) ?? placed.get(rootCode)!;
      list.sort((a, b) => a.id.localeCompare(b.id));
      for (let i = 0; i < list.length; i++) {
        const r = dotSpacing * Math.sqrt(i + 6);
        const a = i * 2.39996;
        clusterIds.push(list[i]!.id);
        xy.push(at.x + r * Math.cos(a), at.y + r * Math.sin(a));
      }
    }
    return {
      key,
      placed,
      clusterXY: Float32Array.from(xy),
      clusterIndex: new Map(clusterIds.map((id, i) => [id, i])),
      clusterIds,
      dotSpacing,
    };
  }

  function drawClusters(state: ViewState): void {
    const ctx = canvas.getContext('2d');
    if (!ctx || !layout) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.setTransform(dpr * transform.k, 0, 0, dpr * transform.k, dpr * transform.x, dpr * transform.y);
    const bins: number[][] = Array.from({ length: UTIL_BINS + 3 }, () => []);
    for (const c of state.clusters.values()) {
      const i = layout.clusterIndex.get(c.id);
      if (i === undefined) continue;
      const b =
        c.health === 'down'
          ? UTIL_BINS
          : c.health === 'degraded'
            ? UTIL_BINS + 1
            : c.lifecycle !== 'active'
              ? UTIL_BINS + 2
              : Math.min(UTIL_BINS - 1, Math.floor(c.utilisation * UTIL_BINS));
      bins[b]!.push(i);
    }
    const size = Math.max(0.9, layout.dotSpacing * 0.8);
    const colours = [...utilColour, '#fa5252', '#fab005', '#5c6b7a'];
    for (let b = 0; b < bins.length; b++) {
      ctx.fillStyle = colours[b]!;
      const s = b === UTIL_BINS ? size * 1.6 : size;
      for (const i of bins[b]!)
        ctx.fillRect(layout.clusterXY[2 * i]! - s / 2, layout.clusterXY[2 * i + 1]! - s / 2, s, s);
    }
    // A down cluster is also crossed out (shape as well as colour).
    ctx.strokeStyle = '#ffe3e3';
    ctx.lineWidth = Math.max(0.4, size * 0.25);
    ctx.beginPath();
    const r = size * 0.8;
    for (const i of bins[UTIL_BINS]!) {
      const x = layout.clusterXY[2 * i]!;
      const y = layout.clusterXY[2 * i + 1]!;
      ctx.moveTo(x - r, y - r);
      ctx.lineTo(x + r, y + r);
      ctx.moveTo(x - r, y + r);
      ctx.lineTo(x + r, y - r);
    }
    ctx.stroke();
  }

  function drawNodes(state: ViewState): void {
    if (!layout) return;
    const placed = layout.placed;
    const links = [...state.links.values()].filter((l) => placed.has(l.from) && placed.has(l.to));
    gLinks
      .selectAll<SVGLineElement, (typeof links)[number]>('line')
      .data(links, (l) => `${l.from}>${l.to}`)
      .join('line')
      .attr('x1', (l) => placed.get(l.from)!.x)
      .attr('y1', (l) => placed.get(l.from)!.y)
      .attr('x2', (l) => placed.get(l.to)!.x)
      .attr('y2', (l) => placed.get(l.to)!.y)
      .attr('stroke', (l) => (l.health === 'healthy' ? '#3d5a75' : HEALTH_STROKE[l.health]!))
      .attr('stroke-width', (l) => (l.health === 'healthy' ? 1 : 2.5))
      .attr('stroke-dasharray', (l) => (l.health === 'down' ? '5 4' : null))
      .attr('class', (l) => `link ${l.health}`);
    const nodes = [...state.nodes.values()].filter((n) => placed.has(n.code));
    const g = gNodes
      .selectAll<SVGGElement, SnapshotNode>('g.node')
      .data(nodes, (n) => n.code)
      .join((enter) => {
        const e = enter.append('g').attr('class', 'node').attr('tabindex', '0').attr('role', 'button');
        e.append('circle');
        // Not by colour alone: a down node is crossed out (shape), a degraded one gets a notch.
        e.append('path').attr('class', 'fault-mark');
        e.append('title');
        e.append('text').attr('class', 'node-label');
        return e;
      });
    g.attr('transform', (n) => `translate(${placed.get(n.code)!.x},${placed.get(n.code)!.y})`)
      .attr('data-code', (n) => n.code)
      .attr('aria-label', (n) => `${n.code} ${n.name}`)
      .style('cursor', 'pointer')
      .on('click', (e: MouseEvent, n) => {
        e.stopPropagation();
        store.select({ kind: 'node', id: n.code });
      })
      .on('keydown', (e: KeyboardEvent, n) => {
        if (e.key === 'Enter') store.select({ kind: 'node', id: n.code });
      });
    g.select('circle')
      .attr('r', (n) => (n.role === 'national' ? 11 : n.role === 'regional' ? 7 : 5))
      .attr('fill', (n) => LIFECYCLE_FILL[n.lifecycle] ?? '#888')
      .attr('stroke', (n) => HEALTH_STROKE[n.health]!)
      .attr('stroke-width', (n) => (n.health === 'healthy' ? 2 : 3.5))
      .attr('class', (n) => `health-${n.health}`)
      .attr('opacity', (n) => (store.selection?.kind === 'node' && store.selection.id === n.code ? 1 : 0.95));
    g.attr('data-health', (n) => n.health).classed('down', (n) => n.health === 'down');
    g.select('path.fault-mark').attr('d', (n) => {
      const r = (n.role === 'national' ? 11 : n.role === 'regional' ? 7 : 5) + 4;
      return n.health === 'down'
        ? `M${-r},${-r}L${r},${r}M${-r},${r}L${r},${-r}`
        : n.health === 'degraded'
          ? `M0,${-r - 3}L0,${-r + 3}`
          : '';
    });
    g.select('title').text(
      (n) => `${n.code} ${n.name} · ${t('lifecycle')}: ${tv(n.lifecycle)} · ${t('health')}: ${tv(n.health)}`,
    );
    g.select<SVGTextElement>('text')
      .attr('class', (n) => (n.role === 'industry' ? 'node-label small' : 'node-label'))
      .attr('text-anchor', (n) =>
        n.role === 'national' ? 'middle' : Math.sin(placed.get(n.code)!.angle) >= 0 ? 'start' : 'end',
      )
      .attr('dx', (n) => (n.role === 'national' ? 0 : Math.sin(placed.get(n.code)!.angle) >= 0 ? 9 : -9))
      .attr('dy', (n) => (n.role === 'national' ? 24 : 3))
      .text((n) => (n.role === 'industry' ? n.code.slice(4) : n.code) + (n.health === 'down' ? ` ✕${tv('down')}` : ''));
  }

  return {
    update(state: ViewState, now: number, force = false): void {
      const resized = resize();
      if (!force && !resized && state.version === lastVersion) return;
      // Data changes are drawn ten times a second at most: the dots are data, not animation, and redrawing
      // 10,000 of them every frame is what costs (the flows on the tile map animate every frame).
      if (!force && !resized && now - drawnAt < 100) return;
      drawnAt = now;
      lastVersion = state.version;
      layout = computeLayout(state);
      drawClusters(state);
      // The SVG nodes and links change only with health, lifecycle or membership.
      const nodeStates = [...state.nodes.values()].map((n) => n.health[0]! + n.lifecycle).join();
      const linkStates = [...state.links.values()].map((l) => l.health[0]).join('');
      const signature = `${layout.key}|${store.selection?.id ?? ''}|${nodeStates}|${linkStates}|${t('topology')}`;
      if (force || resized || signature !== nodesSignature) {
        nodesSignature = signature;
        drawNodes(state);
      }
      root.dataset.clusters = String(clusterTotal(state));
      root.dataset.firstCluster = state.clusters.keys().next().value ?? '';
      legend.innerHTML = '';
      legend.append(
        el('div', {}, `● ${t('legendFill')} · ◯ ${t('legendRing')}`),
        el('div', {}, `▪ ${t('legendDots')} · ${t('legendDown')}`),
        el('div', {}, `${state.nodes.size} ${t('nodesCount')} · ${clusterTotal(state)} ${t('clustersCount')}`),
      );
    },
    /** Position of a cluster dot in page-independent stage coordinates (for tests and the drawer). */
    clusterAt(id: string): [number, number] | null {
      const i = layout?.clusterIndex.get(id);
      if (i === undefined || !layout) return null;
      return transform.apply([layout.clusterXY[2 * i]!, layout.clusterXY[2 * i + 1]!]);
    },
  };
}
