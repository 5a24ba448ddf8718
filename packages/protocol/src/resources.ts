import { z } from 'zod';
import {
  CreditCode,
  Health,
  Identifier,
  IndustryCode,
  MAX_QUANTITY,
  MemberLifecycle,
  message,
  NonNegative,
  Prefix,
  ProvinceCode,
  Share,
  Time,
} from './primitives.ts';

/**
 * Realistic maxima of one cluster's quantities (far above any cluster built today, far below overflow). A value
 * above one is refused with 400 naming the field; summed over any number of clusters they stay finite.
 */
export const CLUSTER_LIMITS = {
  cpuCores: 10_000_000,
  memoryGib: 100_000_000,
  storageGib: 1_000_000_000,
  bandwidthGbps: 1_000_000,
  acceleratorCount: 1_000_000,
  cardMemoryGib: 4_096,
  cardTflops: 100_000,
  perCoreHourYuan: 10_000,
  perCardHourYuan: 100_000,
  perGibHourYuan: 1_000,
  carbonIntensity: 2_000,
  latencyMs: 600_000,
  runningJobs: 10_000_000,
} as const;

const upTo = (max: number) => z.number().finite().nonnegative().max(max);
const count = (max: number) => z.number().int().nonnegative().max(max);

/** Accelerators of one model: count and per-card compute. */
export const Accelerators = message({
  model: z.string().min(1).max(100),
  kind: z.enum(['GPU', 'NPU', 'DCU', 'FPGA']).default('GPU'),
  count: count(CLUSTER_LIMITS.acceleratorCount),
  memoryGib: upTo(CLUSTER_LIMITS.cardMemoryGib).default(0),
  fp16Tflops: upTo(CLUSTER_LIMITS.cardTflops),
  fp32Tflops: upTo(CLUSTER_LIMITS.cardTflops),
});
export type Accelerators = z.output<typeof Accelerators>;

/** A capacity vector of one cluster: K1 (total) or K2 (available). */
export const ResourceVector = message({
  cpuCores: upTo(CLUSTER_LIMITS.cpuCores),
  memoryGib: upTo(CLUSTER_LIMITS.memoryGib),
  storageGib: upTo(CLUSTER_LIMITS.storageGib),
  bandwidthGbps: upTo(CLUSTER_LIMITS.bandwidthGbps),
  accelerators: z.array(Accelerators).max(32).default([]),
});
export type ResourceVector = z.output<typeof ResourceVector>;

/** Accelerators summed over clusters (counts up to `MAX_QUANTITY`). */
const AcceleratorTotals = message({
  model: z.string().min(1).max(100),
  kind: z.enum(['GPU', 'NPU', 'DCU', 'FPGA']).default('GPU'),
  count: count(MAX_QUANTITY),
  memoryGib: upTo(CLUSTER_LIMITS.cardMemoryGib).default(0),
  fp16Tflops: upTo(CLUSTER_LIMITS.cardTflops),
  fp32Tflops: upTo(CLUSTER_LIMITS.cardTflops),
});

/** A capacity vector summed over clusters (summaries, offers): each quantity up to `MAX_QUANTITY`. */
export const ResourceTotals = message({
  cpuCores: NonNegative,
  memoryGib: NonNegative,
  storageGib: NonNegative,
  bandwidthGbps: NonNegative,
  accelerators: z.array(AcceleratorTotals).max(1000).default([]),
});
export type ResourceTotals = z.output<typeof ResourceTotals>;

/** Prices in 元 per unit-hour. */
export const Price = message({
  perCoreHourYuan: upTo(CLUSTER_LIMITS.perCoreHourYuan),
  perCardHourYuan: upTo(CLUSTER_LIMITS.perCardHourYuan).default(0),
  perGibHourYuan: upTo(CLUSTER_LIMITS.perGibHourYuan).default(0),
});
export type Price = z.output<typeof Price>;

/** Resource catalogue class (401 general, 402 supercomputing, 403 intelligent computing). */
export const ResourceClass = z.enum(['401', '402', '403']);
export type ResourceClass = z.output<typeof ResourceClass>;

/** `POST /cpn/v1/providers`: a compute supplier registers with an industry or regional node. */
export const RegisterProvider = message({
  name: z.string().min(1).max(200),
  creditCode: CreditCode,
  province: ProvinceCode,
  city: z.string().min(1).max(100),
  publicKey: z.string().min(1).max(10_000),
});
export type RegisterProvider = z.output<typeof RegisterProvider>;

/** A provider as a node holds it. */
export const Provider = message({
  id: Identifier,
  name: z.string(),
  creditCode: z.string(),
  province: ProvinceCode,
  city: z.string(),
  node: Prefix,
  lifecycle: MemberLifecycle,
  health: Health,
  registeredAt: Time,
});
export type Provider = z.output<typeof Provider>;

/** `POST /cpn/v1/clusters`: a provider registers a cluster. */
export const RegisterCluster = message({
  provider: Identifier,
  name: z.string().min(1).max(200),
  province: ProvinceCode,
  city: z.string().min(1).max(100),
  industry: IndustryCode.nullable().default(null),
  resourceClass: ResourceClass,
  arch: z.enum(['x86_64', 'aarch64', 'loongarch64', 'sw_64']),
  securityLevel: z.number().int().min(1).max(5),
  capacity: ResourceVector,
  price: Price,
  pue: z.number().min(1).max(3),
  greenShare: Share,
  carbonIntensity: upTo(CLUSTER_LIMITS.carbonIntensity).describe('gCO2 per kWh of grid power'),
});
export type RegisterCluster = z.output<typeof RegisterCluster>;

/** Live metrics of a cluster. */
export const ClusterMetrics = message({
  cpuUtil: Share,
  memoryUtil: Share,
  acceleratorUtil: Share,
  latencyMs: upTo(CLUSTER_LIMITS.latencyMs),
  health: Health,
  runningJobs: count(CLUSTER_LIMITS.runningJobs).default(0),
});
export type ClusterMetrics = z.output<typeof ClusterMetrics>;

/** One cluster's entry in a gateway report. */
export const ClusterReport = message({
  cluster: Identifier,
  k1: ResourceVector,
  k2: ResourceVector,
  price: Price,
  pue: z.number().min(1).max(3),
  greenShare: Share,
  metrics: ClusterMetrics,
});
export type ClusterReport = z.output<typeof ClusterReport>;

/** The most clusters one gateway report carries in full, and the most it names unchanged. */
export const REPORT_MAX_CLUSTERS = 1000;

/**
 * `ext.unchanged` of a gateway report (capability `report-unchanged`, which the node advertises in `ext.capabilities`
 * of its gateway session): clusters whose entry is, as of the report's `at`, the one this gateway last sent in full
 * and the node acknowledged. The node applies each as that entry sent again (its liveness, its report counter, the
 * scheduler's view), so a quiet cluster costs its identifier instead of its figures. An identifier the node holds no
 * entry for is named in the acknowledgement's `ext.stale` and not applied; the gateway sends it in full next time.
 */
export const ReportUnchanged = z
  .array(Identifier)
  .max(REPORT_MAX_CLUSTERS)
  .describe('clusters whose last entry acknowledged by the node still holds (capability report-unchanged)');
export type ReportUnchanged = z.output<typeof ReportUnchanged>;

/**
 * A gateway's batched report for all its clusters (socket.io `/gateway` event `report`). It names at least one
 * cluster: in `clusters`, or in `ext.unchanged` to a node that advertised `report-unchanged`.
 */
export const CapacityReport = message({
  protocol: z.string(),
  gateway: Identifier,
  seq: z.number().int().nonnegative(),
  at: Time,
  clusters: z
    .array(ClusterReport)
    .max(REPORT_MAX_CLUSTERS)
    .describe(
      'entries that changed (all of them to a node without report-unchanged); at least one unless ext.unchanged names some',
    ),
}).superRefine((r, ctx) => {
  const unchanged = r.ext?.['unchanged'];
  // Its identifiers are checked where they are read (ReportUnchanged); here only its shape and the one-cluster rule.
  if (unchanged !== undefined && !Array.isArray(unchanged))
    ctx.addIssue({
      code: 'custom',
      path: ['ext', 'unchanged'],
      message: 'ext.unchanged is a list of cluster identifiers',
    });
  else if (r.clusters.length === 0 && !(Array.isArray(unchanged) && unchanged.length > 0))
    ctx.addIssue({
      code: 'custom',
      path: ['clusters'],
      message: 'a report names at least one cluster (in clusters or ext.unchanged)',
    });
});
export type CapacityReport = z.output<typeof CapacityReport>;

/**
 * One market offer: the clusters of one node in one province, resource class and industry, summed. Summaries carry
 * their subtree's offers upward so the national node can publish a filterable market view.
 */
export const MarketOffer = message({
  node: Prefix,
  province: ProvinceCode,
  resourceClass: ResourceClass,
  industry: IndustryCode.nullable(),
  clusters: count(MAX_QUANTITY),
  healthy: count(MAX_QUANTITY),
  k1: ResourceTotals,
  k2: ResourceTotals,
  minPricePerCoreHourYuan: upTo(CLUSTER_LIMITS.perCoreHourYuan),
  minPricePerCardHourYuan: upTo(CLUSTER_LIMITS.perCardHourYuan).nullable(),
  greenShare: Share.describe('capacity-weighted green-power share'),
  pue: z.number().min(1).max(3).describe('capacity-weighted PUE'),
});
export type MarketOffer = z.output<typeof MarketOffer>;

/** A node's summary of its subtree, sent upward. */
export const SubtreeSummary = message({
  node: Prefix,
  at: Time,
  clusters: count(MAX_QUANTITY),
  healthy: count(MAX_QUANTITY),
  byClass: z.partialRecord(
    ResourceClass,
    message({ k1: ResourceTotals, k2: ResourceTotals, minPricePerCoreHourYuan: NonNegative }),
  ),
  byProvince: z.partialRecord(
    ProvinceCode,
    message({ k1: ResourceTotals, k2: ResourceTotals, clusters: count(MAX_QUANTITY) }),
  ),
  byIndustry: z.record(z.string(), message({ clusters: count(MAX_QUANTITY) })),
  offers: z.array(MarketOffer).max(10_000).default([]).describe("the subtree's offers, for the market view"),
});
export type SubtreeSummary = z.output<typeof SubtreeSummary>;

/** `POST /cpn/v1/summaries`: a child's summaries, each with an idempotency key the parent deduplicates by. */
export const SummaryBatch = message({
  items: z
    .array(message({ key: z.string().min(1).max(200), summary: SubtreeSummary }))
    .min(1)
    .max(1000),
});
export type SummaryBatch = z.output<typeof SummaryBatch>;

/** The answer of `GET /cpn/v1/market`: the offers matching the query, cheapest first. */
export const MarketView = message({
  node: Prefix,
  at: Time,
  offers: z.array(MarketOffer),
  totals: message({ clusters: count(MAX_QUANTITY), k1: ResourceTotals, k2: ResourceTotals }),
});
export type MarketView = z.output<typeof MarketView>;

/** `GET /cpn/v1/market`: the national market view. */
export const MarketQuery = z.strictObject({
  province: ProvinceCode.optional(),
  resourceClass: ResourceClass.optional(),
  accelerator: z.string().max(100).optional(),
  maxPricePerCoreHourYuan: z.coerce.number().nonnegative().optional(),
});
export type MarketQuery = z.output<typeof MarketQuery>;
