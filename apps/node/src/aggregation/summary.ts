import type { ResourceVector, SubtreeSummary, MarketOffer } from '@cpnet/protocol';
import { addVectors, zeroVector } from './vectors.ts';
import type { ClusterState } from './types.ts';

function capacityOf(state: ClusterState): { k1: ResourceVector; k2: ResourceVector } {
  if (state.report) return { k1: state.report.k1, k2: state.health === 'down' ? zeroVector() : state.report.k2 };
  // Registered but never reported: its declared capacity is total, none of it is known to be available.
  return { k1: state.spec.capacity, k2: zeroVector() };
}

function offerKey(o: Pick<MarketOffer, 'node' | 'province' | 'resourceClass' | 'industry'>): string {
  return `${o.node}|${o.province}|${o.resourceClass}|${o.industry ?? ''}`;
}

function mergeOffer(into: MarketOffer, add: MarketOffer): void {
  const w1 = into.k1.cpuCores;
  const w2 = add.k1.cpuCores;
  const w = w1 + w2;
  into.greenShare =
    w > 0 ? (into.greenShare * w1 + add.greenShare * w2) / w : Math.max(into.greenShare, add.greenShare);
  into.pue = w > 0 ? (into.pue * w1 + add.pue * w2) / w : Math.max(into.pue, add.pue);
  into.clusters += add.clusters;
  into.healthy += add.healthy;
  into.k1 = addVectors(into.k1, add.k1);
  into.k2 = addVectors(into.k2, add.k2);
  into.minPricePerCoreHourYuan = Math.min(into.minPricePerCoreHourYuan, add.minPricePerCoreHourYuan);
  const cardA = into.minPricePerCardHourYuan;
  const cardB = add.minPricePerCardHourYuan;
  into.minPricePerCardHourYuan = cardA === null ? cardB : cardB === null ? cardA : Math.min(cardA, cardB);
}

/** The offer one cluster contributes (revoked clusters contribute none). */
function clusterOffer(state: ClusterState): MarketOffer {
  const { k1, k2 } = capacityOf(state);
  const price = state.report?.price ?? state.spec.price;
  const hasCards = k1.accelerators.some((a) => a.count > 0);
  return {
    node: state.spec.node,
    province: state.spec.province,
    resourceClass: state.spec.resourceClass,
    industry: state.spec.industry,
    clusters: 1,
    healthy: state.health === 'healthy' ? 1 : 0,
    k1,
    k2,
    minPricePerCoreHourYuan: price.perCoreHourYuan,
    minPricePerCardHourYuan: hasCards ? price.perCardHourYuan : null,
    greenShare: state.report?.greenShare ?? state.spec.greenShare,
    pue: state.report?.pue ?? state.spec.pue,
  };
}

/** Merges offers with the same node, province, class and industry. */
function mergeOffers(offers: Iterable<MarketOffer>): MarketOffer[] {
  const byKey = new Map<string, MarketOffer>();
  for (const o of offers) {
    const key = offerKey(o);
    const held = byKey.get(key);
    if (held) mergeOffer(held, o);
    else byKey.set(key, { ...o, k1: addVectors(zeroVector(), o.k1), k2: addVectors(zeroVector(), o.k2) });
  }
  return [...byKey.values()].sort((a, b) => offerKey(a).localeCompare(offerKey(b)));
}

/**
 * A node's summary of its subtree: its own clusters on offer plus the latest summary of each child, by
 * resource class, province and industry, with the offers the market view is built from.
 */
export function summarise(input: {
  node: string;
  at: string;
  clusters: Iterable<ClusterState>;
  children: Iterable<SubtreeSummary>;
  offered?: (c: ClusterState) => boolean;
}): SubtreeSummary {
  const own: MarketOffer[] = [];
  for (const c of input.clusters) {
    // Suspended and revoked clusters (or clusters of a suspended provider) are not on the market.
    if (c.spec.lifecycle === 'revoked' || c.spec.lifecycle === 'suspended' || input.offered?.(c) === false) continue;
    own.push(clusterOffer(c));
  }
  const childOffers: MarketOffer[] = [];
  for (const s of input.children) childOffers.push(...s.offers);
  const offers = mergeOffers([...own, ...childOffers]);
  const summary: SubtreeSummary = {
    node: input.node,
    at: input.at,
    clusters: 0,
    healthy: 0,
    byClass: {},
    byProvince: {},
    byIndustry: {},
    offers,
  };
  for (const o of offers) {
    summary.clusters += o.clusters;
    summary.healthy += o.healthy;
    const cls = summary.byClass[o.resourceClass] ?? {
      k1: zeroVector(),
      k2: zeroVector(),
      minPricePerCoreHourYuan: o.minPricePerCoreHourYuan,
    };
    summary.byClass[o.resourceClass] = {
      k1: addVectors(cls.k1, o.k1),
      k2: addVectors(cls.k2, o.k2),
      minPricePerCoreHourYuan: Math.min(cls.minPricePerCoreHourYuan, o.minPricePerCoreHourYuan),
    };
    const prov = summary.byProvince[o.province] ?? { k1: zeroVector(), k2: zeroVector(), clusters: 0 };
    summary.byProvince[o.province] = {
      k1: addVectors(prov.k1, o.k1),
      k2: addVectors(prov.k2, o.k2),
      clusters: prov.clusters + o.clusters,
    };
    const ind = o.industry ?? 'none';
    summary.byIndustry[ind] = { clusters: (summary.byIndustry[ind]?.clusters ?? 0) + o.clusters };
  }
  return summary;
}
