import type {
  MonitorEvent,
  RecordingHeader,
  SnapshotCluster,
  SnapshotClusterGroup,
  SnapshotJob,
  SnapshotLink,
  SnapshotNode,
  TopologySnapshot,
} from '@cpnet/protocol';

/** Counters of the snapshot. */
export type Counters = TopologySnapshot['counters'];
/** A job in flight, with what the events told us beyond the snapshot. */
export type JobView = SnapshotJob & { explanation?: unknown; node?: string };

/** An event with its virtual time (ms since the start of the recording or of the live session). */
export interface TimedEvent {
  readonly t: number;
  readonly event: MonitorEvent;
}

/** A snapshot with its virtual time and how many events came before it in the recording. */
export interface TimedSnapshot {
  readonly t: number;
  readonly state: TopologySnapshot;
  /** Index in `Recording.events` of the first event after this snapshot. */
  readonly eventCursor: number;
}

/** A loaded, validated recording, indexed for seeking. */
export interface Recording {
  readonly header: RecordingHeader;
  readonly events: readonly TimedEvent[];
  readonly snapshots: readonly TimedSnapshot[];
  /** Virtual time of the last line. */
  readonly duration: number;
  /** Lines that failed validation and were skipped (1-based line numbers). */
  readonly skipped: readonly { line: number; message: string }[];
}

/** The network as drawn at one virtual time. Mutable maps: seeking copies a snapshot once, then applies events. */
export interface ViewState {
  t: number;
  at: string;
  nodes: Map<string, SnapshotNode>;
  clusters: Map<string, SnapshotCluster>;
  links: Map<string, SnapshotLink>;
  jobs: Map<string, JobView>;
  counters: Counters;
  /**
   * Job flow counters the nodes send upward (`job.flows`): count per `from>to>state` (provinces; '' when unknown),
   * summed since the session or recording began.
   */
  flowCounts: Map<string, number>;
  /** Per-node sums sent instead of clusters above a few thousand (the node's `GET /cpn/v1/monitor/clusters`). */
  clusterGroups: SnapshotClusterGroup[];
  /** Children that did not answer for their subtree when the snapshot was built (their part is the last heard). */
  unreachable: string[];
  /** Alerts classified apart (joint-debugging probes, nodes not yet approved): recorded, not counted as threats. */
  benignAlerts: number;
  /** Index into the recording's events of the next event to apply (replay only). */
  cursor: number;
  /** Bumped on every change so views can skip redrawing. */
  version: number;
}

/** What may be selected and shown in the details drawer. */
export type Selection =
  | { kind: 'node'; id: string }
  | { kind: 'cluster'; id: string }
  | { kind: 'job'; id: string }
  | { kind: 'identifier'; id: string }
  | { kind: 'province'; id: string };
