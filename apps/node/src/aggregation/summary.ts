import type { ResourceVector, SubtreeSummary, MarketOffer } from '@cpnet/protocol';
import { addVectors, zeroVector } from './vectors.ts';
import type { ClusterState } from './types.ts';

/** A vector being summed: its own numbers and accelerator entries (copies), sorted and cut to 32 models at the end. */
type Sum = { -readonly [K in keyof ResourceVector]: ResourceVector[K] } & {
  accelerators: {
    -readonly [K in keyof ResourceVector['accelerators'][number]]: ResourceVector['accelerators'][number][K];
  }[];
};

const copyOf = (v: ResourceVector): Sum => ({
  cpuCores: v.cpuCores,
  memoryGib: v.memoryGib,
  storageGib: v.storageGib,
  bandwidthGbps: v.bandwidthGbps,
  accelerators: v.accelerators.map((x) => ({ ...x })),
});

/** into += b, in place; accelerators per model (kind and per-card figures from the first seen). */
function addInto(into: Sum, b: ResourceVector): void {
  into.cpuCores += b.cpuCores;
  into.memoryGib += b.memoryGib;
  into.storageGib += b.storageGib;
  into.bandwidthGbps += b.bandwidthGbps;
  for (const x of b.accelerators) {
    const held = into.accelerators.find((a) => a.model === x.model);
    if (held) held.count += x.count;
    else into.accelerators.push({ ...x });
  }
}

/**
 * `addVectors`' order and cut, once at the end: keeping the 32 first models by name at every step or only at the end
 * keeps the same models with the same counts (a model cut at a step had 32 before it, which stay or give way to
 * earlier names).
 */
function settle(v: Sum): ResourceVector {
  if (v.accelerators.length > 1) v.accelerators.sort((x, y) => x.model.localeCompare(y.model));
  if (v.accelerators.length > 32) v.accelerators.length = 32;
  return v;
}

const ZERO: ResourceVector = Object.freeze({
  cpuCores: 0,
  memoryGib: 0,
  storageGib: 0,
  bandwidthGbps: 0,
  accelerators: Object.freeze([]) as unknown as ResourceVector['accelerators'],
});

/** An offer being merged: its vectors are its own. */
type Merging = Omit<MarketOffer, 'k1' | 'k2'> & { k1: Sum; k2: Sum };

/** The market key of a cluster's registration, made once per registration object (it is replaced when it changes). */
const keys = new WeakMap<ClusterState['spec'], string>();
const specKey = (spec: ClusterState['spec']): string => {
  let k = keys.get(spec);
  if (k === undefined) keys.set(spec, (k = offerKey(spec)));
  return k;
};

function offerKey(o: Pick<MarketOffer, 'node' | 'province' | 'resourceClass' | 'industry'>): string {
  return `${o.node}|${o.province}|${o.resourceClass}|${o.industry ?? ''}`;
}

/** Adds one offer's figures to another of the same key (capacity-weighted green share and PUE, sums, minimum prices). */
function mergeInto(
  into: Merging,
  add: Pick<MarketOffer, 'clusters' | 'healthy' | 'k1' | 'k2' | 'greenShare' | 'pue' | 'minPricePerCoreHourYuan'> & {
    readonly minPricePerCardHourYuan: number | null;
  },
): void {
  const w1 = into.k1.cpuCores;
  const w2 = add.k1.cpuCores;
  const w = w1 + w2;
  into.greenShare =
    w > 0 ? (into.greenShare * w1 + add.greenShare * w2) / w : Math.max(into.greenShare, add.greenShare);
  into.pue = w > 0 ? (into.pue * w1 + add.pue * w2) / w : Math.max(into.pue, add.pue);
  into.clusters += add.clusters;
  into.healthy += add.healthy;
  addInto(into.k1, add.k1);
  addInto(into.k2, add.k2);
  into.minPricePerCoreHourYuan = Math.min(into.minPricePerCoreHourYuan, add.minPricePerCoreHourYuan);
  const cardA = into.minPricePerCardHourYuan;
  const cardB = add.minPricePerCardHourYuan;
  into.minPricePerCardHourYuan = cardA === null ? cardB : cardB === null ? cardA : Math.min(cardA, cardB);
}

/**
 * Merges the offers of this node's clusters (each cluster one offer: revoked and suspended ones none) and its
 * children's, by node, province, class and industry, in that order; sorted by key. One pass with the sums kept in
 * place: no offer and no vector is built per cluster, only an offer's first (the summary runs every interval over
 * every cluster of the node).
 */
function mergeOffers(
  clusters: Iterable<ClusterState>,
  offered: ((c: ClusterState) => boolean) | undefined,
  children: Iterable<SubtreeSummary>,
): MarketOffer[] {
  const byKey = new Map<string, Merging>();
  for (const state of clusters) {
    const spec = state.spec;
    // Suspended and revoked clusters (or clusters of a suspended provider) are not on the market.
    if (spec.lifecycle === 'revoked' || spec.lifecycle === 'suspended' || offered?.(state) === false) continue;
    // Registered but never reported: its declared capacity is total, none of it is known to be available.
    const report = state.report;
    const k1 = report ? report.k1 : spec.capacity;
    const k2 = report && state.health !== 'down' ? report.k2 : ZERO;
    const price = report?.price ?? spec.price;
    const healthy = state.health === 'healthy' ? 1 : 0;
    const card = k1.accelerators.some((a) => a.count > 0) ? price.perCardHourYuan : null;
    const greenShare = report?.greenShare ?? spec.greenShare;
    const pue = report?.pue ?? spec.pue;
    const key = specKey(spec);
    const held = byKey.get(key);
    if (held) {
      const core = price.perCoreHourYuan;
      mergeInto(held, {
        clusters: 1,
        healthy,
        minPricePerCoreHourYuan: core,
        minPricePerCardHourYuan: card,
        greenShare,
        pue,
        k1,
        k2,
      });
    } else
      byKey.set(key, {
        node: spec.node,
        province: spec.province,
        resourceClass: spec.resourceClass,
        industry: spec.industry,
        clusters: 1,
        healthy,
        k1: copyOf(k1),
        k2: copyOf(k2),
        minPricePerCoreHourYuan: price.perCoreHourYuan,
        minPricePerCardHourYuan: card,
        greenShare,
        pue,
      });
  }
  for (const s of children)
    for (const o of s.offers) {
      const key = offerKey(o);
      const held = byKey.get(key);
      if (held) mergeInto(held, o);
      else byKey.set(key, { ...o, k1: copyOf(o.k1), k2: copyOf(o.k2) });
    }
  const sorted = [...byKey].sort((a, b) => a[0].localeCompare(b[0]));
  return sorted.map(([, o]) => {
    settle(o.k1);
    settle(o.k2);
    return o;
  });
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
  const offers = mergeOffers(input.clusters, input.offered, input.children);
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
