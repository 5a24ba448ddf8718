import { z } from 'zod';
import {
  Health,
  MemberLifecycle,
  message,
  NodeLifecycle,
  NodeRole,
  NonNegative,
  Prefix,
  ProvinceCode,
  Share,
  Time,
} from './primitives.ts';
import { JobState } from './scheduling.ts';

/** A node as the monitoring snapshot shows it. */
export const SnapshotNode = message({
  code: Prefix,
  role: NodeRole,
  name: z.string(),
  parent: Prefix.nullable(),
  province: ProvinceCode.nullable(),
  industry: z.string().nullable(),
  lifecycle: NodeLifecycle,
  health: Health,
  url: z.string().nullable().default(null),
});
export type SnapshotNode = z.output<typeof SnapshotNode>;

/** A cluster as the monitoring snapshot shows it: where it is, how it is, how full it is. */
export const SnapshotCluster = message({
  id: z.string(),
  node: Prefix,
  provider: z.string(),
  name: z.string(),
  province: ProvinceCode,
  lifecycle: MemberLifecycle,
  health: Health,
  cpuCores: NonNegative,
  cpuAvailable: NonNegative,
  accelerators: z.number().int().nonnegative(),
  acceleratorsAvailable: z.number().int().nonnegative(),
  utilisation: Share,
  pricePerCoreHourYuan: NonNegative,
  greenShare: Share,
});
export type SnapshotCluster = z.output<typeof SnapshotCluster>;

/** A link between a node and its parent. */
export const SnapshotLink = message({ from: Prefix, to: Prefix, health: Health, latencyMs: NonNegative.nullable() });
export type SnapshotLink = z.output<typeof SnapshotLink>;

/** A job in flight, for drawing flows (user province → cluster province). */
export const SnapshotJob = message({
  id: z.string(),
  tenant: z.string(),
  state: JobState,
  from: ProvinceCode.nullable(),
  cluster: z.string().nullable(),
  to: ProvinceCode.nullable(),
  origin: Prefix.nullable().default(null).describe('the node the job was submitted at'),
  owner: Prefix.nullable().default(null).describe('the node whose cluster runs it, when known'),
});
export type SnapshotJob = z.output<typeof SnapshotJob>;

/**
 * The clusters of one node, summed: sent in place of the node's clusters when a subtree holds more than a few
 * thousand (`GET /cpn/v1/monitor/clusters?node=` lists them on demand).
 */
export const SnapshotClusterGroup = message({
  node: Prefix,
  province: ProvinceCode.nullable(),
  clusters: z.number().int().nonnegative(),
  healthy: z.number().int().nonnegative(),
  down: z.number().int().nonnegative(),
  cpuCores: NonNegative,
  cpuAvailable: NonNegative,
  accelerators: z.number().int().nonnegative(),
  acceleratorsAvailable: z.number().int().nonnegative(),
});
export type SnapshotClusterGroup = z.output<typeof SnapshotClusterGroup>;

/**
 * The full state a viewer needs to draw the network at one moment — the node's whole subtree: every node, link,
 * cluster (or per-node sums above a few thousand) and job in flight. Sent on connect to `/monitor` and written into
 * recordings at least every 10 s of virtual time so that a viewer can seek.
 */
export const TopologySnapshot = message({
  protocol: z.string().optional().describe('the protocol version, when sent on the socket'),
  at: Time,
  nodes: z.array(SnapshotNode),
  clusters: z.array(SnapshotCluster),
  links: z.array(SnapshotLink),
  jobs: z.array(SnapshotJob),
  clusterGroups: z
    .array(SnapshotClusterGroup)
    .default([])
    .describe('per-node sums of the clusters not listed in `clusters` (only above a few thousand clusters)'),
  unreachable: z
    .array(Prefix)
    .default([])
    .describe('children that did not answer for their subtree: their part is the last one heard, or missing'),
  counters: message({
    identifiersRegistered: z.number().int().nonnegative(),
    identifiersResolved: z.number().int().nonnegative(),
    jobsByState: z.record(z.string(), z.number().int().nonnegative()),
    schedulingP50Ms: NonNegative.nullable().describe(
      "submit → dispatched of the jobs submitted at the node, wall ms; in a subtree snapshot the worst node's",
    ),
    schedulingP99Ms: NonNegative.nullable().describe(
      "submit → dispatched of the jobs submitted at the node, wall ms; in a subtree snapshot the worst node's",
    ),
    securityAlerts: z.number().int().nonnegative(),
  }),
});
export type TopologySnapshot = z.output<typeof TopologySnapshot>;
