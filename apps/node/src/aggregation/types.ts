import type { z } from 'zod';
import type {
  ClusterReport,
  Health,
  MarketOffer,
  MemberLifecycle,
  Price,
  RegisterCluster,
  ResourceVector,
  SubtreeSummary,
} from '@cpnet/protocol';

/** A capacity vector (K1 or K2). */
export type Vector = z.output<typeof ResourceVector>;
/** One cluster's entry of a gateway report. */
export type ClusterReportT = z.output<typeof ClusterReport>;
/** A subtree summary as sent upward. */
export type Summary = z.output<typeof SubtreeSummary>;
/** One market offer. */
export type Offer = z.output<typeof MarketOffer>;
/** Health of a provider or cluster. */
export type HealthT = z.output<typeof Health>;
/** Lifecycle of a provider or cluster. */
export type MemberLifecycleT = z.output<typeof MemberLifecycle>;

/** A registered cluster: what the provider declared, where it lives, and its lifecycle. */
export interface ClusterSpec {
  readonly id: string;
  readonly node: string;
  readonly provider: string;
  readonly name: string;
  readonly province: string;
  readonly city: string;
  readonly industry: string | null;
  readonly resourceClass: z.output<typeof RegisterCluster>['resourceClass'];
  readonly capacity: Vector;
  readonly price: z.output<typeof Price>;
  readonly pue: number;
  readonly greenShare: number;
  lifecycle: MemberLifecycleT;
}

/** What a node knows of a cluster right now: its declaration, its last report and its health. */
export interface ClusterState {
  readonly spec: ClusterSpec;
  report: ClusterReportT | null;
  /** When the last report was applied (node clock, ms), or null before the first. */
  lastReportAt: number | null;
  health: HealthT;
  /** How many reports were applied to this cluster (each exactly once). */
  reports: number;
}
