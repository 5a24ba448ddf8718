import { isWithin } from '@cpnet/identifier';
import {
  ROUTES,
  TopologySnapshot,
  validate,
  type SnapshotCluster,
  type SnapshotClusterGroup,
  type SnapshotJob,
} from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { wallClock } from '../deps.ts';

/** Above this many clusters a snapshot sends per-node sums; `GET /cpn/v1/monitor/clusters?node=` lists them. */
export const CLUSTER_LIST_MAX = 3000;
/**
 * How long (wall ms) a node waits for its children's subtrees when nobody says otherwise: well inside the 3 s a
 * joint-debugging check gives a `/monitor` snapshot.
 */
export const SUBTREE_WAIT_MS = 1200;
/** A build this recent (wall ms) is reused: viewers connecting together share one fan-out. */
const REUSE_MS = 1000;
/** A child is asked with this share of the caller's wait, so that its own children's answers fit inside it. */
const CHILD_SHARE = 0.6;
/** Lifecycles of children that have a subtree worth asking for (granted, not revoked). */
const ASKED = new Set(['accepted', 'online', 'suspended']);

/** What `createSubtreeSnapshots` uses of the node. */
type SubtreeDeps = Pick<NodeContext, 'clientFor' | 'config' | 'db' | 'deps'> & {
  /** A child's health as its /link connection tells it (null: not known). */
  childHealth?: (prefix: string) => 'healthy' | 'degraded' | 'down' | null;
};

/** The subtree view of a node: its own snapshot merged with each child's subtree, asked over signed HTTP. */
export interface SubtreeSnapshots {
  /** The whole subtree; children are given `waitMs` (wall) in all, a slow child is reported in `unreachable`. */
  build(waitMs?: number): Promise<TopologySnapshot>;
  /** The clusters of one node from the latest build (for aggregates expanded on demand). */
  clustersOf(node: string): SnapshotCluster[];
}

type Snapshot = TopologySnapshot;

/**
 * Builds subtree snapshots. Each child answers for its own subtree (recursively), so names, lifecycles, clusters and
 * jobs come from the node that holds them; the link and health of a child are this node's view (it is the one that
 * notices a child go silent). A child that does not answer in time contributes its last answer, and is named in
 * `unreachable`. Cost: one signed GET per child per build, made only when a viewer connects (or a recorder asks).
 */
export function createSubtreeSnapshots(ctx: SubtreeDeps, own: () => Promise<Snapshot>): SubtreeSnapshots {
  const lastHeard = new Map<string, { at: number; snapshot: Snapshot }>();
  // Wall time: waits and reuse guard real links, whatever the node's (possibly virtual) clock does.
  const wall = wallClock(ctx.deps);
  let clusters: SnapshotCluster[] = [];

  async function ask(endpoint: string, waitMs: number): Promise<Snapshot | null> {
    const childWait = Math.max(100, Math.floor(waitMs * CHILD_SHARE));
    // Wall time: a network timeout guarding a real link.
    let cancel: (() => void) | undefined;
    const timeout = new Promise<null>((resolve) => {
      cancel = wall.setTimeout(() => resolve(null), waitMs);
    });
    const answer = ctx
      .clientFor(endpoint)
      .request({ method: 'GET', path: `${ROUTES.monitorSubtree}?waitMs=${childWait}`, sign: true })
      .then((r) => {
        if (!r.ok) return null;
        const v = validate(TopologySnapshot, r.value);
        return v.ok ? v.value : null;
      })
      .catch(() => null);
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      cancel?.();
    }
  }

  let inFlight: Promise<Snapshot> | null = null;
  return {
    build(waitMs = SUBTREE_WAIT_MS) {
      // Viewers connecting together share one build.
      inFlight ??= buildOnce(waitMs).finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    clustersOf(node) {
      return clusters.filter((c) => c.node === node);
    },
  };

  async function buildOnce(waitMs: number): Promise<Snapshot> {
    const [mine, peers] = await Promise.all([own(), ctx.db.peers.list({ relations: ['child'] })]);
    const asked = peers.filter((p) => ASKED.has(p.lifecycle) && p.endpoint);
    const parts = await Promise.all(
      asked.map(async (p) => {
        const held = lastHeard.get(p.prefix);
        // Wall time: a child's answer this recent is reused (sparing the links); one whose link is down is not asked
        // (it would only cost the wait), and its last answer stands, named in `unreachable`.
        if (held && wall.now() - held.at < REUSE_MS) return { prefix: p.prefix, snapshot: held.snapshot, fresh: true };
        const s = ctx.childHealth?.(p.prefix) === 'down' ? null : await ask(p.endpoint, waitMs);
        if (s) lastHeard.set(p.prefix, { at: wall.now(), snapshot: s });
        return { prefix: p.prefix, snapshot: s ?? held?.snapshot ?? null, fresh: s !== null };
      }),
    );
    const merged = merge(
      mine,
      parts.map((p) => p.snapshot).filter((s): s is Snapshot => s !== null),
    );
    merged.unreachable = [
      ...new Set([...merged.unreachable, ...parts.filter((p) => !p.fresh).map((p) => p.prefix)]),
    ].sort();
    clusters = merged.clusters;
    return limitClusters(merged);
  }
}

/** This node's snapshot with its children's subtrees: this node's own entries (its view of its children) win. */
export function merge(mine: Snapshot, children: readonly Snapshot[]): Snapshot {
  const nodes = new Map(mine.nodes.map((n) => [n.code, n]));
  const links = new Map(mine.links.map((l) => [`${l.from}>${l.to}`, l]));
  const clusters = new Map(mine.clusters.map((c) => [c.id, c]));
  const jobs = new Map(mine.jobs.map((j) => [j.id, j]));
  const groups = new Map(mine.clusterGroups.map((g) => [g.node, g]));
  const unreachable = new Set(mine.unreachable);
  const counters = { ...mine.counters, jobsByState: {} as Record<string, number> };
  for (const s of children) {
    // A child speaks for its own subtree only (its view of its parent is this node's business).
    const root = s.nodes[0]?.code;
    for (const n of s.nodes) {
      if (!root || !isWithin(n.code, root)) continue;
      const held = nodes.get(n.code);
      // The child's own entry has its name and lifecycle; this node's peer row has the health it sees.
      // A node configured without a name calls itself by its code: the name from its application is better.
      nodes.set(
        n.code,
        held ? { ...n, name: n.name === n.code ? held.name : n.name, health: worse(held.health, n.health) } : n,
      );
    }
    for (const l of s.links) if (!links.has(`${l.from}>${l.to}`)) links.set(`${l.from}>${l.to}`, l);
    for (const c of s.clusters) clusters.set(c.id, c);
    for (const g of s.clusterGroups) groups.set(g.node, g);
    // Copies of a job held at several nodes (origin, owner, the hops between): the furthest along wins, as the
    // origin's copy waits for relays.
    for (const j of s.jobs) {
      const held = jobs.get(j.id);
      if (!held || STAGE[j.state] > STAGE[held.state]) jobs.set(j.id, j);
    }
    for (const u of s.unreachable) unreachable.add(u);
    counters.identifiersRegistered += s.counters.identifiersRegistered;
    counters.securityAlerts += s.counters.securityAlerts;
    counters.identifiersResolved += s.counters.identifiersResolved;
  }
  for (const j of jobs.values()) counters.jobsByState[j.state] = (counters.jobsByState[j.state] ?? 0) + 1;
  // Latencies are measured where jobs are submitted (leaves and regional nodes), not at the node that merges: without
  // the samples a subtree's quantile is the worst of its nodes' (an upper bound, never better than any node's).
  counters.schedulingP50Ms = worst([mine, ...children].map((s) => s.counters.schedulingP50Ms));
  counters.schedulingP99Ms = worst([mine, ...children].map((s) => s.counters.schedulingP99Ms));
  return {
    ...mine,
    nodes: [...nodes.values()],
    links: [...links.values()],
    clusters: [...clusters.values()],
    jobs: [...jobs.values()],
    clusterGroups: [...groups.values()],
    unreachable: [...unreachable],
    counters,
  };
}

/** The largest of the known values, or null when none is known. */
function worst(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

const STAGE: Record<SnapshotJob['state'], number> = {
  submitted: 0,
  queued: 1,
  escalated: 2,
  replaced: 2,
  preempted: 2,
  scheduled: 3,
  confirmed: 4,
  dispatched: 5,
  running: 6,
  finished: 7,
  failed: 7,
  cancelled: 7,
};

const RANK = { healthy: 0, degraded: 1, down: 2 } as const;
const worse = (a: keyof typeof RANK, b: keyof typeof RANK) => (RANK[a] >= RANK[b] ? a : b);

/** Above CLUSTER_LIST_MAX clusters, every node's clusters are sent as one sum per node. */
export function limitClusters(s: Snapshot): Snapshot {
  if (s.clusters.length <= CLUSTER_LIST_MAX) return s;
  const groups = new Map<string, SnapshotClusterGroup>(s.clusterGroups.map((g) => [g.node, { ...g }]));
  for (const c of s.clusters) {
    const g = groups.get(c.node) ?? {
      node: c.node,
      province: c.province,
      clusters: 0,
      healthy: 0,
      down: 0,
      cpuCores: 0,
      cpuAvailable: 0,
      accelerators: 0,
      acceleratorsAvailable: 0,
    };
    g.clusters++;
    if (c.health === 'healthy') g.healthy++;
    if (c.health === 'down') g.down++;
    g.cpuCores += c.cpuCores;
    g.cpuAvailable += c.cpuAvailable;
    g.accelerators += c.accelerators;
    g.acceleratorsAvailable += c.acceleratorsAvailable;
    groups.set(c.node, g);
  }
  return { ...s, clusters: [], clusterGroups: [...groups.values()] };
}
