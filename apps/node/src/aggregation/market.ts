import type { MarketQuery, ResourceVector, MarketOffer } from '@cpnet/protocol';
import { addVectors, zeroVector } from './vectors.ts';

/** Whether an offer matches a query: province, resource class, accelerator model (substring, any case), price. */
function offerMatches(offer: MarketOffer, q: MarketQuery): boolean {
  if (q.province !== undefined && offer.province !== q.province) return false;
  if (q.resourceClass !== undefined && offer.resourceClass !== q.resourceClass) return false;
  if (q.maxPricePerCoreHourYuan !== undefined && offer.minPricePerCoreHourYuan > q.maxPricePerCoreHourYuan)
    return false;
  if (q.accelerator !== undefined) {
    const want = q.accelerator.toLowerCase();
    if (!offer.k1.accelerators.some((a) => a.count > 0 && a.model.toLowerCase().includes(want))) return false;
  }
  return true;
}

/** The market view: matching offers, cheapest per core-hour first, and their totals. */
export function marketView(input: { node: string; at: string; offers: readonly MarketOffer[] }, q: MarketQuery) {
  const offers = input.offers
    .filter((o) => offerMatches(o, q))
    .sort(
      (a, b) =>
        a.minPricePerCoreHourYuan - b.minPricePerCoreHourYuan ||
        a.node.localeCompare(b.node) ||
        a.province.localeCompare(b.province),
    );
  let k1: ResourceVector = zeroVector();
  let k2: ResourceVector = zeroVector();
  let clusters = 0;
  for (const o of offers) {
    k1 = addVectors(k1, o.k1);
    k2 = addVectors(k2, o.k2);
    clusters += o.clusters;
  }
  return { node: input.node, at: input.at, offers, totals: { clusters, k1, k2 } };
}
