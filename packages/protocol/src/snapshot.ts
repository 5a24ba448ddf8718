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
});
export type SnapshotJob = z.output<typeof SnapshotJob>;

/**
 * The full state a viewer needs to draw the network at one moment: sent on connect to `/monitor` and written into
 * recordings at least every 10 s of virtual time so that a viewer can seek.
 */
export const TopologySnapshot = message({
  protocol: z.string().optional().describe('the protocol version, when sent on the socket'),
  at: Time,
  nodes: z.array(SnapshotNode),
  clusters: z.array(SnapshotCluster),
  links: z.array(SnapshotLink),
  jobs: z.array(SnapshotJob),
  counters: message({
    identifiersRegistered: z.number().int().nonnegative(),
    identifiersResolved: z.number().int().nonnegative(),
    jobsByState: z.record(z.string(), z.number().int().nonnegative()),
    schedulingP50Ms: NonNegative.nullable(),
    schedulingP99Ms: NonNegative.nullable(),
    securityAlerts: z.number().int().nonnegative(),
  }),
});
export type TopologySnapshot = z.output<typeof TopologySnapshot>;
