import type { DataResidency } from '@cpnet/protocol';

/** CPU architecture of a cluster. */
export type Arch = 'x86_64' | 'aarch64' | 'loongarch64' | 'sw_64';
/** Lifecycle of a provider's cluster, as in the architecture. */
export type ClusterLifecycle = 'registered' | 'active' | 'suspended' | 'revoked';
/** Health, separate from lifecycle. */
export type Health = 'healthy' | 'degraded' | 'down';

/** Accelerator cards of one model in a cluster. */
export interface AcceleratorPool {
  readonly model: string;
  readonly count: number;
  /** Per card, TFLOPS. */
  readonly fp16Tflops: number;
  readonly fp32Tflops: number;
  /** Per card board power; 400 W when absent. */
  readonly tdpWatts?: number;
}

/** A resource vector: K1 (capacity) or K2 (available). */
export interface Resources {
  readonly cpuCores: number;
  readonly memoryGib: number;
  readonly storageGib: number;
  readonly bandwidthGbps: number;
  readonly accelerators: readonly AcceleratorPool[];
}

/** A compute cluster as reported by its provider's gateway. */
export interface Cluster {
  readonly id: string;
  /** The node the cluster is registered with, e.g. `CPN.51.C151`. */
  readonly nodePrefix: string;
  readonly provinceCode: string;
  readonly industry?: string;
  readonly arch: Arch;
  readonly capacity: Resources;
  readonly available: Resources;
  readonly pricePerCoreHourYuan: number;
  readonly pricePerCardHourYuan: number;
  readonly pue: number;
  /** Share of green power, 0–1. */
  readonly greenShare: number;
  /** Grid carbon intensity, gCO2/kWh (the green share is counted as zero-carbon). */
  readonly carbonIntensity: number;
  /** 0–1. */
  readonly reliability: number;
  /** 1–5 (等保-like level). */
  readonly securityLevel: number;
  readonly lifecycle: ClusterLifecycle;
  readonly health: Health;
  /** Round-trip latency to users in a province, ms; missing provinces are estimated from distance. */
  readonly latencyMsTo: Readonly<Record<string, number>>;
  /** Expected wait before a job starts, minutes (used for deadlines). */
  readonly queueWaitMinutes?: number;
}

/** Accelerator demand per replica. */
export interface AcceleratorDemand {
  /** Required model; any model when absent. */
  readonly model?: string;
  readonly count: number;
  readonly minFp16Tflops?: number;
}

/** Resources one replica needs. */
export interface ReplicaDemand {
  readonly cpuCores: number;
  readonly memoryGib: number;
  readonly storageGib?: number;
  readonly bandwidthGbps?: number;
  readonly accelerator?: AcceleratorDemand;
}

/** Hard constraints: a cluster that breaks one is excluded, with the reason. */
export interface HardConstraints {
  readonly arch?: Arch;
  readonly residency?: DataResidency;
  readonly minSecurityLevel?: number;
  /** Province of the users; latency is measured to it. */
  readonly userProvince?: string;
  readonly maxLatencyMs?: number;
  /** Whole task (all replicas), 元 per hour. */
  readonly maxPricePerHourYuan?: number;
  /** Epoch ms by which the task must finish. */
  readonly deadline?: number;
}

/** Criteria the scorer weighs. */
export type Criterion = 'cost' | 'latency' | 'carbon' | 'reliability' | 'headroom';
/** Explicit weights (normalised to sum 1). */
export type CriterionWeights = Readonly<Partial<Record<Criterion, number>>>;
/** Named objective presets. */
export type Objective = 'cost' | 'latency' | 'green' | 'balanced';
/** single: one cluster; split: replicas across clusters, partial allowed; gang: across clusters, all or none. */
export type PlacementMode = 'single' | 'split' | 'gang';

/** A task (算力需求) as the scheduler sees it; the wire's TaskTemplate is mapped onto it. */
export interface Task {
  readonly id: string;
  readonly tenant: string;
  /** Higher is more important; work of lower priority may be preempted. */
  readonly priority: number;
  readonly demand: ReplicaDemand;
  readonly replicas: number;
  readonly durationHours: number;
  readonly constraints?: HardConstraints;
  /** Soft latency bound: each ms above it costs the latency penalty. */
  readonly latencyTargetMs?: number;
  readonly objective?: Objective | CriterionWeights;
  readonly mode?: PlacementMode;
  /** 东数西算: batch work that tolerates latency may go west; waives the latency penalty and weight (not the data transfer). */
  readonly latencyTolerant?: boolean;
  /** The task's data: moving it to the cluster and its output back costs 元 and delays the start (see `TransferTable`). */
  readonly data?: TaskData;
  /** Gang locality and spread constraints (optional). */
  readonly placement?: PlacementConstraints;
}

/** Input data a task reads and the output it writes. */
export interface TaskData {
  /** GiB read before the task starts. */
  readonly inputGib: number;
  /** GB/T 2260 province the input lives in. */
  readonly province: string;
  /** GiB written, moved to `outputProvince` (default: `province`) after the task. */
  readonly outputGib?: number;
  readonly outputProvince?: string;
}

/** Spread of a split or gang job over provinces or providers (like Karmada's spreadConstraints). */
export interface SpreadConstraint {
  /** `province` or `provider` (a cluster's node prefix names its provider). */
  readonly by: 'province' | 'provider';
  readonly min?: number;
  readonly max?: number;
}

/** Gang locality, spread and ordered affinity groups for a task. */
export interface PlacementConstraints {
  /**
   * A gang's locality, tried in order: one cluster, else one province, else clusters whose pairwise latency is at most
   * `maxInterReplicaLatencyMs` (default: no bound — any province).
   */
  readonly maxInterReplicaLatencyMs?: number;
  readonly spread?: readonly SpreadConstraint[];
  /** Ordered affinity groups: the first group (a set of provinces) that can hold the job is used. */
  readonly affinityGroups?: readonly { readonly name?: string; readonly provinces: readonly string[] }[];
}

/** Aggregate of a child subtree (regional or industry node) as its parent sees it. */
export interface SubtreeView {
  readonly prefix: string;
  readonly provinces: readonly string[];
  readonly archs: readonly Arch[];
  readonly clusters: number;
  readonly available: {
    readonly cpuCores: number;
    readonly memoryGib: number;
    readonly cards: Readonly<Record<string, number>>;
  };
  /** Largest single-cluster availability, so a single placement can be judged. */
  readonly largest: {
    readonly cpuCores: number;
    readonly memoryGib: number;
    readonly cards: Readonly<Record<string, number>>;
  };
  readonly minPricePerCoreHourYuan: number;
  readonly minPricePerCardHourYuan: number;
  /** Effective carbon, kgCO2 per IT kWh (PUE and green share included), capacity-weighted mean. */
  readonly kgCo2PerItKwh: number;
  readonly maxSecurityLevel: number;
  readonly meanReliability: number;
  /** Best latency from each province into the subtree, ms. */
  readonly minLatencyMsTo: Readonly<Record<string, number>>;
  readonly health: Health;
}
