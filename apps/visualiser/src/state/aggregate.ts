import type { SnapshotCluster } from '@cpnet/protocol';
import type { ViewState } from './types.ts';

/** Per-province figures for the tile map and the panels. */
interface ProvinceStats {
  nodes: number;
  clusters: number;
  clustersDown: number;
  cpuCores: number;
  meanUtilisation: number;
  meanPrice: number;
}

/** Aggregates nodes and clusters by province (clusters weighted by cores for utilisation and price). */
export function provinceStats(state: ViewState): Map<string, ProvinceStats> {
  const out = new Map<string, ProvinceStats & { uSum: number; pSum: number }>();
  const get = (code: string) => {
    let s = out.get(code);
    if (!s)
      out.set(
        code,
        (s = {
          nodes: 0,
          clusters: 0,
          clustersDown: 0,
          cpuCores: 0,
          meanUtilisation: 0,
          meanPrice: 0,
          uSum: 0,
          pSum: 0,
        }),
      );
    return s;
  };
  for (const n of state.nodes.values()) if (n.province) get(n.province).nodes++;
  for (const c of state.clusters.values()) {
    const s = get(c.province);
    s.clusters++;
    if (c.health === 'down') s.clustersDown++;
    const w = Math.max(1, c.cpuCores);
    s.cpuCores += w;
    s.uSum += c.utilisation * w;
    s.pSum += c.pricePerCoreHourYuan * w;
  }
  const result = new Map<string, ProvinceStats>();
  for (const [code, s] of out) {
    result.set(code, {
      nodes: s.nodes,
      clusters: s.clusters,
      clustersDown: s.clustersDown,
      cpuCores: s.cpuCores,
      meanUtilisation: s.cpuCores ? s.uSum / s.cpuCores : 0,
      meanPrice: s.cpuCores ? s.pSum / s.cpuCores : 0,
    });
  }
  return result;
}

/** Market rows for the service centre: clusters filtered by province and type, cheapest first. */
export function marketRows(
  state: ViewState,
  options: { province?: string; type?: 'cpu' | 'accelerator'; limit: number },
): SnapshotCluster[] {
  const rows: SnapshotCluster[] = [];
  for (const c of state.clusters.values()) {
    if (c.lifecycle !== 'active' || c.health === 'down') continue;
    if (options.province && c.province !== options.province) continue;
    if (options.type === 'accelerator' && c.accelerators === 0) continue;
    if (options.type === 'cpu' && c.accelerators > 0) continue;
    rows.push(c);
  }
  return rows
    .sort((a, b) => a.pricePerCoreHourYuan - b.pricePerCoreHourYuan || a.id.localeCompare(b.id))
    .slice(0, options.limit);
}

/** Every cluster of the network: those listed, and those a large subtree sent only as per-node sums. */
export function clusterTotal(state: ViewState): number {
  return state.clusters.size + state.clusterGroups.reduce((n, g) => n + g.clusters, 0);
}
