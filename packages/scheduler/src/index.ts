// @cpnet/scheduler — compute selection (算力选择) and interconnection scheduling (互联调度). Pure: time and randomness are parameters.

/** Model types: clusters, tasks, subtree views, objectives and placement modes. */
export type {
  AcceleratorDemand,
  AcceleratorPool,
  Arch,
  Cluster,
  ClusterLifecycle,
  Criterion,
  HardConstraints,
  Health,
  Objective,
  PlacementMode,
  ReplicaDemand,
  Resources,
  SubtreeView,
  Task,
  CriterionWeights,
  TaskData,
  SpreadConstraint,
  PlacementConstraints,
} from './model.ts';
/** Data has weight: the inter-province transfer table (price, bandwidth), its defaults and checks. */
export {
  DEFAULT_TRANSFER,
  checkTransferTable,
  cheapestTransferYuan,
  cheapestTransfer,
  dataNeedOf,
  estimateTransfer,
  transferMatrix,
  type TransferTable,
  type TransferPair,
  type TransferEstimate,
  type TransferMatrix,
  type DataNeed,
} from './transfer.ts';
/** Faithful re-creations of Karmada, kube-scheduler, Kueue MultiKueue, greedy and random placement, for comparison. */
export * from './baselines/index.ts';
/** The cost model: price × resources × duration + carbon price × energy × intensity + latency penalty. */
export {
  DEFAULT_COST_MODEL,
  taskCost,
  kgCo2PerItKwh,
  estimateLatencyMs,
  type CostModel,
  type CostBreakdown,
  type CostInputs,
  type CostDemand,
} from './cost.ts';
/** Columnar (typed-array) index of clusters, updatable in place. */
export { ClusterIndex, PROVINCE_CODES } from './cluster-index.ts';
/** Objective presets, the named criterion table, and the shadow prices the expected-cost policy reads. */
export {
  CRITERIA,
  CRITERION_TABLE,
  OBJECTIVE_WEIGHTS,
  weightsFor,
  shadowPricesFor,
  type CriterionSpec,
  type ShadowPrices,
  type Weights,
} from './criteria.ts';
/** Input checks: every public function runs them and answers an InputError naming the field. */
export { checkCluster, checkTask, checkResources, isProvinceCode, type InputError, type Checked } from './validate.ts';
/** Ranking policies (expected cost, TOPSIS, weighted sum) and the plugin interfaces and registry. */
export {
  COLUMNS,
  DEFAULT_REGISTRY,
  createRegistry,
  expectedCostPolicy,
  topsisPolicy,
  weightedSumPolicy,
  type CandidateTable,
  type Column,
  type FilterPlugin,
  type PolicyContext,
  type Registry,
  type ScorePlugin,
  type ScoringPolicy,
} from './policy.ts';
/** Exclusion reasons: constraint names by code and their explanation. */
export { CONSTRAINTS, describeExclusion, type Constraint, type ExcludedCluster } from './exclusion.ts';
/** Preemption: the best plan (every hard constraint checked first, every cluster considered). */
export { planPreemption, type PreemptionPlan } from './preempt.ts';
/** Resolves a task against an index into the numbers the filter reads. */
export { resolveNeed, replicasFit, type Need } from './need.ts';
/** Dry-run selection: filter with a reason per excluded cluster, TOPSIS or weighted sum, CATS 0–10 scores, top k. */
export {
  select,
  feasibleCosts,
  measure,
  type Selection,
  type ExclusionGroup,
  type SelectOptions,
  type RankedCluster,
  type CriterionScore,
} from './select.ts';
/** Slices of capacity held by a job, and taking/giving them on the index (reservations). */
export { sliceAt, take, give, fits, type Slice } from './slices.ts';
/** Jobs and tenant quotas. */
export type { HeldJob, JobStatus, Quota, Usage, CountedJob } from './jobs.ts';
/** Why a task would break its tenant's quota given what the tenant uses, or null; the one usage count (queued work included). */
export { quotaBreach, tenantUsage, demandOf } from './jobs.ts';
/** Stateful placement: single/split/gang, reservations, preemption, quotas, failover and failback with hysteresis. */
export {
  Scheduler,
  type SchedulerOptions,
  type PlaceOutcome,
  type PlaceOptions,
  type RestoreAt,
  type Move,
  type FailbackPolicy,
  type FailedStep,
} from './scheduler.ts';
/** Batch placement minimising total cost: Lagrangian prices, regret rounding, local search. */
export { placeBatch, type BatchOptions, type BatchResult, type CapacityPrices } from './batch.ts';
/** Online placement, one task at a time in arrival order. */
export { placeOnline, type OnlineResult } from './online.ts';
/** Hierarchy: subtree summaries and ranking the child subtrees (东数西算 aware); the walk is `nextStep`'s. */
export {
  summarise,
  summariseRows,
  chooseSubtree,
  isWestern,
  type SummaryRow,
  type SubtreeChoice,
  type SubtreeDecision,
} from './hierarchy.ts';
/** The one planner for the hierarchy, pure: the next step (place here, ask a child, ask the parent, give up); the node executes it. */
export { nextStep, type Plan, type PlanRequest, type PlanStep, type PlannerView, type Refusal } from './planner.ts';
/** Fair admission to contended capacity: weighted DRF among tenants, aging priority, EASY backfill; a queue simulator. */
export {
  admit,
  admitChecked,
  agedPriority,
  checkFairOptions,
  dominantShare,
  drfEntitlements,
  simulateQueue,
  vectorOf,
  type Admission,
  type Arrival,
  type FairOptions,
  type FairVector,
  type QueueRun,
  type QueueState,
  type RunningJob,
  type WaitingJob,
} from './fair.ts';
/** Cohorts with borrowing (Kueue's model): nominal quota, borrowing and lending limits, hierarchical cohorts, reclaim. */
export {
  admitToCohort,
  admitToCohortChecked,
  checkCohortConfig,
  usageOf,
  violation,
  type CohortConfig,
  type CohortDecision,
  type CohortSpec,
  type Limit,
  type QueueSpec,
  type Workload,
} from './cohort.ts';
/** Seeded synthetic clusters and tasks for tests, the simulator and the bench. */
export {
  generateClusters,
  generateTasks,
  fitCapacity,
  userProvince,
  SYNTHETIC_MODELS,
  type ClusterGenOptions,
  type TaskGenOptions,
} from './synthetic.ts';
