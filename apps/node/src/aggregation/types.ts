import type { ClusterReport, Health, MemberLifecycle, Price, RegisterCluster, ResourceVector } from '@cpnet/protocol';

/** A registered cluster: what the provider declared, where it lives, and its lifecycle. */
export interface ClusterSpec {
  readonly id: string;
  readonly node: string;
  readonly provider: string;
  readonly name: string;
  readonly province: string;
  readonly city: string;
  readonly industry: string | null;
  readonly resourceClass: RegisterCluster['resourceClass'];
  readonly capacity: ResourceVector;
  readonly price: Price;
  readonly pue: number;
  readonly greenShare: number;
  lifecycle: MemberLifecycle;
}

/** What a node knows of a cluster right now: its declaration, its last report and its health. */
export interface ClusterState {
  readonly spec: ClusterSpec;
  report: ClusterReport | null;
  /** When the last report was applied (node clock, ms), or null before the first. */
  lastReportAt: number | null;
  health: Health;
  /** How many reports were applied to this cluster (each exactly once). */
  reports: number;
}
