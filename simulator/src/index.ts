/** The scenario format (zod): topology, workload, timed actions and expectations. */
export {
  Scenario,
  processModeProblems,
  Topology,
  Workload,
  JobStream,
  Action,
  Expectation,
  Step,
  Fault,
  ProviderSpec,
  ProviderTemplate,
  ClusterSpec,
  RegionSpec,
} from './scenario/schema.ts';
/** Loading a scenario from YAML with errors that name file, line and field. */
export { parseScenario, formatScenarioErrors, type ScenarioError } from './scenario/load.ts';
/** Durations in virtual time. */
export { Duration, parseDuration, formatDuration } from './scenario/duration.ts';
/** The JSON Schema of scenario files, for editors. */
export { scenarioJsonSchema } from './scenario/json-schema.ts';
/** Deterministic expansion of a topology into nodes, providers and clusters. */
export {
  expandTopology,
  ACCELERATOR_SPECS,
  type TopologyPlan,
  type PlannedNode,
  type PlannedProvider,
  type PlannedCluster,
} from './topology/expand.ts';
/** Seeded fake organisations with valid 统一社会信用代码. */
export { seededFaker, fakeCreditCode, fakeCompanyName } from './topology/fake-org.ts';
/**
 * The governed virtual clock: a kernel `Clock` that never outruns the system (the governor, shared across worker
 * threads), `max` speed, calendar advances, skewed views for clock faults.
 */
export {
  createVirtualClock,
  createGovernor,
  createThreadClock,
  processTime,
  BUSY_RATE,
  ADVANCE_SETTLE_MS,
  type VirtualClock,
  type RunClock,
  type Governor,
  type GovernorOptions,
  type GovernorStats,
  type ThreadClock,
  type LoadReporter,
  type SimClock,
  type RealTime,
  type TimerHandle,
} from './clock/virtual-clock.ts';
/** The loopback TCP proxy placed between linked nodes for fault injection. */
export {
  startLinkProxy,
  NO_FAULTS,
  type LinkProxy,
  type LinkFaults,
  type ChunkTransform,
} from './faults/link-proxy.ts';
/** The Jepsen-style history checker. */
export { createChecker, type Checker, type CheckReport, type AckedOp, type Observation } from './checker/checker.ts';
/** Recordings: JSON Lines with a header, ordered events and periodic snapshots. */
export { createRecorder, readRecording, type Recorder, type RecorderOptions } from './record/recorder.ts';
/** Opening a long recording from its index: the tail, then one snapshot line by its offset. */
export { readRecordingIndex, readSnapshotBefore, type RecordingIndex } from './record/index-reader.ts';
/** Jobs in the Alibaba cluster-trace-gpu-v2023 pod format (generated, not shipped). */
export { generateAlibabaPods, parseAlibabaPods, ALIBABA_POD_COLUMNS, type TraceJob } from './trace/alibaba.ts';
/** Fake compute clusters that run jobs on the virtual clock and report K1/K2 capacity. */
export { createFakeCluster, type FakeCluster, type RunRequest, type ChurnProfile } from './providers/fake-cluster.ts';
/** Run reports: JSON shape, JUnit XML, console summary. */
export {
  toJunitXml,
  summarise,
  samePlacementShare,
  type RunReport,
  type ExpectationResult,
  type StepResult,
} from './report/report.ts';
/** Runs a scenario end to end against real node servers. */
export { runScenario, type RunOptions, type Progress } from './runner/run.ts';
/** A simulated network of real nodes behind fault proxies. */
export { startNetwork, type Network, type NetworkOptions } from './runner/network.ts';
export type { ThreadUsage } from './runner/node-threads.ts';
/** CPU time of the calling OS thread (Linux /proc/thread-self), to split a run's CPU between its threads. */
export { threadCpuMs } from './runner/thread-cpu.ts';
/** Where the simulator puts nodes on its worker threads: the expected work of each (the scenario's) and the split. */
export { balanceThreads, estimateLoads, scenarioLoads } from './runner/balance.ts';
/** Nodes of a simulation: in this process or one OS process each (the real CLI). */
export { startSimNode, type SimNode, type SimNodeSpec } from './runner/sim-node.ts';
export { startProcessNode, killAllProcessNodes } from './runner/process-node.ts';
/** Separate hosts on one Linux machine: network namespaces on a bridge, each with its own address (root only). */
export { createLan, hostsUnavailable, removeLeftovers, type Host, type Lan } from './runner/lan.ts';
/** Applications made for simulated nodes, with rules broken on purpose. */
export { makeApplication, RULE_OF_BREAK, type Break } from './runner/application.ts';
